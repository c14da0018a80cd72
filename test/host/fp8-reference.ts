// An independent TypeScript reference for OCP fp8 (E4M3FN = format 0, E5M2 = format 1),
// written from the OCP OFP8 v1.0 definitions, not from assembly/fp8.ts:
//   decode: the literal formula sign * 2^(e - bias) * (1 + m / 2^mbits), subnormals
//           sign * 2^(1 - bias) * (m / 2^mbits);
//   encode: classify the f32 by its bits (DataView), then find the two neighbouring fp8
//           values by binary search over the value table and pick the nearer one with
//           exact f64 arithmetic (f32 inputs, fp8 values and their differences are all
//           exact in f64), ties to the even code. Saturating mode: |x| > max finite and
//           ±Inf give ±max finite; NaN gives the canonical NaN (E4M3 0x7F, E5M2 0x7E) with
//           the input's sign; the sign of zero (and of anything that rounds to 0) is kept.

export interface Fp8Spec {
  readonly ebits: number;
  readonly mbits: number;
  readonly bias: number;
  /** Largest finite positive code. */
  readonly maxCode: number;
  /** Canonical positive NaN code. */
  readonly nanCode: number;
  /** true for E5M2 (IEEE-like: exponent all ones = Inf/NaN); false for E4M3FN (only S.1111.111 is NaN). */
  readonly ieee: boolean;
}

export const FP8_SPECS: readonly Fp8Spec[] = [
  { ebits: 4, mbits: 3, bias: 7, maxCode: 0x7e, nanCode: 0x7f, ieee: false },
  { ebits: 5, mbits: 2, bias: 15, maxCode: 0x7b, nanCode: 0x7e, ieee: true },
];

const scratch = new DataView(new ArrayBuffer(4));

export function f32Bits(x: number): number {
  scratch.setFloat32(0, x, true);
  return scratch.getUint32(0, true);
}

export function f32FromBits(bits: number): number {
  scratch.setUint32(0, bits >>> 0, true);
  return scratch.getFloat32(0, true);
}

export function refIsNaNCode(format: number, code: number): boolean {
  const s = FP8_SPECS[format];
  const mag = code & 0x7f;
  if (!s.ieee) return mag === 0x7f;
  return mag >> s.mbits === (1 << s.ebits) - 1 && (mag & ((1 << s.mbits) - 1)) !== 0;
}

/** The value of an fp8 code (a JS number, exact); NaN for NaN codes. */
export function refDecode(format: number, code: number): number {
  const s = FP8_SPECS[format];
  const sign = code & 0x80 ? -1 : 1;
  const e = (code >> s.mbits) & ((1 << s.ebits) - 1);
  const m = code & ((1 << s.mbits) - 1);
  if (refIsNaNCode(format, code)) return NaN;
  if (s.ieee && e === (1 << s.ebits) - 1) return sign * Infinity; // m === 0 here
  if (e === 0) return sign * 2 ** (1 - s.bias) * (m / 2 ** s.mbits);
  return sign * 2 ** (e - s.bias) * (1 + m / 2 ** s.mbits);
}

/** f32 (given as its bit pattern) -> fp8 code, OCP saturating conversion. */
export function refEncodeBits(format: number, bits: number): number {
  const s = FP8_SPECS[format];
  bits >>>= 0;
  const sign = bits >>> 31 ? 0x80 : 0;
  const expField = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (expField === 0xff && frac !== 0) return sign | s.nanCode;
  if (expField === 0xff) return sign | s.maxCode; // ±Inf saturates
  const a = Math.abs(f32FromBits(bits)); // exact
  const max = refDecode(format, s.maxCode);
  if (a > max) return sign | s.maxCode;
  // Largest code lo in [0, maxCode] with value(lo) <= a (values increase with the code).
  let lo = 0, hi = s.maxCode;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (refDecode(format, mid) <= a) lo = mid; else hi = mid - 1;
  }
  if (lo === s.maxCode) return sign | lo;
  const below = a - refDecode(format, lo);
  const above = refDecode(format, lo + 1) - a;
  let code: number;
  if (below < above) code = lo;
  else if (above < below) code = lo + 1;
  else code = (lo & 1) === 0 ? lo : lo + 1;
  return sign | code;
}

export function refEncode(format: number, value: number): number {
  return refEncodeBits(format, f32Bits(value));
}
