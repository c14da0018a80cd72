// Fixed-point helpers with exactly the rounding of TFLite's reference kernels
// (gemmlowp semantics, "double rounding": TFLITE_SINGLE_ROUNDING is not defined in TFLM's reference build).

/** gemmlowp SaturatingRoundingDoublingHighMul: round(a*b / 2^31), saturating the one overflow case. */
// @ts-ignore: decorator
@inline
export function srdhm(a: i32, b: i32): i32 {
  if (a == b && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab: i64 = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? (<i64>1 << 30) : (<i64>1 - (<i64>1 << 30));
  return <i32>((ab + nudge) / (<i64>1 << 31)); // truncating division, as in C++
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero. */
// @ts-ignore: decorator
@inline
export function roundingDivideByPOT(x: i32, exponent: i32): i32 {
  const mask: i32 = (1 << exponent) - 1;
  const remainder: i32 = x & mask;
  const threshold: i32 = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^shift (shift may be positive or negative). */
// @ts-ignore: decorator
@inline
export function multiplyByQuantizedMultiplier(x: i32, multiplier: i32, shift: i32): i32 {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(srdhm(x * (1 << leftShift), multiplier), rightShift);
}

/** TFLite MultiplyByQuantizedMultiplierGreaterThanOne. */
// @ts-ignore: decorator
@inline
export function multiplyByQuantizedMultiplierGreaterThanOne(x: i32, multiplier: i32, leftShift: i32): i32 {
  return srdhm(x * (1 << leftShift), multiplier);
}

/** gemmlowp SaturatingRoundingMultiplyByPOT for a compile-time-free exponent. */
export function saturatingRoundingMultiplyByPOT(x: i32, exponent: i32): i32 {
  if (exponent == 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold: i32 = (1 << (31 - exponent)) - 1;
  if (x > threshold) return i32.MAX_VALUE;
  if (x < -threshold) return i32.MIN_VALUE;
  return x << exponent;
}

// @ts-ignore: decorator
@inline
export function clamp(x: i32, lo: i32, hi: i32): i32 {
  return x < lo ? lo : (x > hi ? hi : x);
}
