// fully_connected_s8 against a plain reference written from TFLite's
// reference_integer_ops::FullyConnected (per-channel multiplier and shift).
import { FullyConnectedParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { setArena } from "../../assembly/arena";
import { fully_connected_s8 } from "../../assembly/kernels/int8/fully_connected";

// ---- buffers (static; no allocation) ----
const ARENA_BUF = memory.data(16384, 16);
const CH = memory.data(768, 16); // model per-channel [bias, multiplier, shift] x outC (<= 64)
const W = memory.data(16384, 16); // model filter [outC][inC]
const TILE = memory.data(17152, 16);
const REF = memory.data(4096, 16);
const P = changetype<FullyConnectedParams>(memory.data(64, 16));
const SHIFTS = memory.data<i32>([-9, 0, 2, -5, -12, 1, -1, -16]);
const IN_AT: i32 = 8;
const GUARD: i32 = 16;
const SENT: i8 = 0x33;

// ---- xorshift32 ----
let rng: u32 = 1;
function seed(s: u32): void { rng = s != 0 ? s : 1; }
function next(): u32 {
  let x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return x;
}
function randInt(lo: i32, hi: i32): i32 {
  return lo + <i32>(next() % <u32>(hi - lo + 1));
}

// ---- independent reference arithmetic (literal transcription of the C++) ----
function refMulByQuantizedMultiplier(x: i32, mult: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const a: i32 = x * (1 << left);
  // SaturatingRoundingDoublingHighMul
  let high: i32;
  if (a == i32.MIN_VALUE && mult == i32.MIN_VALUE) {
    high = i32.MAX_VALUE;
  } else {
    const ab: i64 = <i64>a * <i64>mult;
    const nudge: i64 = ab >= 0 ? <i64>(1 << 30) : <i64>1 - <i64>(1 << 30);
    high = <i32>((ab + nudge) / <i64>2147483648); // i64 division truncates toward zero
  }
  // RoundingDivideByPOT: nearest, ties away from zero
  if (right == 0) return high;
  const mag: i64 = high < 0 ? -<i64>high : <i64>high;
  const q: i64 = (mag + (<i64>1 << <i64>(right - 1))) >> <i64>right;
  return <i32>(high < 0 ? -q : q);
}

function refFullyConnected(out: usize): void {
  const inBase = ARENA_BUF + <usize>P.input;
  for (let b = 0; b < P.batches; b++) {
    for (let oc = 0; oc < P.outC; oc++) {
      let acc: i32 = 0;
      for (let d = 0; d < P.inC; d++) {
        const inV = <i32>load<i8>(inBase + <usize>(b * P.inC + d));
        const wV = <i32>load<i8>(W + <usize>(oc * P.inC + d));
        acc += (wV + P.filterOffset) * (inV + P.inputOffset);
      }
      acc += load<i32>(CH + <usize>(oc * 12));
      acc = refMulByQuantizedMultiplier(acc, load<i32>(CH + <usize>(oc * 12 + 4)), load<i32>(CH + <usize>(oc * 12 + 8)));
      acc += P.outputOffset;
      acc = max(acc, P.actMin);
      acc = min(acc, P.actMax);
      store<i8>(out + <usize>(b * P.outC + oc), <i8>acc);
    }
  }
}

// ---- case setup ----
function shape(batches: i32, inC: i32, outC: i32): void {
  P.batches = batches; P.inC = inC; P.outC = outC;
  P.inputOffset = 0; P.filterOffset = 0; P.outputOffset = 0; P.actMin = -128; P.actMax = 127;
  P.weights = 0; P.tileCh = 0; P.tileBuf = 0;
  P.input = IN_AT;
  P.output = IN_AT + batches * inC + 2 * GUARD + 5;
  setArena(ARENA_BUF, 16384);
}

function outBytes(): i32 { return P.batches * P.outC; }

function fillData(s: u32, r: i32, wMax: i32, biasMax: i32): void {
  seed(s);
  const zp = -P.inputOffset;
  const nIn = P.batches * P.inC;
  for (let i = 0; i < nIn; i++) {
    store<i8>(ARENA_BUF + <usize>(P.input + i), <i8>randInt(max(-128, zp - r), min(127, zp + r)));
  }
  const fzp = -P.filterOffset;
  const nW = P.outC * P.inC;
  for (let i = 0; i < nW; i++) store<i8>(W + <usize>i, <i8>randInt(max(-128, fzp - wMax), min(127, fzp + wMax)));
  for (let c = 0; c < P.outC; c++) {
    let bias = randInt(-biasMax, biasMax);
    if (c % 5 == 3) bias = 1 << 24;
    if (c % 5 == 4) bias = -(1 << 24);
    let mult: i32 = (1 << 30) | <i32>(next() & 0x3fffffff);
    if (c % 4 == 0) mult = 1 << 30;
    if (c % 4 == 1) mult = i32.MAX_VALUE;
    const shift = load<i32>(SHIFTS + <usize>((next() & 7) << 2));
    store<i32>(CH + <usize>(c * 12), bias);
    store<i32>(CH + <usize>(c * 12 + 4), mult);
    store<i32>(CH + <usize>(c * 12 + 8), shift);
  }
}

function setAllShifts(shift: i32, mult: i32): void {
  for (let c = 0; c < P.outC; c++) {
    store<i32>(CH + <usize>(c * 12 + 8), shift);
    if (mult != 0) store<i32>(CH + <usize>(c * 12 + 4), mult);
  }
}

/** Small biases, multiplier 0.5 and one shift for every channel: outputs resolve single accumulator steps. */
function precise(shift: i32): void {
  for (let c = 0; c < P.outC; c++) {
    store<i32>(CH + <usize>(c * 12), randInt(-20, 20));
    store<i32>(CH + <usize>(c * 12 + 4), 1 << 30);
    store<i32>(CH + <usize>(c * 12 + 8), shift);
  }
}

function buildTile(oc0: i32, oc1: i32): void {
  const n = oc1 - oc0;
  memory.copy(TILE, CH + <usize>(oc0 * 12), <usize>(n * 12));
  memory.copy(TILE + <usize>(n * 12), W + <usize>(oc0 * P.inC), <usize>(n * P.inC));
}

function fillOutput(): void {
  memory.fill(ARENA_BUF + <usize>(P.output - GUARD), <u8>SENT, <usize>(outBytes() + 2 * GUARD));
}

function outAt(i: i32): i8 { return load<i8>(ARENA_BUF + <usize>(P.output + i)); }

function guardsChanged(): i32 {
  for (let i = 1; i <= GUARD; i++) {
    if (outAt(-i) != SENT) return -i;
    if (outAt(outBytes() - 1 + i) != SENT) return outBytes() - 1 + i;
  }
  return -1;
}

function check(tileCh: i32): i32 {
  refFullyConnected(REF);
  fillOutput();
  for (let oc0 = 0; oc0 < P.outC; oc0 += tileCh) {
    const oc1 = min(P.outC, oc0 + tileCh);
    buildTile(oc0, oc1);
    const s = fully_connected_s8(P, TILE, oc0, oc1);
    if (s != STATUS_OK) return -1000 - s;
  }
  const g = guardsChanged();
  if (g != -1) return -2000 + g;
  for (let i = 0; i < outBytes(); i++) if (outAt(i) != load<i8>(REF + <usize>i)) return i;
  return -1;
}

function checkPartial(oc0: i32, oc1: i32): i32 {
  refFullyConnected(REF);
  fillOutput();
  buildTile(oc0, oc1);
  const s = fully_connected_s8(P, TILE, oc0, oc1);
  if (s != STATUS_OK) return -1000 - s;
  const g = guardsChanged();
  if (g != -1) return -2000 + g;
  for (let i = 0; i < outBytes(); i++) {
    const c = i % P.outC;
    const want = c >= oc0 && c < oc1 ? load<i8>(REF + <usize>i) : SENT;
    if (outAt(i) != want) return i;
  }
  return -1;
}

let atMin = 0, atMax = 0, inside = 0;
function stats(): void {
  atMin = 0; atMax = 0; inside = 0;
  for (let i = 0; i < outBytes(); i++) {
    const v = <i32>load<i8>(REF + <usize>i);
    if (v == P.actMin) atMin++;
    else if (v == P.actMax) atMax++;
    else inside++;
  }
}

describe("fully_connected_s8", () => {
  it("matches the reference: one batch, zero points", () => {
    shape(1, 37, 13);
    P.inputOffset = -7; P.outputOffset = -5;
    fillData(1, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
    expect<i32>(inside).toBeGreaterThan(0);
  });

  it("matches the reference: batches 2 with a non-zero filter offset", () => {
    shape(2, 19, 9);
    P.inputOffset = 20; P.filterOffset = -3; P.outputOffset = 8;
    fillData(2, 128, 100, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    shape(3, 8, 6);
    P.inputOffset = -128; P.filterOffset = 128; P.outputOffset = -128; // extreme zero points
    fillData(3, 128, 128, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    expect<i32>(check(4)).toBe(-1);
  });

  it("matches the reference for every input length 1..9 (unrolled loop remainders)", () => {
    for (let inC = 1; inC <= 9; inC++) {
      shape(2, inC, 5);
      P.inputOffset = 3; P.filterOffset = inC & 1 ? 2 : 0; P.outputOffset = 1;
      fillData(10 + inC, 128, 120, 2000);
      expect<i32>(check(P.outC)).toBe(-1);
      fillData(20 + inC, 3, 3, 20);
      precise(0);
      expect<i32>(check(P.outC)).toBe(-1);
    }
  });

  it("matches the reference: fused ReLU and ReLU6-style ranges", () => {
    shape(2, 24, 16);
    P.inputOffset = 5; P.outputOffset = -30;
    P.actMin = -30;
    fillData(4, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    P.actMax = 0;
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
  });

  it("matches the reference: shifts -9, 0 and +2 on small values without saturation", () => {
    shape(2, 3, 7);
    P.inputOffset = -4; P.filterOffset = 1; P.outputOffset = 3;
    fillData(5, 3, 2, 8);
    for (let c = 0; c < P.outC; c++) store<i32>(CH + <usize>(c * 12), randInt(-8, 8));
    const shiftsToTry = memory.data<i32>([-9, 0, 2, 1, -1, -31]);
    for (let k = 0; k < 6; k++) {
      setAllShifts(load<i32>(shiftsToTry + <usize>(k << 2)), 0);
      expect<i32>(check(P.outC)).toBe(-1);
    }
    setAllShifts(2, 1 << 30);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(inside).toBe(outBytes());
  });

  it("saturates at both ends with huge biases", () => {
    shape(2, 16, 10);
    P.inputOffset = 1;
    fillData(6, 128, 127, 3000);
    setAllShifts(-9, 0);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThanOrEqual(4);
    expect<i32>(atMax).toBeGreaterThanOrEqual(4);
  });

  it("gives the same result in several tiles and writes only its channels", () => {
    shape(2, 21, 11);
    P.inputOffset = -9; P.filterOffset = 4; P.outputOffset = 2;
    fillData(7, 128, 100, 3000);
    expect<i32>(check(11)).toBe(-1);
    expect<i32>(check(5)).toBe(-1);
    expect<i32>(check(1)).toBe(-1);
    expect<i32>(check(8)).toBe(-1);
    expect<i32>(checkPartial(0, 8)).toBe(-1);
    expect<i32>(checkPartial(8, 11)).toBe(-1);
    expect<i32>(checkPartial(2, 3)).toBe(-1);
    expect<i32>(checkPartial(6, 6)).toBe(-1);
  });

  it("matches the reference over many random shapes", () => {
    for (let t = 0; t < 60; t++) {
      seed(3000 + t);
      const batches = randInt(1, 4), inC = randInt(1, 70), outC = randInt(1, 20);
      shape(batches, inC, outC);
      P.inputOffset = randInt(-127, 128);
      P.filterOffset = (t & 1) == 0 ? 0 : randInt(-20, 20);
      P.outputOffset = randInt(-128, 127);
      if ((t & 3) == 3) { P.actMin = max(-128, P.outputOffset); }
      fillData(9000 + t, 128, 100, 5000);
      const tile = randInt(1, outC);
      const r = check(tile);
      if (r != -1) trace("failing random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("matches the reference over many random shapes with small values (every accumulator step visible)", () => {
    for (let t = 0; t < 60; t++) {
      seed(3000 + t);
      const batches = randInt(1, 4), inC = randInt(1, 70), outC = randInt(1, 20);
      shape(batches, inC, outC);
      P.inputOffset = randInt(-127, 128);
      P.filterOffset = (t & 1) == 0 ? 0 : randInt(-20, 20);
      P.outputOffset = randInt(-128, 127);
      if ((t & 3) == 3) { P.actMin = max(-128, P.outputOffset); }
      fillData(9000 + 500 + t, 2, 2, 20);
      precise((t & 1) == 0 ? -1 : 0);
      const tile = randInt(1, outC);
      const r = check(tile);
      if (r != -1) trace("failing precise random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("rejects nonsensical parameters without writing", () => {
    shape(2, 5, 4);
    fillData(8, 128, 127, 3000);
    fillOutput();
    buildTile(0, 4);
    expect<i32>(fully_connected_s8(P, TILE, 0, 5)).toBe(STATUS_KERNEL);
    expect<i32>(fully_connected_s8(P, TILE, 2, 1)).toBe(STATUS_KERNEL);
    P.inC = 0;
    expect<i32>(fully_connected_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    P.inC = 5; P.batches = -1;
    expect<i32>(fully_connected_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    P.batches = 2; P.actMin = -129;
    expect<i32>(fully_connected_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    P.actMin = -128;
    store<i32>(TILE + 36 + 8, 31);
    expect<i32>(fully_connected_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    for (let i = 0; i < outBytes(); i++) expect<i8>(outAt(i)).toBe(SENT);
    buildTile(0, 4);
    expect<i32>(fully_connected_s8(P, TILE, 0, 4)).toBe(STATUS_OK);
  });
});
