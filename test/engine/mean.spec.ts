import { MeanParams, STATUS_OK } from "../../assembly/format";
import { mean_s8 } from "../../assembly/kernels/int8/mean";
import {
  seedRandom, fillRandomBytes, TEST_ARENA, useTestArena, staticParams, countDifferences,
  refMultiplyByQuantizedMultiplier, quantizeMultiplier, qmMultiplier, qmShift,
} from "./support";

const TEMP_SUM: usize = memory.data(4096 * 4, 16);
const IN: i32 = 0;
const OUT: i32 = 16384;
const REF: i32 = 24576;

seedRandom(0x27d4eb2f); // this spec's random stream

/**
 * reference_ops::QuantizedMeanOrSum (compute_sum = false) for int8 in plain form: walk every
 * input index, add it into the output slot it reduces to, then rescale with the
 * 1/num_elements_in_axis folded into the multiplier.
 */
function refMean(p: MeanParams): void {
  const d: StaticArray<i32> = [p.d0, p.d1, p.d2, p.d3];
  const od: StaticArray<i32> = [0, 0, 0, 0];
  let outputs = 1;
  let n: i64 = 1;
  for (let k = 0; k < 4; k++) {
    const reduced = (p.axisMask >> k) & 1;
    od[k] = reduced ? 1 : d[k];
    outputs *= od[k];
    if (reduced) n *= <i64>d[k];
  }
  for (let o = 0; o < outputs; o++) { store<i32>(TEMP_SUM + <usize>(o * 4), 0); store<i8>(TEST_ARENA + <usize>(REF + o), 0); }
  if (d[0] == 0 || d[1] == 0 || d[2] == 0 || d[3] == 0) return;
  const idx: StaticArray<i32> = [0, 0, 0, 0];
  const total = d[0] * d[1] * d[2] * d[3];
  for (let flat = 0; flat < total; flat++) {
    // unravel flat into idx (row-major)
    let rest = flat;
    for (let k = 3; k >= 0; k--) { idx[k] = rest % d[k]; rest /= d[k]; }
    let o = 0;
    for (let k = 0; k < 4; k++) o = o * od[k] + (((p.axisMask >> k) & 1) ? 0 : idx[k]);
    const at = TEMP_SUM + <usize>(o * 4);
    store<i32>(at, load<i32>(at) + <i32>load<i8>(TEST_ARENA + <usize>(IN + flat)));
  }
  let multiplier = p.multiplier;
  let outShift = p.shift;
  let shift = 0;
  while ((<i64>1 << (shift + 1)) <= n) shift++; // floor(log2 n) = 63 - clz64(n)
  shift = min(shift, 32);
  shift = min(shift, 31 + outShift);
  multiplier = <i32>((<i64>multiplier << shift) / n);
  outShift = outShift - shift;
  for (let o = 0; o < outputs; o++) {
    const shiftedSum = <i32>(<i64>load<i32>(TEMP_SUM + <usize>(o * 4)) - <i64>p.inputZeroPoint * n);
    let v = refMultiplyByQuantizedMultiplier(shiftedSum, multiplier, outShift) + p.outputZeroPoint;
    v = min(max(v, -128), 127);
    store<i8>(TEST_ARENA + <usize>(REF + o), <i8>v);
  }
}

function outputCount(p: MeanParams): i32 {
  let c = 1;
  const d: StaticArray<i32> = [p.d0, p.d1, p.d2, p.d3];
  for (let k = 0; k < 4; k++) if (((p.axisMask >> k) & 1) == 0) c *= d[k];
  return c;
}

function setup(d0: i32, d1: i32, d2: i32, d3: i32, mask: i32, inScale: f64, izp: i32, outScale: f64, ozp: i32): MeanParams {
  useTestArena();
  const p = staticParams<MeanParams>();
  p.input = IN; p.output = OUT;
  p.d0 = d0; p.d1 = d1; p.d2 = d2; p.d3 = d3; p.axisMask = mask;
  p.inputZeroPoint = izp; p.outputZeroPoint = ozp;
  // what the host computes: QuantizeMultiplier(input_scale / output_scale), no 1/n
  quantizeMultiplier(inScale / outScale);
  p.multiplier = qmMultiplier; p.shift = qmShift;
  fillRandomBytes(TEST_ARENA + <usize>IN, d0 * d1 * d2 * d3);
  memory.fill(TEST_ARENA + <usize>OUT, 0x5a, 8192);
  return p;
}
function check(p: MeanParams): void {
  refMean(p);
  expect<i32>(mean_s8(p)).toBe(STATUS_OK);
  const n = outputCount(p);
  expect<i32>(countDifferences(TEST_ARENA + <usize>OUT, TEST_ARENA + <usize>REF, n)).toBe(0);
  expect<u8>(load<u8>(TEST_ARENA + <usize>(OUT + n))).toBe(0x5a);
}
function outAt(i: i32): i32 { return <i32>load<i8>(TEST_ARENA + <usize>(OUT + i)); }
function setIn(i: i32, v: i32): void { store<i8>(TEST_ARENA + <usize>(IN + i), <i8>v); }

describe("mean", () => {
  it("averages two values with TFLM's rounding (ties go up through the high multiply)", () => {
    const p = setup(1, 1, 2, 1, 4, 0.1, 0, 0.1, 0);
    expect<i32>(p.multiplier).toBe(1 << 30);
    expect<i32>(p.shift).toBe(1);
    setIn(0, 1); setIn(1, 2);
    check(p);
    expect<i32>(outAt(0)).toBe(2); // 1.5 -> 2
    setIn(0, -1); setIn(1, -2);
    check(p);
    expect<i32>(outAt(0)).toBe(-1); // -1.5 -> -1 (SaturatingRoundingDoublingHighMul rounds ties up)
  });

  it("reduces axes {1,2} of [1,H,W,C] (global average pool)", () => {
    check(setup(1, 7, 5, 16, 0b0110, 0.05, -3, 0.05, -3));
    check(setup(1, 7, 5, 16, 0b0110, 0.05, 11, 0.02, -20)); // real multiplier 2.5: positive shift
    check(setup(2, 3, 9, 4, 0b0110, 0.01, -128, 0.045, 7)); // negative shift
    check(setup(1, 16, 16, 8, 0b0110, 0.02, 5, 0.02, 5)); // n = 256, a power of two
  });

  it("reduces other axis sets", () => {
    check(setup(2, 4, 3, 10, 0b1000, 0.03, 4, 0.02, -1)); // innermost
    check(setup(2, 4, 3, 10, 0b0001, 0.03, 4, 0.02, -1)); // outermost
    check(setup(2, 4, 3, 10, 0b0010, 0.03, 4, 0.02, -1));
    check(setup(2, 4, 3, 10, 0b1010, 0.03, 4, 0.02, -1));
    check(setup(2, 4, 3, 10, 0b1111, 0.03, 4, 0.02, -1)); // everything
    check(setup(2, 4, 3, 10, 0b0000, 0.03, 4, 0.02, -1)); // nothing: a plain requantize
  });

  it("clamps the folded shift for very small multipliers", () => {
    // in/out = 2^-28-ish: shift is about -27; n = 35 would want 5 bits, only 31 + shift = 4 allowed
    const p = setup(1, 5, 7, 3, 0b0110, 1.0, 0, 3.0e8, 0);
    expect<i32>(p.shift).toBeLessThan(-26);
    check(p);
    const q = setup(1, 5, 7, 3, 0b0110, 1.0, 0, 2.0e9, 3); // shift -30
    check(q);
  });

  it("saturates at both ends", () => {
    const p = setup(1, 4, 4, 6, 0b0110, 0.5, 0, 0.01, 0);
    for (let i = 0; i < 96; i++) setIn(i, (i % 6) < 3 ? 100 + (i % 20) : -100 - (i % 20));
    check(p);
    expect<i32>(outAt(0)).toBe(127);
    expect<i32>(outAt(5)).toBe(-128);
  });

  it("writes zeros (not the output zero point) when the input is empty", () => {
    const p = setup(1, 0, 3, 2, 0b0010, 0.1, 3, 0.1, 9);
    check(p);
    for (let i = 0; i < 6; i++) expect<i32>(outAt(i)).toBe(0);
  });
});
