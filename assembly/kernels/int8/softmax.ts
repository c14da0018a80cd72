// int8 -> int8 softmax. Bit-exact with TensorFlow Lite (Micro)'s quantized
// reference_ops::Softmax<int8_t, int8_t> (tensorflow/lite/kernels/internal/reference/softmax.h),
// i.e. gemmlowp fixed point (fixedpoint/fixedpoint.h) with kScaledDiffIntegerBits = 5 and
// kAccumulationIntegerBits = 12, and GetReciprocal from kernels/internal/common.h.
// Fixed-point values are carried as their raw i32; the Q format is noted per function.
import { SoftmaxParams, STATUS_OK, STATUS_KERNEL } from "../../format";
import { ARENA } from "../../arena";
import { srdhm, roundingDivideByPOT, multiplyByQuantizedMultiplierGreaterThanOne } from "../../quant";

const FP_ONE_Q0: i32 = i32.MAX_VALUE; // FixedPoint<int32, 0>::One()

/** gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for a positive compile-time exponent. */
// @ts-ignore: decorator
@inline
function satShiftLeft(x: i32, exponent: i32): i32 {
  const threshold: i32 = (1 << (31 - exponent)) - 1;
  return x > threshold ? i32.MAX_VALUE : (x < -threshold ? i32.MIN_VALUE : x << exponent);
}

/** gemmlowp RoundingHalfSum for int32: (a + b + sign) / 2 in 64 bits, truncating. */
// @ts-ignore: decorator
@inline
function roundingHalfSum(a: i32, b: i32): i32 {
  const sum: i64 = <i64>a + <i64>b;
  const sign: i64 = sum >= 0 ? 1 : -1;
  return <i32>((sum + sign) / 2);
}

/** exp(a) for a in [-1/4, 0); a and result in Q0.31. */
function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: i32): i32 {
  const constantTerm: i32 = 1895147668; // exp(-1/8)
  const constant1Over3: i32 = 715827883;
  const x = a + (1 << 28); // a + 1/8
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  const poly = roundingDivideByPOT(srdhm(x4Over4 + x3, constant1Over3) + x2, 1);
  return constantTerm + srdhm(constantTerm, x + poly);
}

/** gemmlowp exp_on_negative_values for FixedPoint<int32, 5> input (Q5.26); result Q0.31. */
export function expOnNegativeValuesQ5(a: i32): i32 {
  const kFractionalBits = 26;
  const kOneQuarter: i32 = 1 << (kFractionalBits - 2);
  const mask: i32 = kOneQuarter - 1;
  const aModQuarterMinusOneQuarter: i32 = (a & mask) - kOneQuarter;
  // Rescale<0> from 5 integer bits: saturating multiply by 2^5.
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(satShiftLeft(aModQuarterMinusOneQuarter, 5));
  const remainder: i32 = aModQuarterMinusOneQuarter - a;
  // Barrel shifter: exponents -2..+4 (all below kIntegerBits = 5), bit kFractionalBits + exponent.
  if (remainder & (1 << 24)) result = srdhm(result, 1672461947); // exp(-1/4)
  if (remainder & (1 << 25)) result = srdhm(result, 1302514674); // exp(-1/2)
  if (remainder & (1 << 26)) result = srdhm(result, 790015084); // exp(-1)
  if (remainder & (1 << 27)) result = srdhm(result, 290630308); // exp(-2)
  if (remainder & (1 << 28)) result = srdhm(result, 39332535); // exp(-4)
  if (remainder & (1 << 29)) result = srdhm(result, 720401); // exp(-8)
  if (remainder & (1 << 30)) result = srdhm(result, 242); // exp(-16)
  // (no -32 clamp: it only applies with more than 5 integer bits)
  return a == 0 ? FP_ONE_Q0 : result;
}

/** gemmlowp one_over_one_plus_x_for_x_in_0_1: a in Q0.31, result Q0.31. */
function oneOverOnePlusXForXIn01(a: i32): i32 {
  const halfDenominator = roundingHalfSum(a, FP_ONE_Q0); // Q0
  const constant48Over17: i32 = 1515870810; // Q2.29
  const constantNeg32Over17: i32 = -1010580540; // Q2.29
  const oneQ2: i32 = 1 << 29;
  let x: i32 = constant48Over17 + srdhm(halfDenominator, constantNeg32Over17); // Q2
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = srdhm(halfDenominator, x); // Q2
    const oneMinusHalfDenominatorTimesX = oneQ2 - halfDenominatorTimesX; // Q2
    x = x + satShiftLeft(srdhm(x, oneMinusHalfDenominatorTimesX), 2); // Q4 -> Rescale<2>
  }
  // ExactMulByPot<-1> (Q2 -> Q1, same raw), then Rescale<0>: saturating multiply by 2.
  return satShiftLeft(x, 1);
}

// Outputs of GetReciprocal (module globals: the stub runtime has no tuples).
let recipBitsOverUnit: i32 = 0;

/** TFLite GetReciprocal(x, 12, &num_bits_over_unit): returns the Q0.31 raw of the shifted scale. */
function getReciprocalQ12(x: i32): i32 {
  const headroomPlusOne = <i32>clz<u32>(<u32>x);
  recipBitsOverUnit = 12 - headroomPlusOne;
  const shiftedSumMinusOne = <i32>((<u32>x << <u32>headroomPlusOne) - (<u32>1 << 31));
  return oneOverOnePlusXForXIn01(shiftedSumMinusOne);
}

export function softmax_s8(p: SoftmaxParams): i32 {
  const input = ARENA + <usize>p.input;
  const output = ARENA + <usize>p.output;
  const rows = p.rows, depth = p.depth;
  const mult = p.inputMultiplier, leftShift = p.inputLeftShift, diffMin = p.diffMin;
  for (let r = 0; r < rows; r++) {
    const inRow = input + <usize>(r * depth);
    const outRow = output + <usize>(r * depth);
    let maxInRow: i32 = -128;
    for (let c = 0; c < depth; c++) {
      const v = <i32>load<i8>(inRow + <usize>c);
      if (v > maxInRow) maxInRow = v;
    }
    let sumOfExps: i32 = 0; // Q12.19
    for (let c = 0; c < depth; c++) {
      const diff = <i32>load<i8>(inRow + <usize>c) - maxInRow;
      if (diff >= diffMin) {
        const scaled = multiplyByQuantizedMultiplierGreaterThanOne(diff, mult, leftShift); // Q5.26
        // Rescale<12> from Q0: saturating multiply by 2^-12 = rounding divide.
        sumOfExps += roundingDivideByPOT(expOnNegativeValuesQ5(scaled), 12);
      }
    }
    const shiftedScale = getReciprocalQ12(sumOfExps);
    const exponent = recipBitsOverUnit + 31 - 8;
    if (exponent < 0 || exponent > 31) return STATUS_KERNEL; // TFLITE_CHECK in the reference
    for (let c = 0; c < depth; c++) {
      const diff = <i32>load<i8>(inRow + <usize>c) - maxInRow;
      let out: i32 = -128;
      if (diff >= diffMin) {
        const scaled = multiplyByQuantizedMultiplierGreaterThanOne(diff, mult, leftShift);
        const expIn0 = expOnNegativeValuesQ5(scaled);
        const unsat = roundingDivideByPOT(srdhm(shiftedScale, expIn0), exponent);
        out = unsat - 128;
        out = out < -128 ? -128 : (out > 127 ? 127 : out);
      }
      store<i8>(outRow + <usize>c, <i8>out);
    }
  }
  return STATUS_OK;
}
