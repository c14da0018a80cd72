// fp8 E4M3 / E5M2 conversions (assembly/fp8.ts) against an independent literal formula,
// exhaustively over all codes, plus every rounding/saturation/NaN edge case.
import { fp8_decode, fp8_encode, fp8_table, FP8_E4M3, FP8_E5M2 } from "../../assembly/fp8";

// ---- independent reference: the OCP definitions, written out literally ----
function mbitsOf(format: u32): i32 { return format == FP8_E4M3 ? 3 : 2; }
function ebitsOf(format: u32): i32 { return format == FP8_E4M3 ? 4 : 5; }
function biasOf(format: u32): i32 { return format == FP8_E4M3 ? 7 : 15; }
function maxCodeOf(format: u32): u32 { return format == FP8_E4M3 ? 0x7e : 0x7b; }
function nanCodeOf(format: u32): u32 { return format == FP8_E4M3 ? 0x7f : 0x7e; }

/** 2^k by repeated exact doubling/halving. */
function pow2(k: i32): f64 {
  let r: f64 = 1.0;
  if (k >= 0) for (let i = 0; i < k; i++) r *= 2.0;
  else for (let i = 0; i < -k; i++) r /= 2.0;
  return r;
}

function expField(format: u32, code: u32): i32 { return <i32>((code >> <u32>mbitsOf(format)) & ((1 << ebitsOf(format)) - 1)); }
function manField(format: u32, code: u32): i32 { return <i32>(code & ((1 << mbitsOf(format)) - 1)); }

function isNaNCode(format: u32, code: u32): bool {
  if (format == FP8_E4M3) return (code & 0x7f) == 0x7f;
  return expField(format, code) == 31 && manField(format, code) != 0;
}
function isInfCode(format: u32, code: u32): bool {
  return format == FP8_E5M2 && expField(format, code) == 31 && manField(format, code) == 0;
}

/** sign * 2^(e - bias) * (1 + m / 2^mbits); subnormals sign * 2^(1 - bias) * (m / 2^mbits). Finite codes only. */
function literal(format: u32, code: u32): f64 {
  const sign: f64 = (code & 0x80) != 0 ? -1.0 : 1.0;
  const e = expField(format, code), m = manField(format, code);
  const frac = <f64>m / pow2(mbitsOf(format));
  if (e == 0) return sign * pow2(1 - biasOf(format)) * frac;
  return sign * pow2(e - biasOf(format)) * (1.0 + frac);
}

function bits(x: f32): u32 { return reinterpret<u32>(x); }
function f32of(b: u32): f32 { return reinterpret<f32>(b); }
function up(x: f32): f32 { return f32of(bits(x) + 1); } // next f32 away from zero
function down(x: f32): f32 { return f32of(bits(x) - 1); } // next f32 towards zero (x != 0)
function neg(x: f32): f32 { return f32of(bits(x) ^ 0x80000000); }
function enc(format: u32, b: u32): u32 { return fp8_encode(format, f32of(b)); }

/** Checks `encode(x) == code` and `encode(-x) == code | 0x80`; counts failures. */
let failures = 0;
function expectEnc(format: u32, x: f32, code: u32): void {
  const a = fp8_encode(format, x), b = fp8_encode(format, neg(x));
  if (a != code || b != (code | 0x80)) {
    if (failures < 5) trace("fp8 encode mismatch (format, value, got, got negated, want)", 5, <f64>format, <f64>x, <f64>a, <f64>b, <f64>code);
    failures++;
  }
}

describe("fp8_decode", () => {
  it("decodes all 256 codes of both formats to the literal formula (bit-exact, -0 included)", () => {
    for (let format: u32 = 0; format < 2; format++) {
      let bad = 0, nans = 0, infs = 0;
      for (let c: u32 = 0; c < 256; c++) {
        const got = fp8_decode(format, c);
        if (isNaNCode(format, c)) {
          nans++;
          if (got == got) bad++;
          if ((bits(got) >> 31) != (c >> 7)) bad++; // NaN keeps the code's sign
        } else if (isInfCode(format, c)) {
          infs++;
          if (got != ((c & 0x80) != 0 ? -Infinity : Infinity)) bad++;
        } else if (bits(got) != bits(<f32>literal(format, c))) {
          if (bad < 3) trace("decode mismatch (format, code, got, want)", 4, <f64>format, <f64>c, <f64>got, literal(format, c));
          bad++;
        }
      }
      expect<i32>(bad).toBe(0);
      expect<i32>(nans).toBe(format == FP8_E4M3 ? 2 : 6);
      expect<i32>(infs).toBe(format == FP8_E4M3 ? 0 : 2);
    }
  });

  it("gives the published OCP constants", () => {
    expect<f32>(fp8_decode(FP8_E4M3, 0x7e)).toBe(448);
    expect<f32>(fp8_decode(FP8_E4M3, 0xfe)).toBe(-448);
    expect<f32>(fp8_decode(FP8_E4M3, 0x08)).toBe(<f32>0.015625); // min normal 2^-6
    expect<f32>(fp8_decode(FP8_E4M3, 0x07)).toBe(<f32>0.013671875); // max subnormal 0.875 * 2^-6
    expect<f32>(fp8_decode(FP8_E4M3, 0x01)).toBe(<f32>0.001953125); // min subnormal 2^-9
    expect<f32>(fp8_decode(FP8_E4M3, 0x38)).toBe(1);
    expect<f32>(fp8_decode(FP8_E5M2, 0x7b)).toBe(57344);
    expect<f32>(fp8_decode(FP8_E5M2, 0x04)).toBe(<f32>6.103515625e-5); // 2^-14
    expect<f32>(fp8_decode(FP8_E5M2, 0x03)).toBe(<f32>4.57763671875e-5); // 0.75 * 2^-14
    expect<f32>(fp8_decode(FP8_E5M2, 0x01)).toBe(<f32>1.52587890625e-5); // 2^-16
    expect<f32>(fp8_decode(FP8_E5M2, 0x3c)).toBe(1);
    expect<u32>(bits(fp8_decode(FP8_E4M3, 0x80))).toBe(0x80000000);
    expect<u32>(bits(fp8_decode(FP8_E5M2, 0x80))).toBe(0x80000000);
  });

  it("uses only the low 8 bits of the code; an unknown format decodes to NaN", () => {
    expect<f32>(fp8_decode(FP8_E4M3, 0x1238)).toBe(1);
    const x = fp8_decode(2, 0x38);
    expect<bool>(x != x).toBe(true);
  });

  it("fp8_table holds fp8_decode for every code, is built once, and is 0 for unknown formats", () => {
    for (let format: u32 = 0; format < 2; format++) {
      const t = fp8_table(format);
      expect<bool>(t != 0).toBe(true);
      expect<usize>(fp8_table(format)).toBe(t);
      let bad = 0;
      for (let c: u32 = 0; c < 256; c++) {
        if (load<u32>(t + (<usize>c << 2)) != bits(fp8_decode(format, c))) bad++;
      }
      expect<i32>(bad).toBe(0);
    }
    expect<usize>(fp8_table(0)).not.toBe(fp8_table(1));
    expect<usize>(fp8_table(2)).toBe(0);
  });
});

describe("fp8_encode", () => {
  it("round-trips every finite code (-0 -> 0x80)", () => {
    for (let format: u32 = 0; format < 2; format++) {
      let bad = 0;
      for (let c: u32 = 0; c < 256; c++) {
        if (isNaNCode(format, c) || isInfCode(format, c)) continue;
        if (fp8_encode(format, fp8_decode(format, c)) != c) bad++;
        if (fp8_encode(format, <f32>literal(format, c)) != c) bad++;
      }
      expect<i32>(bad).toBe(0);
    }
    expect<u32>(fp8_encode(FP8_E4M3, -0.0)).toBe(0x80);
    expect<u32>(fp8_encode(FP8_E5M2, -0.0)).toBe(0x80);
    expect<u32>(fp8_encode(FP8_E4M3, 0.0)).toBe(0x00);
  });

  it("rounds exact midpoints to the even code, and their f32 neighbours to the nearer code", () => {
    failures = 0;
    for (let format: u32 = 0; format < 2; format++) {
      for (let c: u32 = 0; c < maxCodeOf(format); c++) {
        const mid = <f32>((literal(format, c) + literal(format, c + 1)) / 2); // exact in f32
        expectEnc(format, mid, (c & 1) == 0 ? c : c + 1);
        expectEnc(format, down(mid), c);
        expectEnc(format, up(mid), c + 1);
      }
    }
    expect<i32>(failures).toBe(0);
    // spot checks of the generic rule
    expect<u32>(fp8_encode(FP8_E4M3, 1.0625)).toBe(0x38); // 1 | 1.125: tie to 1.0 (mantissa 000)
    expect<u32>(fp8_encode(FP8_E4M3, 1.1875)).toBe(0x3a); // 1.125 | 1.25: tie to 1.25 (mantissa 010)
    expect<u32>(fp8_encode(FP8_E5M2, 1.125)).toBe(0x3c); // 1 | 1.25: tie to 1.0
    expect<u32>(fp8_encode(FP8_E5M2, 1.375)).toBe(0x3e); // 1.25 | 1.5: tie to 1.5
    // largest subnormal | smallest normal: tie goes to the (even) smallest normal
    expect<u32>(fp8_encode(FP8_E4M3, <f32>(0.9375 * 0.015625))).toBe(0x08);
    expect<u32>(fp8_encode(FP8_E5M2, <f32>(0.875 * 6.103515625e-5))).toBe(0x04);
  });

  it("handles the smallest subnormal and values that round to zero", () => {
    failures = 0;
    for (let format: u32 = 0; format < 2; format++) {
      const minSub = <f32>pow2(1 - biasOf(format) - mbitsOf(format)); // 2^-9, 2^-16
      expectEnc(format, minSub, 0x01);
      expectEnc(format, minSub * 0.5, 0x00); // half the smallest step: tie to even (0), keeps the sign
      expectEnc(format, up(minSub * 0.5), 0x01); // slightly more than half rounds up
      expectEnc(format, down(minSub * 0.5), 0x00);
      expectEnc(format, minSub * 0.25, 0x00);
      expectEnc(format, minSub * 1.5, 0x02); // 1 | 2 steps: tie to even (2)
      expectEnc(format, minSub * 2.5, 0x02); // 2 | 3 steps: tie to even (2)
      expectEnc(format, f32of(0x00000001), 0x00); // f32 subnormals
      expectEnc(format, f32of(0x007fffff), 0x00);
      expectEnc(format, f32of(0x00800000), 0x00); // f32 min normal
      expectEnc(format, 0.0, 0x00);
    }
    expect<i32>(failures).toBe(0);
  });

  it("saturates finite values above the largest finite and at the saturation midpoint", () => {
    failures = 0;
    // E4M3: 448 is the largest finite; the would-be next step 480 is the NaN pattern.
    expectEnc(FP8_E4M3, 448, 0x7e);
    expectEnc(FP8_E4M3, up(448), 0x7e);
    expectEnc(FP8_E4M3, down(464), 0x7e);
    expectEnc(FP8_E4M3, 464, 0x7e); // midpoint 448 | 480
    expectEnc(FP8_E4M3, up(464), 0x7e); // would round to 480: saturates (not NaN)
    expectEnc(FP8_E4M3, 480, 0x7e);
    expectEnc(FP8_E4M3, 1e6, 0x7e);
    expectEnc(FP8_E4M3, f32.MAX_VALUE, 0x7e);
    // E5M2: 57344 is the largest finite; the would-be next step 65536 is the Inf pattern.
    expectEnc(FP8_E5M2, 57344, 0x7b);
    expectEnc(FP8_E5M2, down(61440), 0x7b);
    expectEnc(FP8_E5M2, 61440, 0x7b); // midpoint 57344 | 65536: RNE would give 65536 (even): saturates
    expectEnc(FP8_E5M2, up(61440), 0x7b);
    expectEnc(FP8_E5M2, 65536, 0x7b);
    expectEnc(FP8_E5M2, 1e30, 0x7b);
    expectEnc(FP8_E5M2, f32.MAX_VALUE, 0x7b);
    // just below the largest finite still rounds normally
    expectEnc(FP8_E4M3, 432, 0x7e); // 416 | 448: tie to even (448, mantissa 110)
    expectEnc(FP8_E4M3, down(432), 0x7d);
    expectEnc(FP8_E4M3, 424, 0x7d);
    expectEnc(FP8_E5M2, 53248, 0x7a); // 49152 | 57344: tie to even (49152, mantissa 10)
    expect<i32>(failures).toBe(0);
  });

  it("saturates infinities to the largest finite in both formats", () => {
    expect<u32>(fp8_encode(FP8_E4M3, Infinity)).toBe(0x7e);
    expect<u32>(fp8_encode(FP8_E4M3, -Infinity)).toBe(0xfe);
    expect<u32>(fp8_encode(FP8_E5M2, Infinity)).toBe(0x7b);
    expect<u32>(fp8_encode(FP8_E5M2, -Infinity)).toBe(0xfb);
    // the E5M2 infinity codes still decode to infinities
    expect<f32>(fp8_decode(FP8_E5M2, 0x7c)).toBe(Infinity);
    expect<f32>(fp8_decode(FP8_E5M2, 0xfc)).toBe(-Infinity);
  });

  it("maps every NaN to the canonical NaN code, keeping the sign", () => {
    for (let format: u32 = 0; format < 2; format++) {
      const nan = nanCodeOf(format);
      expect<u32>(enc(format, 0x7fc00000)).toBe(nan);
      expect<u32>(enc(format, 0xffc00000)).toBe(nan | 0x80);
      expect<u32>(enc(format, 0x7f800001)).toBe(nan); // signalling
      expect<u32>(enc(format, 0xff800001)).toBe(nan | 0x80);
      expect<u32>(enc(format, 0x7fffffff)).toBe(nan);
      expect<u32>(enc(format, 0xffffffff)).toBe(nan | 0x80);
      // every NaN code decodes to a NaN that encodes back to the canonical code of its sign
      for (let c: u32 = 0; c < 256; c++) {
        if (!isNaNCode(format, c)) continue;
        expect<u32>(fp8_encode(format, fp8_decode(format, c))).toBe(nan | (c & 0x80));
      }
    }
    expect<u32>(nanCodeOf(FP8_E4M3)).toBe(0x7f);
    expect<u32>(nanCodeOf(FP8_E5M2)).toBe(0x7e);
  });

  it("agrees with a brute-force nearest search on a sweep of f32 values", () => {
    // Independent of the bit tricks: nearest finite code by exhaustive search, ties to even.
    let bad = 0;
    for (let format: u32 = 0; format < 2; format++) {
      const maxV = literal(format, maxCodeOf(format));
      let b: u32 = 0x3a000000; // ~4.9e-4 (E4M3 low end); step through ~20 binades
      if (format == FP8_E5M2) b = 0x36800000; // ~3.8e-6
      for (let i = 0; i < 6000; i++, b += 0x1a2b3) {
        const x = f32of(b);
        const a = <f64>x;
        let best: u32 = 0;
        if (a > maxV) best = maxCodeOf(format);
        else {
          let bestD: f64 = Infinity;
          for (let c: u32 = 0; c <= maxCodeOf(format); c++) {
            const d = Math.abs(literal(format, c) - a);
            if (d < bestD || (d == bestD && (c & 1) == 0)) { bestD = d; best = c; }
          }
        }
        if (fp8_encode(format, x) != best || fp8_encode(format, neg(x)) != (best | 0x80)) bad++;
      }
    }
    expect<i32>(bad).toBe(0);
  });

  it("returns 0xFFFFFFFF for an unknown format", () => {
    expect<u32>(fp8_encode(2, 1.0)).toBe(0xffffffff);
    expect<u32>(fp8_encode(0xffffffff, 1.0)).toBe(0xffffffff);
  });
});
