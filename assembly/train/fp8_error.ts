// Hybrid fp8 training buffers (see "Hybrid fp8" in host/format/spec.ts):
// - E5M2 error buffers: an i32 shared exponent k, then one E5M2 code per element; element i is
//   decode(code[i]) * 2^-k. Scaling by a power of two is exact, so the only rounding is
//   fp8_encode's (nearest, ties to even, saturating). k puts the largest magnitude in
//   [2^14, 2^15): the top of E5M2's range without reaching its largest finite 57344, leaving
//   30 binades (down to 2^-16, subnormals) below it.
// - E4M3 saved activations: the int8 input in its integer units (x_q - zeroPoint, |v| <= 255,
//   well inside E4M3's normal range), rounded to E4M3.
import { ERROR_HEADER_BYTES } from "../format";
import { fp8_encode, fp8_table, FP8_E4M3, FP8_E5M2 } from "../fp8";
import { maskBit } from "./activation_mask";

/** 2^e as an f32, e in [-126, 127]. */
// @ts-ignore: decorator
@inline function pow2(e: i32): f32 { return reinterpret<f32>(<u32>(127 + e) << 23); }

/** The shared exponent k for a buffer whose largest finite magnitude is maxAbs (0 when it is 0). */
export function e5m2_exponent(maxAbs: f32): i32 {
  if (!(maxAbs > 0) || !isFinite(maxAbs)) return 0; // zeros (or only NaN/Inf): any k, 0 by convention
  const e = <i32>(reinterpret<u32>(maxAbs) >> 23) - 127; // floor(log2) for normals; f32 subnormals give -127
  return min(126, max(-126, 14 - e));
}

/** 2^-k of an error buffer: multiply a decoded code by it to get the real error. */
export function e5m2_error_scale(buf: usize): f32 { return pow2(-load<i32>(buf)); }

/** Pointer to the codes of an error buffer. */
// @ts-ignore: decorator
@inline export function e5m2_codes(buf: usize): usize { return buf + <usize>ERROR_HEADER_BYTES; }

/** Largest finite |src[i]| of n f32 values (0 if none). */
function maxAbs_f32(src: usize, n: i32): f32 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) {
    const a = Mathf.abs(load<f32>(src + (<usize>i << 2)));
    if (a > m && isFinite(a)) m = a;
  }
  return m;
}

/** dst (E5M2 error buffer of n elements) = src (f32[n]). dst must not overlap src. */
export function e5m2_error_encode(src: usize, n: i32, dst: usize): void {
  const k = e5m2_exponent(maxAbs_f32(src, n));
  store<i32>(dst, k);
  const up = pow2(k), codes = e5m2_codes(dst);
  for (let i = 0; i < n; i++) store<u8>(codes + <usize>i, <u8>fp8_encode(FP8_E5M2, load<f32>(src + (<usize>i << 2)) * up));
}

/** dst (f32[n]) = src (E5M2 error buffer of n elements), exactly. */
export function e5m2_error_decode(src: usize, n: i32, dst: usize): void {
  const table = fp8_table(FP8_E5M2), down = e5m2_error_scale(src), codes = e5m2_codes(src);
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(table + (<usize>load<u8>(codes + <usize>i) << 2)) * down);
}

/**
 * dst += src for two E5M2 error buffers of n elements: each sum is formed in f32 (exact unless the
 * two exponents are more than ~20 binades apart), then rounded into dst's new exponent. Two passes
 * (the largest sum, then the codes), so no f32 buffer is needed.
 */
export function e5m2_error_accumulate(dst: usize, src: usize, n: i32): void {
  const table = fp8_table(FP8_E5M2);
  const dDown = e5m2_error_scale(dst), sDown = e5m2_error_scale(src);
  const d = e5m2_codes(dst), s = e5m2_codes(src);
  let m: f32 = 0;
  for (let i = 0; i < n; i++) {
    const a = Mathf.abs(sum(table, d, s, i, dDown, sDown));
    if (a > m && isFinite(a)) m = a;
  }
  const k = e5m2_exponent(m), up = pow2(k);
  for (let i = 0; i < n; i++) store<u8>(d + <usize>i, <u8>fp8_encode(FP8_E5M2, sum(table, d, s, i, dDown, sDown) * up));
  store<i32>(dst, k);
}

// @ts-ignore: decorator
@inline function sum(table: usize, d: usize, s: usize, i: i32, dDown: f32, sDown: f32): f32 {
  return load<f32>(table + (<usize>load<u8>(d + <usize>i) << 2)) * dDown + load<f32>(table + (<usize>load<u8>(s + <usize>i) << 2)) * sDown;
}

/** Zeroes the codes of an E5M2 error buffer where bit i of mask is 0 (code 0 is +0). */
export function e5m2_error_mask_apply(buf: usize, mask: usize, n: i32): void {
  const codes = e5m2_codes(buf);
  for (let i = 0; i < n; i++) if (!maskBit(mask, i)) store<u8>(codes + <usize>i, 0);
}

/** out[i] = E4M3(input[i] - zeroPoint) for n int8 values: the activation a weight gradient reads. */
export function e4m3_save_s8(input: usize, n: i32, zeroPoint: i32, out: usize): void {
  for (let i = 0; i < n; i++) {
    store<u8>(out + <usize>i, <u8>fp8_encode(FP8_E4M3, <f32>(<i32>load<i8>(input + <usize>i) - zeroPoint)));
  }
}
