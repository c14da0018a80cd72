// OCP 8-bit floating point (OFP8, "OCP 8-bit Floating Point Specification" v1.0):
// decoding to f32, encoding from f32, and 256-entry decode tables for kernels.
//
//   format 0 = E4M3 ("E4M3FN"): S.EEEE.MMM, bias 7. No infinities; the only NaNs are
//              S.1111.111 (0x7F, 0xFF). Largest finite S.1111.110 = ±448. Smallest normal
//              2^-6; subnormals S.0000.MMM = ±M * 2^-9.
//   format 1 = E5M2: S.EEEEE.MM, bias 15, IEEE-like: infinities S.11111.00 (0x7C, 0xFC),
//              NaNs S.11111.{01,10,11}. Largest finite S.11110.11 = ±57344. Smallest
//              normal 2^-14; subnormals S.00000.MM = ±M * 2^-16.
//
// Encoding (f32 -> fp8) is the OCP *saturating* conversion:
//   - finite values round to nearest, ties to even, computed directly on the f32 bits
//     (one rounding; never through f64 or any other intermediate format);
//   - a finite value whose magnitude exceeds the largest finite fp8 value, and ±Inf, become
//     ±largest finite (E4M3: 0x7E/0xFE = ±448; E5M2: 0x7B/0xFB = ±57344) for BOTH formats.
//     Since round-to-nearest would give ±448/±57344 anyway up to the midpoint to the next
//     (unrepresentable) step, this is "clamp to max finite after rounding". E5M2's infinity
//     codes are therefore never produced by fp8_encode (they still decode to ±Inf);
//   - NaN becomes the format's canonical NaN, keeping the sign bit of the f32 NaN:
//     E4M3 0x7F / 0xFF (its only NaN codes); E5M2 0x7E / 0xFE (S.11111.10, the quiet-NaN
//     pattern: the top byte of an IEEE binary16 quiet NaN);
//   - ±0 keep their sign (as does anything that rounds to zero: -tiny -> 0x80).
// This is the same as ONNX Cast(saturate=1) and NVIDIA's __NV_SATFINITE; it is NOT PyTorch's
// default .to(float8_e4m3fn / float8_e5m2), which is non-saturating (E4M3 overflow -> NaN,
// E5M2 overflow -> Inf).
// Decoding is exact (every fp8 value is an f32). NaN codes decode to the f32 quiet NaN
// 0x7FC00000 with the code's sign bit; E5M2 infinity codes decode to ±Inf.
//
// Only the low 8 bits of `code` are used. An unknown `format` decodes to NaN, encodes to
// 0xFFFFFFFF (not a byte, so it cannot be mistaken for a code) and has no table (0).

export const FP8_E4M3: u32 = 0;
export const FP8_E5M2: u32 = 1;

/** Positive canonical NaN codes. */
export const FP8_E4M3_NAN: u32 = 0x7f;
export const FP8_E5M2_NAN: u32 = 0x7e;
/** Positive largest finite codes (448 and 57344). */
export const FP8_E4M3_MAX: u32 = 0x7e;
export const FP8_E5M2_MAX: u32 = 0x7b;

// f32 bit patterns used by the encoder.
const E4M3_MAX_BITS: u32 = 0x43e00000; // 448 = 1.75 * 2^8
const E5M2_MAX_BITS: u32 = 0x47600000; // 57344 = 1.75 * 2^15
const E4M3_MIN_NORMAL_BITS: u32 = 121 << 23; // 2^-6
const E5M2_MIN_NORMAL_BITS: u32 = 113 << 23; // 2^-14

/** x / 2^r rounded to nearest, ties to even; 1 <= r <= 31. */
// @ts-ignore: decorator
@inline
function shiftRne(x: u32, r: u32): u32 {
  const q = x >> r;
  const rem = x & ((<u32>1 << r) - 1);
  const half = <u32>1 << (r - 1);
  return q + (rem > half || (rem == half && (q & 1) != 0) ? 1 : 0);
}

/** Magnitude code (7 bits) of a finite, non-negative f32 `abs` (bits) <= the format's max finite. */
// @ts-ignore: decorator
@inline
function encodeMagnitude(abs: u32, bias: u32, mbits: u32, minNormalBits: u32): u32 {
  if (abs >= minNormalBits) {
    // Normal in fp8: re-bias the exponent in place; rounding the dropped mantissa bits
    // may carry into the exponent, which is exactly the next fp8 value.
    return shiftRne(abs - ((127 - bias) << 23), 23 - mbits);
  }
  // Subnormal (or zero) in fp8: code = value / 2^(1 - bias - mbits).
  const e32 = abs >> 23;
  if (e32 == 0) return 0; // f32 zero or subnormal: far below half the smallest fp8 step
  const r = 151 - bias - mbits - e32; // value = sig * 2^(e32 - 150)
  if (r > 24) return 0; // below half a step (sig < 2^24)
  return shiftRne((abs & 0x7fffff) | 0x800000, r);
}

/** f32 -> fp8 code (0..255), OCP saturating conversion; see the file header. */
export function fp8_encode(format: u32, value: f32): u32 {
  const bits = reinterpret<u32>(value);
  const sign = (bits >> 24) & 0x80;
  const abs = bits & 0x7fffffff;
  if (format == FP8_E4M3) {
    if (abs > 0x7f800000) return sign | FP8_E4M3_NAN;
    if (abs > E4M3_MAX_BITS) return sign | FP8_E4M3_MAX; // includes Inf
    return sign | encodeMagnitude(abs, 7, 3, E4M3_MIN_NORMAL_BITS);
  }
  if (format == FP8_E5M2) {
    if (abs > 0x7f800000) return sign | FP8_E5M2_NAN;
    if (abs > E5M2_MAX_BITS) return sign | FP8_E5M2_MAX; // includes Inf
    return sign | encodeMagnitude(abs, 15, 2, E5M2_MIN_NORMAL_BITS);
  }
  return 0xffffffff;
}

/** fp8 code -> f32 (exact); see the file header. */
export function fp8_decode(format: u32, code: u32): f32 {
  const sign = (code & 0x80) << 24;
  if (format == FP8_E4M3) {
    const e = (code >> 3) & 0xf, m = code & 7;
    if ((code & 0x7f) == 0x7f) return reinterpret<f32>(sign | 0x7fc00000);
    if (e == 0) {
      // m * 2^-9 with m < 8: normalise into an f32 normal by hand (exact).
      if (m == 0) return reinterpret<f32>(sign);
      const lz = clz<u32>(m) - 29; // leading zeros within the 3-bit field (0..2)
      const mn = (m << (lz + 1)) & 7; // mantissa after moving the leading 1 out
      return reinterpret<f32>(sign | ((127 - 7 - lz) << 23) | (mn << 20));
    }
    return reinterpret<f32>(sign | ((e + 127 - 7) << 23) | (m << 20));
  }
  if (format == FP8_E5M2) {
    const e = (code >> 2) & 0x1f, m = code & 3;
    if (e == 0x1f) return reinterpret<f32>(sign | (m == 0 ? 0x7f800000 : 0x7fc00000));
    if (e == 0) {
      if (m == 0) return reinterpret<f32>(sign);
      const lz = clz<u32>(m) - 30; // 0..1
      const mn = (m << (lz + 1)) & 3;
      return reinterpret<f32>(sign | ((127 - 15 - lz) << 23) | (mn << 21));
    }
    return reinterpret<f32>(sign | ((e + 127 - 15) << 23) | (m << 21));
  }
  return reinterpret<f32>(0x7fc00000);
}

// Decode tables: 256 f32 per format, filled on first use.
const TABLES: usize = memory.data(2 * 256 * 4, 16);
let tablesBuilt: u32 = 0; // bit f set = table of format f is filled

/** Pointer to 256 f32: entry c = fp8_decode(format, c). 0 for an unknown format. */
export function fp8_table(format: u32): usize {
  if (format > FP8_E5M2) return 0;
  const t = TABLES + (<usize>format << 10);
  const bit = <u32>1 << format;
  if ((tablesBuilt & bit) == 0) {
    for (let c: u32 = 0; c < 256; c++) store<f32>(t + (<usize>c << 2), fp8_decode(format, c));
    tablesBuilt |= bit;
  }
  return t;
}
