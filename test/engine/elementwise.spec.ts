import { ElementwiseParams, STATUS_OK } from "../../assembly/format";
import { add_s8, mul_s8 } from "../../assembly/kernels/int8/elementwise";
import {
  seedRandom, fillRandomBytes, TEST_ARENA, useTestArena, staticParams, countDifferences,
  refSaturatingRoundingDoublingHighMul, refRoundingDivideByPOT, refMultiplyByQuantizedMultiplier,
  quantizeMultiplier, qmMultiplier, qmShift,
} from "./support";

const IN1: i32 = 0;
const IN2: i32 = 8192;
const OUT: i32 = 16384;
const REF: i32 = 24576;

seedRandom(0x2545f491); // this spec's random stream
function fillRandom(at: i32, n: i32): void { fillRandomBytes(TEST_ARENA + <usize>at, n); }

// ---- plain reference (TFLite's AddFunc / MulElementwise) ----
function refAdd(p: ElementwiseParams, x1: i32, x2: i32): i32 {
  const a = (p.input1Offset + x1) << p.leftShift;
  const b = (p.input2Offset + x2) << p.leftShift;
  const sa = refRoundingDivideByPOT(refSaturatingRoundingDoublingHighMul(a, p.input1Multiplier), -p.input1Shift);
  const sb = refRoundingDivideByPOT(refSaturatingRoundingDoublingHighMul(b, p.input2Multiplier), -p.input2Shift);
  const raw = refRoundingDivideByPOT(refSaturatingRoundingDoublingHighMul(sa + sb, p.outputMultiplier), -p.outputShift) + p.outputOffset;
  return min(p.actMax, max(p.actMin, raw));
}
function refMul(p: ElementwiseParams, x1: i32, x2: i32): i32 {
  const prod = (p.input1Offset + x1) * (p.input2Offset + x2);
  const raw = refMultiplyByQuantizedMultiplier(prod, p.outputMultiplier, p.outputShift) + p.outputOffset;
  return min(p.actMax, max(p.actMin, raw));
}

function params(): ElementwiseParams { return staticParams<ElementwiseParams>(); }

function shape(p: ElementwiseParams, d0: i32, d1: i32, d2: i32, d3: i32): void {
  useTestArena();
  p.input1 = IN1; p.input2 = IN2; p.output = OUT;
  p.d0 = d0; p.d1 = d1; p.d2 = d2; p.d3 = d3;
}
function strides1(p: ElementwiseParams, s0: i32, s1: i32, s2: i32, s3: i32): void {
  p.s1_0 = s0; p.s1_1 = s1; p.s1_2 = s2; p.s1_3 = s3;
}
function strides2(p: ElementwiseParams, s0: i32, s1: i32, s2: i32, s3: i32): void {
  p.s2_0 = s0; p.s2_1 = s1; p.s2_2 = s2; p.s2_3 = s3;
}
function dense(p: ElementwiseParams): void {
  strides1(p, p.d1 * p.d2 * p.d3, p.d2 * p.d3, p.d3, 1);
  strides2(p, p.d1 * p.d2 * p.d3, p.d2 * p.d3, p.d3, 1);
}

/** TFLite's ADD parameter preparation from scales (left_shift 20). */
function addQuant(p: ElementwiseParams, s1: f64, zp1: i32, s2: f64, zp2: i32, so: f64, zpo: i32): void {
  p.leftShift = 20;
  const twiceMax = 2 * max(s1, s2);
  quantizeMultiplier(s1 / twiceMax); p.input1Multiplier = qmMultiplier; p.input1Shift = qmShift;
  quantizeMultiplier(s2 / twiceMax); p.input2Multiplier = qmMultiplier; p.input2Shift = qmShift;
  quantizeMultiplier(twiceMax / (<f64>(1 << 20) * so)); p.outputMultiplier = qmMultiplier; p.outputShift = qmShift;
  p.input1Offset = -zp1; p.input2Offset = -zp2; p.outputOffset = zpo;
  p.actMin = -128; p.actMax = 127;
}
function mulQuant(p: ElementwiseParams, s1: f64, zp1: i32, s2: f64, zp2: i32, so: f64, zpo: i32): void {
  quantizeMultiplier(s1 * s2 / so); p.outputMultiplier = qmMultiplier; p.outputShift = qmShift;
  p.input1Offset = -zp1; p.input2Offset = -zp2; p.outputOffset = zpo;
  p.actMin = -128; p.actMax = 127;
}

/** Computes the reference into REF by walking the output index and the strided inputs. */
function reference(p: ElementwiseParams, isAdd: bool): void {
  let o = 0;
  for (let i0 = 0; i0 < p.d0; i0++) for (let i1 = 0; i1 < p.d1; i1++) for (let i2 = 0; i2 < p.d2; i2++) for (let i3 = 0; i3 < p.d3; i3++) {
    const x1 = <i32>load<i8>(TEST_ARENA + <usize>(IN1 + i0 * p.s1_0 + i1 * p.s1_1 + i2 * p.s1_2 + i3 * p.s1_3));
    const x2 = <i32>load<i8>(TEST_ARENA + <usize>(IN2 + i0 * p.s2_0 + i1 * p.s2_1 + i2 * p.s2_2 + i3 * p.s2_3));
    store<i8>(TEST_ARENA + <usize>(REF + o), <i8>(isAdd ? refAdd(p, x1, x2) : refMul(p, x1, x2)));
    o++;
  }
}
function mismatches(p: ElementwiseParams): i32 {
  return countDifferences(TEST_ARENA + <usize>OUT, TEST_ARENA + <usize>REF, p.d0 * p.d1 * p.d2 * p.d3);
}
function countValue(p: ElementwiseParams, v: i8): i32 {
  const n = p.d0 * p.d1 * p.d2 * p.d3;
  let k = 0;
  for (let i = 0; i < n; i++) if (load<i8>(TEST_ARENA + <usize>(OUT + i)) == v) k++;
  return k;
}
function checkAdd(p: ElementwiseParams): void {
  reference(p, true);
  expect<i32>(add_s8(p)).toBe(STATUS_OK);
  expect<i32>(mismatches(p)).toBe(0);
}
function checkMul(p: ElementwiseParams): void {
  reference(p, false);
  expect<i32>(mul_s8(p)).toBe(STATUS_OK);
  expect<i32>(mismatches(p)).toBe(0);
}

describe("add", () => {
  it("matches the reference on dense same-shape inputs", () => {
    const p = params();
    shape(p, 1, 7, 9, 5); dense(p);
    fillRandom(IN1, 315); fillRandom(IN2, 315);
    addQuant(p, 0.05, -3, 0.11, 17, 0.09, 5);
    checkAdd(p);
    // equal scales, zero points at the extremes
    addQuant(p, 0.02, -128, 0.02, 127, 0.04, -128);
    checkAdd(p);
  });

  it("adds two equal values exactly when scales line up", () => {
    const p = params();
    shape(p, 1, 1, 1, 4); dense(p);
    addQuant(p, 0.5, 0, 0.5, 0, 1.0, 0);
    for (let i = 0; i < 4; i++) { store<i8>(TEST_ARENA + <usize>(IN1 + i), <i8>(10 * i - 20)); store<i8>(TEST_ARENA + <usize>(IN2 + i), <i8>(6 - 2 * i)); }
    expect<i32>(add_s8(p)).toBe(STATUS_OK);
    // 0.5*x1 + 0.5*x2 in units of 1.0
    expect<i8>(load<i8>(TEST_ARENA + <usize>OUT)).toBe(-7);
    expect<i8>(load<i8>(TEST_ARENA + <usize>OUT + 1)).toBe(-3); // -5 + 2
    expect<i8>(load<i8>(TEST_ARENA + <usize>OUT + 2)).toBe(1); // 0.5*0 + 0.5*2 = 1
    expect<i8>(load<i8>(TEST_ARENA + <usize>OUT + 3)).toBe(5); // 5 + 0 = 5
  });

  it("broadcasts a [1,1,1,C] operand against [1,H,W,C] (either side)", () => {
    const p = params();
    shape(p, 1, 6, 5, 8);
    strides1(p, 240, 40, 8, 1); strides2(p, 0, 0, 0, 1);
    fillRandom(IN1, 240); fillRandom(IN2, 8);
    addQuant(p, 0.07, 4, 0.03, -9, 0.08, -2);
    checkAdd(p);
    strides1(p, 0, 0, 0, 1); strides2(p, 240, 40, 8, 1);
    fillRandom(IN1, 8); fillRandom(IN2, 240);
    checkAdd(p);
    // [1,H,1,C] and a scalar
    strides1(p, 0, 8, 0, 1); strides2(p, 0, 0, 0, 0);
    checkAdd(p);
  });

  it("saturates at both ends and honours the activation range", () => {
    const p = params();
    shape(p, 2, 3, 4, 5); dense(p);
    // large input scales against a tiny output scale: almost everything saturates
    addQuant(p, 0.5, 0, 0.5, 0, 0.01, 0);
    fillRandom(IN1, 120); fillRandom(IN2, 120);
    checkAdd(p);
    expect<i32>(countValue(p, 127)).toBeGreaterThan(0);
    expect<i32>(countValue(p, -128)).toBeGreaterThan(0);
    p.actMin = -10; p.actMax = 20;
    checkAdd(p);
    expect<i32>(countValue(p, 20) + countValue(p, -10)).toBeGreaterThan(0);
  });
});

describe("mul", () => {
  it("matches the reference with a negative output shift", () => {
    const p = params();
    shape(p, 1, 5, 6, 7); dense(p);
    fillRandom(IN1, 210); fillRandom(IN2, 210);
    mulQuant(p, 0.04, 3, 0.05, -7, 0.1, 1);
    expect<i32>(p.outputShift).toBeLessThan(0);
    checkMul(p);
  });

  it("matches the reference with a positive output shift", () => {
    const p = params();
    shape(p, 1, 5, 6, 7); dense(p);
    fillRandom(IN1, 210); fillRandom(IN2, 210);
    mulQuant(p, 0.3, -5, 0.2, 12, 0.004, -3); // real multiplier 15 -> shift 4
    expect<i32>(p.outputShift).toBeGreaterThan(0);
    checkMul(p);
    expect<i32>(countValue(p, 127)).toBeGreaterThan(0);
    expect<i32>(countValue(p, -128)).toBeGreaterThan(0);
  });

  it("multiplies exactly on aligned scales", () => {
    const p = params();
    shape(p, 1, 1, 1, 3); dense(p);
    mulQuant(p, 0.5, 0, 0.5, 0, 0.25, 0); // real multiplier 1
    store<i8>(TEST_ARENA + <usize>IN1, 7); store<i8>(TEST_ARENA + <usize>IN2, -9);
    store<i8>(TEST_ARENA + <usize>IN1 + 1, 100); store<i8>(TEST_ARENA + <usize>IN2 + 1, 100);
    store<i8>(TEST_ARENA + <usize>IN1 + 2, -128); store<i8>(TEST_ARENA + <usize>IN2 + 2, 127);
    expect<i32>(mul_s8(p)).toBe(STATUS_OK);
    expect<i8>(load<i8>(TEST_ARENA + <usize>OUT)).toBe(-63);
    expect<i8>(load<i8>(TEST_ARENA + <usize>OUT + 1)).toBe(127);
    expect<i8>(load<i8>(TEST_ARENA + <usize>OUT + 2)).toBe(-128);
  });

  it("broadcasts and clamps to the activation range", () => {
    const p = params();
    shape(p, 1, 4, 7, 6);
    strides1(p, 168, 42, 6, 1); strides2(p, 0, 0, 0, 1);
    fillRandom(IN1, 168); fillRandom(IN2, 6);
    mulQuant(p, 0.02, -1, 0.06, 8, 0.03, 2);
    checkMul(p);
    strides1(p, 0, 0, 0, 1); strides2(p, 168, 42, 6, 1);
    fillRandom(IN1, 6); fillRandom(IN2, 168);
    p.actMin = 0; p.actMax = 64;
    checkMul(p);
  });
});

// The dense ADD fast path (leftShift <= 20, shifts in [-31, 0]) on every pair of int8 inputs,
// with parameters at the edges of its conditions, and the generic loop just outside them.
describe("add, dense fast path", () => {
  it("matches the reference on all 65536 input pairs for edge multipliers, shifts and offsets", () => {
    const p = params();
    const cases = memory.data<i32>([
      // m1, sh1, m2, sh2, mo, sho, off1, off2, offo
      1073741824, 0, 1073741824, 0, 1073741824, -20, 128, -127, 0, // equal scales, shift 0 on inputs
      i32.MAX_VALUE, -1, 1518500250, -5, i32.MAX_VALUE, -31, -128, 127, 127, // output shift -31
      1073741824, -31, i32.MAX_VALUE, 0, 1431655765, -18, 0, 0, -128, // input shift -31
      1789569707, -2, 1073741824, 0, 1288490189, -19, -3, 17, 5,
    ]);
    for (let c = 0; c < 4; c++) {
      const at = cases + <usize>(c * 36);
      p.leftShift = 20;
      p.input1Multiplier = load<i32>(at); p.input1Shift = load<i32>(at, 4);
      p.input2Multiplier = load<i32>(at, 8); p.input2Shift = load<i32>(at, 12);
      p.outputMultiplier = load<i32>(at, 16); p.outputShift = load<i32>(at, 20);
      p.input1Offset = load<i32>(at, 24); p.input2Offset = load<i32>(at, 28); p.outputOffset = load<i32>(at, 32);
      p.actMin = -128; p.actMax = 127;
      let bad = 0;
      // in1 = high byte, in2 = low byte of the pair index: 32 x 256 pairs per call (fits the
      // test arena), 8 calls cover every pair; the tail is exercised below.
      shape(p, 1, 1, 32, 256); dense(p);
      for (let blk = 0; blk < 8; blk++) {
        for (let i = 0; i < 32 * 256; i++) {
          store<i8>(TEST_ARENA + <usize>(IN1 + i), <i8>(blk * 32 + (i >> 8)));
          store<i8>(TEST_ARENA + <usize>(IN2 + i), <i8>i);
        }
        expect<i32>(add_s8(p)).toBe(STATUS_OK);
        for (let i = 0; i < 32 * 256; i++) {
          const want = refAdd(p, <i32>load<i8>(TEST_ARENA + <usize>(IN1 + i)), <i32>load<i8>(TEST_ARENA + <usize>(IN2 + i)));
          if (<i32>load<i8>(TEST_ARENA + <usize>(OUT + i)) != want) bad++;
        }
      }
      if (bad != 0) trace("fast ADD case mismatches", 2, <f64>c, <f64>bad);
      expect<i32>(bad).toBe(0);
    }
  });

  it("matches the reference for lengths 1..11 (the byte tail) and with leftShift 21 (generic loop)", () => {
    const p = params();
    for (let n = 1; n <= 11; n++) {
      shape(p, 1, 1, 1, n); dense(p);
      fillRandom(IN1, n); fillRandom(IN2, n);
      addQuant(p, 0.05, -3, 0.11, 17, 0.09, 5);
      checkAdd(p);
      p.leftShift = 21; // outside the fast path's conditions: the generic loop
      checkAdd(p);
    }
  });
});
