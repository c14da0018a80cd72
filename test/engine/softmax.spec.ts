import { SoftmaxParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { softmax_s8, expOnNegativeValuesQ5 } from "../../assembly/kernels/int8/softmax";
import {
  seedRandom, xorshift32, fillRandomBytes, TEST_ARENA, useTestArena, staticParams, countDifferences,
  refSaturatingRoundingDoublingHighMul as gMul, // FixedPoint operator*
  refRoundingDivideByPOT as gRoundingDivideByPOT, quantizeMultiplier, qmMultiplier, qmShift,
} from "./support";

const IN: i32 = 0;
const OUT: i32 = 4096;
const REF: i32 = 8192;

seedRandom(0x6b8b4567); // this spec's random stream

// ---- independent transcription of gemmlowp's fixed point, generic in the integer bits ----
// A fixed-point value is its raw i32; `ib` is tIntegerBits, fractional bits are 31 - ib.
const RAW_MAX: i32 = i32.MAX_VALUE;
const RAW_MIN: i32 = i32.MIN_VALUE;

function gSaturatingRoundingMultiplyByPOT(x: i32, e: i32): i32 {
  if (e == 0) return x;
  if (e < 0) return gRoundingDivideByPOT(x, -e);
  const v = <i64>x << e;
  return v > <i64>RAW_MAX ? RAW_MAX : (v < <i64>RAW_MIN ? RAW_MIN : <i32>v);
}
function gRescale(x: i32, srcBits: i32, dstBits: i32): i32 {
  return gSaturatingRoundingMultiplyByPOT(x, srcBits - dstBits);
}
function gConstantPOT(ib: i32, exponent: i32): i32 { return 1 << (31 - ib + exponent); }
function gOne(ib: i32): i32 { return ib == 0 ? RAW_MAX : 1 << (31 - ib); }
function gRoundingHalfSum(a: i32, b: i32): i32 {
  const sum = <i64>a + <i64>b;
  const sign: i64 = sum >= 0 ? 1 : -1;
  return <i32>((sum + sign) / 2);
}

function gExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: i32): i32 { // Q0 -> Q0
  const constantTerm = 1895147668;
  const constant1Over3 = 715827883;
  const x = a + gConstantPOT(0, -3);
  const x2 = gMul(x, x);
  const x3 = gMul(x2, x);
  const x4 = gMul(x2, x2);
  const x4Over4 = gSaturatingRoundingMultiplyByPOT(x4, -2);
  const x4Over24PlusX3Over6PlusX2Over2 = gSaturatingRoundingMultiplyByPOT(gMul(x4Over4 + x3, constant1Over3) + x2, -1);
  return constantTerm + gMul(constantTerm, x + x4Over24PlusX3Over6PlusX2Over2);
}

const BARREL_EXPONENTS: StaticArray<i32> = [-2, -1, 0, 1, 2, 3, 4];
const BARREL_MULTIPLIERS: StaticArray<i32> = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];

function gExpOnNegativeValues(a: i32, ib: i32): i32 { // Q(ib) -> Q0
  const fractionalBits = 31 - ib;
  const oneQuarter = gConstantPOT(ib, -2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusOneQuarter = (a & mask) - oneQuarter;
  let result = gExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(gRescale(aModQuarterMinusOneQuarter, ib, 0));
  const remainder = aModQuarterMinusOneQuarter - a;
  for (let k = 0; k < 7; k++) {
    const exponent = BARREL_EXPONENTS[k];
    if (ib > exponent) {
      const shiftAmount = fractionalBits + exponent;
      if ((remainder & (1 << shiftAmount)) != 0) result = gMul(result, BARREL_MULTIPLIERS[k]);
    }
  }
  if (ib > 5) {
    const clampValue = -(1 << (36 - ib));
    if (a < clampValue) result = 0;
  }
  if (a == 0) result = gOne(0);
  return result;
}

function gOneOverOnePlusXForXIn01(a: i32): i32 { // Q0 -> Q0
  const halfDenominator = gRoundingHalfSum(a, gOne(0));
  const constant48Over17 = 1515870810; // Q2
  const constantNeg32Over17 = -1010580540; // Q2
  let x = constant48Over17 + gMul(halfDenominator, constantNeg32Over17); // Q0*Q2 -> Q2
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = gMul(halfDenominator, x); // Q2
    const oneMinusHalfDenominatorTimesX = gOne(2) - halfDenominatorTimesX; // Q2
    x = x + gRescale(gMul(x, oneMinusHalfDenominatorTimesX), 4, 2); // Q2*Q2 = Q4 -> Q2
  }
  return gRescale(x, 1, 0); // ExactMulByPot<-1>: the Q2 raw read as Q1, then Rescale<0>
}

let gNumBitsOverUnit: i32 = 0;
function gGetReciprocal(x: i32, xIntegerDigits: i32): i32 {
  let headroomPlusOne = 0;
  while (headroomPlusOne < 32 && ((<u32>x << headroomPlusOne) & 0x80000000) == 0) headroomPlusOne++;
  gNumBitsOverUnit = xIntegerDigits - headroomPlusOne;
  const shiftedSumMinusOne = <i32>((<u32>x << headroomPlusOne) - 0x80000000);
  return gOneOverOnePlusXForXIn01(shiftedSumMinusOne);
}

/** reference_ops::Softmax (quantized, int8 in / int8 out) written out plainly. Returns false on the exponent check. */
function refSoftmax(p: SoftmaxParams): bool {
  for (let i = 0; i < p.rows; i++) {
    let maxInRow = -128;
    for (let c = 0; c < p.depth; c++) maxInRow = max(maxInRow, <i32>load<i8>(TEST_ARENA + <usize>(IN + i * p.depth + c)));
    let sumOfExps = 0; // Q12
    for (let c = 0; c < p.depth; c++) {
      const inputDiff = <i32>load<i8>(TEST_ARENA + <usize>(IN + i * p.depth + c)) - maxInRow;
      if (inputDiff >= p.diffMin) {
        const rescaled = gMul(inputDiff * (1 << p.inputLeftShift), p.inputMultiplier); // Q5
        sumOfExps = sumOfExps + gRescale(gExpOnNegativeValues(rescaled, 5), 0, 12);
      }
    }
    const shiftedScale = gGetReciprocal(sumOfExps, 12);
    const exponent = gNumBitsOverUnit + 31 - 8;
    if (exponent < 0 || exponent > 31) return false;
    for (let c = 0; c < p.depth; c++) {
      const inputDiff = <i32>load<i8>(TEST_ARENA + <usize>(IN + i * p.depth + c)) - maxInRow;
      let out = -128;
      if (inputDiff >= p.diffMin) {
        const rescaled = gMul(inputDiff * (1 << p.inputLeftShift), p.inputMultiplier);
        const expIn0 = gExpOnNegativeValues(rescaled, 5);
        const unsat = gRoundingDivideByPOT(gMul(shiftedScale, expIn0), exponent);
        out = max(min(unsat - 128, 127), -128);
      }
      store<i8>(TEST_ARENA + <usize>(REF + i * p.depth + c), <i8>out);
    }
  }
  return true;
}

// ---- parameter preparation as TFLite's PreprocessSoftmaxScaling / CalculateInputRadius ----
function prepare(p: SoftmaxParams, rows: i32, depth: i32, inputScale: f64, beta: f64): void {
  useTestArena();
  p.input = IN; p.output = OUT; p.rows = rows; p.depth = depth;
  // QuantizeMultiplierGreaterThanOne: for a real multiplier >= 1 the same as QuantizeMultiplier
  quantizeMultiplier(min(beta * inputScale * <f64>(1 << 26), 2147483647.0));
  p.inputMultiplier = qmMultiplier;
  p.inputLeftShift = qmShift;
  p.diffMin = -<i32>Math.floor(31.0 * <f64>(1 << 26) / Math.pow(2, <f64>qmShift));
}

function params(): SoftmaxParams { return staticParams<SoftmaxParams>(); }
function fillRandom(n: i32): void { fillRandomBytes(TEST_ARENA + <usize>IN, n); }
function outAt(i: i32): i32 { return <i32>load<i8>(TEST_ARENA + <usize>(OUT + i)); }
function inAt(i: i32): i32 { return <i32>load<i8>(TEST_ARENA + <usize>(IN + i)); }
function mismatches(n: i32): i32 { return countDifferences(TEST_ARENA + <usize>OUT, TEST_ARENA + <usize>REF, n); }
function check(p: SoftmaxParams): void {
  expect<bool>(refSoftmax(p)).toBe(true);
  expect<i32>(softmax_s8(p)).toBe(STATUS_OK);
  expect<i32>(mismatches(p.rows * p.depth)).toBe(0);
}

/** Probability-domain sanity: sum near 256, monotone in the input, near the float softmax. */
function sanity(p: SoftmaxParams, scale: f64, beta: f64): void {
  for (let r = 0; r < p.rows; r++) {
    const row = r * p.depth;
    let sum = 0;
    let maxX = -128;
    for (let c = 0; c < p.depth; c++) { sum += outAt(row + c) + 128; maxX = max(maxX, inAt(row + c)); }
    expect<i32>(abs(sum - 256)).toBeLessThanOrEqual(p.depth / 2 + 2);
    let denom = 0.0;
    for (let c = 0; c < p.depth; c++) denom += Math.exp(beta * scale * <f64>(inAt(row + c) - maxX));
    for (let c = 0; c < p.depth; c++) {
      for (let d = 0; d < p.depth; d++) {
        if (inAt(row + c) > inAt(row + d)) expect<bool>(outAt(row + c) >= outAt(row + d)).toBe(true);
      }
      const diff = inAt(row + c) - maxX;
      if (diff >= p.diffMin) {
        const want = Math.exp(beta * scale * <f64>diff) / denom * 256.0 - 128.0;
        expect<f64>(Math.abs(<f64>outAt(row + c) - min(want, 127.0))).toBeLessThan(1.01);
      }
    }
  }
}

describe("softmax", () => {
  it("exp_on_negative_values agrees with the transcription and with exp()", () => {
    for (let i = 0; i < 4000; i++) {
      // raw Q5.26 values in (-32, 0]
      const a = i == 0 ? 0 : -<i32>(xorshift32() & 0x7fffffff);
      const k = expOnNegativeValuesQ5(a);
      expect<i32>(k).toBe(gExpOnNegativeValues(a, 5));
      const want = Math.exp(<f64>a / 67108864.0);
      expect<f64>(Math.abs(<f64>k / 2147483648.0 - want)).toBeLessThan(1e-6);
    }
    expect<i32>(expOnNegativeValuesQ5(0)).toBe(i32.MAX_VALUE);
  });

  it("matches the reference on random rows (input scale 1/16)", () => {
    const p = params();
    prepare(p, 6, 10, 0.0625, 1.0);
    expect<i32>(p.inputMultiplier).toBe(1 << 30);
    expect<i32>(p.inputLeftShift).toBe(23);
    expect<i32>(p.diffMin).toBe(-248);
    fillRandom(60);
    check(p);
    sanity(p, 0.0625, 1.0);
  });

  it("matches the reference with a non power of two scale and beta", () => {
    const p = params();
    prepare(p, 5, 37, 0.1, 1.0);
    fillRandom(5 * 37);
    check(p);
    sanity(p, 0.1, 1.0);
    prepare(p, 4, 16, 0.0390625, 0.7);
    fillRandom(64);
    check(p);
    sanity(p, 0.0390625, 0.7);
  });

  it("cuts off inputs below diffMin", () => {
    const p = params();
    prepare(p, 8, 12, 0.25, 1.0);
    expect<i32>(p.diffMin).toBe(-62);
    fillRandom(96);
    check(p);
    sanity(p, 0.25, 1.0);
    let cut = 0;
    for (let r = 0; r < 8; r++) {
      let m = -128;
      for (let c = 0; c < 12; c++) m = max(m, inAt(r * 12 + c));
      for (let c = 0; c < 12; c++) {
        if (inAt(r * 12 + c) - m < -62) { expect<i32>(outAt(r * 12 + c)).toBe(-128); cut++; }
      }
    }
    expect<i32>(cut).toBeGreaterThan(0);
    // an explicit small diffMin: everything more than 5 below the row max is dropped
    prepare(p, 8, 12, 0.0625, 1.0);
    p.diffMin = -5;
    fillRandom(96);
    check(p);
  });

  it("gives equal outputs for a row of equal values", () => {
    const p = params();
    prepare(p, 3, 4, 0.1, 1.0);
    for (let c = 0; c < 4; c++) { store<i8>(TEST_ARENA + <usize>(IN + c), 17); store<i8>(TEST_ARENA + <usize>(IN + 4 + c), -128); store<i8>(TEST_ARENA + <usize>(IN + 8 + c), 127); }
    check(p);
    for (let i = 0; i < 12; i++) expect<i32>(outAt(i)).toBe(-64); // 256/4 - 128
    prepare(p, 1, 10, 0.1, 1.0);
    for (let c = 0; c < 10; c++) store<i8>(TEST_ARENA + <usize>(IN + c), -3);
    check(p);
    for (let c = 1; c < 10; c++) expect<i32>(outAt(c)).toBe(outAt(0));
    sanity(p, 0.1, 1.0);
  });

  it("saturates a certain class at 127 and handles depth 1", () => {
    const p = params();
    prepare(p, 1, 5, 0.25, 1.0);
    store<i8>(TEST_ARENA + <usize>IN, 127);
    for (let c = 1; c < 5; c++) store<i8>(TEST_ARENA + <usize>(IN + c), -128);
    check(p);
    expect<i32>(outAt(0)).toBe(127);
    for (let c = 1; c < 5; c++) expect<i32>(outAt(c)).toBe(-128);
    prepare(p, 3, 1, 0.1, 1.0);
    fillRandom(3);
    check(p);
    for (let r = 0; r < 3; r++) expect<i32>(outAt(r)).toBe(127);
  });

  it("rejects rows whose exponent sum leaves the output format (TFLITE_CHECK)", () => {
    const p = params();
    prepare(p, 1, 600, 0.1, 1.0); // 600 equal values: sum of exps 600 > 2^9
    for (let c = 0; c < 600; c++) store<i8>(TEST_ARENA + <usize>(IN + c), 5);
    expect<bool>(refSoftmax(p)).toBe(false);
    expect<i32>(softmax_s8(p)).toBe(STATUS_KERNEL);
    prepare(p, 1, 500, 0.1, 1.0); // 500 < 512 still fits
    expect<bool>(refSoftmax(p)).toBe(true);
    expect<i32>(softmax_s8(p)).toBe(STATUS_OK);
    expect<i32>(mismatches(500)).toBe(0);
  });
});
