// depthwise_conv2d_s8 against a plain reference written from TFLite's
// reference_integer_ops::DepthwiseConvPerChannel.
import { ConvParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { setArena } from "../../assembly/arena";
import { depthwise_conv2d_s8 } from "../../assembly/kernels/int8/depthwise_conv2d";

// ---- buffers (static; no allocation) ----
const ARENA_BUF = memory.data(32768, 16);
const CH = memory.data(768, 16); // model per-channel [bias, multiplier, shift] x outC (<= 64)
const W = memory.data(8192, 16); // model filter, TFLite layout [1][kH][kW][outC]
const TILE = memory.data(9216, 16); // one tile: channel records then [kH][kW] per channel
const REF = memory.data(8192, 16); // reference output
const P = changetype<ConvParams>(memory.data(128, 16));
const SHIFTS = memory.data<i32>([-9, 0, 2, -5, -12, 1, -1, -16]);
const IN_AT: i32 = 24;
const GUARD: i32 = 16;
const SENT: i8 = -91;

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

/** TFLite's loop order: for in_channel, for m: output_channel = m + in_channel * depth_multiplier. */
function refDepthwise(out: usize): void {
  const inBase = ARENA_BUF + <usize>P.input;
  for (let oy = 0; oy < P.outH; oy++) {
    for (let ox = 0; ox < P.outW; ox++) {
      for (let ic = 0; ic < P.inC; ic++) {
        for (let m = 0; m < P.depthMultiplier; m++) {
          const oc = m + ic * P.depthMultiplier;
          const inYOrigin = oy * P.strideH - P.padH;
          const inXOrigin = ox * P.strideW - P.padW;
          let acc: i32 = 0;
          for (let ky = 0; ky < P.kH; ky++) {
            for (let kx = 0; kx < P.kW; kx++) {
              const iy = inYOrigin + P.dilH * ky;
              const ix = inXOrigin + P.dilW * kx;
              if (iy >= 0 && iy < P.inH && ix >= 0 && ix < P.inW) {
                const inV = <i32>load<i8>(inBase + <usize>((iy * P.inW + ix) * P.inC + ic));
                const wV = <i32>load<i8>(W + <usize>((ky * P.kW + kx) * P.outC + oc));
                acc += wV * (inV + P.inputOffset);
              }
            }
          }
          acc += load<i32>(CH + <usize>(oc * 12));
          acc = refMulByQuantizedMultiplier(acc, load<i32>(CH + <usize>(oc * 12 + 4)), load<i32>(CH + <usize>(oc * 12 + 8)));
          acc += P.outputOffset;
          acc = max(acc, P.actMin);
          acc = min(acc, P.actMax);
          store<i8>(out + <usize>((oy * P.outW + ox) * P.outC + oc), <i8>acc);
        }
      }
    }
  }
}

// ---- case setup ----
function geometry(inH: i32, inW: i32, inC: i32, dm: i32, kH: i32, kW: i32, stride: i32, dil: i32, same: bool): void {
  P.inH = inH; P.inW = inW; P.inC = inC; P.depthMultiplier = dm; P.outC = inC * dm;
  P.kH = kH; P.kW = kW;
  P.strideH = stride; P.strideW = stride; P.dilH = dil; P.dilW = dil;
  P.inputOffset = 0; P.outputOffset = 0; P.actMin = -128; P.actMax = 127;
  P.weights = 0; P.tileCh = 0; P.tileBuf = 0;
  const effH = (kH - 1) * dil + 1, effW = (kW - 1) * dil + 1;
  if (same) {
    P.outH = (inH + stride - 1) / stride;
    P.outW = (inW + stride - 1) / stride;
    P.padH = max(0, (P.outH - 1) * stride + effH - inH) / 2;
    P.padW = max(0, (P.outW - 1) * stride + effW - inW) / 2;
  } else {
    P.outH = (inH - effH) / stride + 1;
    P.outW = (inW - effW) / stride + 1;
    P.padH = 0; P.padW = 0;
  }
  place();
}

function place(): void {
  P.input = IN_AT;
  P.output = IN_AT + P.inH * P.inW * P.inC + 2 * GUARD + 1;
  setArena(ARENA_BUF, 32768);
}

function outBytes(): i32 { return P.outH * P.outW * P.outC; }

function fillData(s: u32, r: i32, wMax: i32, biasMax: i32): void {
  seed(s);
  const zp = -P.inputOffset;
  const nIn = P.inH * P.inW * P.inC;
  for (let i = 0; i < nIn; i++) {
    store<i8>(ARENA_BUF + <usize>(P.input + i), <i8>randInt(max(-128, zp - r), min(127, zp + r)));
  }
  const nW = P.kH * P.kW * P.outC;
  for (let i = 0; i < nW; i++) store<i8>(W + <usize>i, <i8>randInt(-wMax, min(wMax, 127)));
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

/** Tile for [oc0, oc1): records, then each channel's filter transposed to [kH][kW]. */
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
  const perCh = P.kH * P.kW;
  memory.copy(TILE, CH + <usize>(oc0 * 12), <usize>(n * 12));
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < perCh; k++) {
      store<i8>(TILE + <usize>(n * 12 + j * perCh + k), load<i8>(W + <usize>(k * P.outC + oc0 + j)));
    }
  }
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
  refDepthwise(REF);
  fillOutput();
  for (let oc0 = 0; oc0 < P.outC; oc0 += tileCh) {
    const oc1 = min(P.outC, oc0 + tileCh);
    buildTile(oc0, oc1);
    const s = depthwise_conv2d_s8(P, TILE, oc0, oc1);
    if (s != STATUS_OK) return -1000 - s;
  }
  const g = guardsChanged();
  if (g != -1) return -2000 + g;
  for (let i = 0; i < outBytes(); i++) if (outAt(i) != load<i8>(REF + <usize>i)) return i;
  return -1;
}

function checkPartial(oc0: i32, oc1: i32): i32 {
  refDepthwise(REF);
  fillOutput();
  buildTile(oc0, oc1);
  const s = depthwise_conv2d_s8(P, TILE, oc0, oc1);
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

describe("depthwise_conv2d_s8", () => {
  it("matches the reference: 3x3 SAME stride 1, multiplier 1, zero points, all borders", () => {
    geometry(6, 5, 8, 1, 3, 3, 1, 1, true);
    P.inputOffset = -7; P.outputOffset = -5;
    fillData(1, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
    expect<i32>(inside).toBeGreaterThan(0);
  });

  it("matches the reference: depth multiplier 2 and 3", () => {
    geometry(5, 6, 3, 2, 3, 3, 1, 1, true);
    P.inputOffset = 11; P.outputOffset = 4;
    fillData(2, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(4, 4, 2, 3, 2, 3, 1, 1, true);
    P.inputOffset = -30;
    fillData(3, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    // multiplier 2 on a single input channel
    geometry(5, 5, 1, 2, 3, 3, 2, 1, true);
    fillData(4, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: stride 2 SAME with uneven padding", () => {
    geometry(8, 9, 4, 1, 3, 3, 2, 1, true);
    P.inputOffset = 128; P.outputOffset = -128;
    fillData(5, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(7, 6, 3, 2, 5, 5, 2, 1, true);
    P.inputOffset = -128;
    fillData(6, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: dilation 2 (SAME and VALID) and per-axis dilation", () => {
    geometry(7, 7, 3, 1, 3, 3, 1, 2, true);
    expect<i32>(P.padW).toBe(2);
    P.inputOffset = 3; P.outputOffset = 2;
    fillData(7, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(9, 8, 2, 2, 3, 3, 2, 2, false);
    fillData(8, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(6, 8, 2, 1, 2, 3, 1, 1, true);
    P.dilH = 3; P.dilW = 2; P.padH = 1; P.padW = 2;
    fillData(9, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: 1x1 filters, kernel larger than input, outputs with no valid tap", () => {
    geometry(4, 3, 5, 2, 1, 1, 1, 1, false);
    P.inputOffset = -9; P.outputOffset = 9;
    fillData(10, 128, 127, 500);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(2, 3, 3, 1, 5, 5, 1, 1, true);
    fillData(11, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(3, 3, 2, 2, 3, 3, 1, 1, false);
    P.padH = 4; P.padW = 3; P.outH = 9; P.outW = 7;
    place();
    P.inputOffset = 15; P.outputOffset = -3;
    fillData(12, 128, 127, 300000);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: fused ReLU and ReLU6-style ranges", () => {
    geometry(5, 5, 6, 1, 3, 3, 1, 1, true);
    P.inputOffset = 6; P.outputOffset = -10;
    P.actMin = -10; P.actMax = 127;
    fillData(13, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    P.actMax = 40;
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
  });

  it("matches the reference: shifts -9, 0 and +2 on small values without saturation", () => {
    geometry(4, 4, 3, 2, 3, 3, 1, 1, true);
    P.inputOffset = -4; P.outputOffset = -1;
    fillData(14, 2, 2, 8);
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
    geometry(4, 4, 10, 1, 3, 3, 1, 1, true);
    P.inputOffset = -1;
    fillData(15, 128, 127, 3000);
    setAllShifts(-9, 0);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThanOrEqual(2 * P.outH * P.outW);
    expect<i32>(atMax).toBeGreaterThanOrEqual(2 * P.outH * P.outW);
  });

  it("gives the same result in several tiles and writes only its channels", () => {
    geometry(5, 6, 5, 2, 3, 3, 2, 1, true); // outC 10
    P.inputOffset = 2; P.outputOffset = -6;
    fillData(16, 128, 127, 3000);
    expect<i32>(check(10)).toBe(-1);
    expect<i32>(check(3)).toBe(-1); // tiles start mid depth-multiplier group
    expect<i32>(check(1)).toBe(-1);
    expect<i32>(check(7)).toBe(-1); // [0,7) [7,10)
    expect<i32>(checkPartial(0, 7)).toBe(-1);
    expect<i32>(checkPartial(7, 10)).toBe(-1);
    expect<i32>(checkPartial(3, 6)).toBe(-1);
    expect<i32>(checkPartial(4, 4)).toBe(-1);
  });

  it("matches the reference over many random shapes", () => {
    for (let t = 0; t < 60; t++) {
      seed(2000 + t);
      const inH = randInt(1, 8), inW = randInt(1, 8), inC = randInt(1, 6), dm = randInt(1, 3);
      const kH = randInt(1, 5), kW = randInt(1, 5), stride = randInt(1, 3), dil = randInt(1, 2);
      const same = (t & 1) == 0 || (kH - 1) * dil + 1 > inH || (kW - 1) * dil + 1 > inW;
      geometry(inH, inW, inC, dm, kH, kW, stride, dil, same);
      P.inputOffset = randInt(-127, 128);
      P.outputOffset = randInt(-128, 127);
      if ((t & 3) == 3) { P.actMin = max(-128, P.outputOffset); }
      fillData(8000 + t, 128, 127, 5000);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("matches the reference over many random shapes with small values (every accumulator step visible)", () => {
    for (let t = 0; t < 60; t++) {
      seed(2000 + t);
      const inH = randInt(1, 8), inW = randInt(1, 8), inC = randInt(1, 6), dm = randInt(1, 3);
      const kH = randInt(1, 5), kW = randInt(1, 5), stride = randInt(1, 3), dil = randInt(1, 2);
      const same = (t & 1) == 0 || (kH - 1) * dil + 1 > inH || (kW - 1) * dil + 1 > inW;
      geometry(inH, inW, inC, dm, kH, kW, stride, dil, same);
      P.inputOffset = randInt(-127, 128);
      P.outputOffset = randInt(-128, 127);
      if ((t & 3) == 3) { P.actMin = max(-128, P.outputOffset); }
      fillData(8000 + 500 + t, 2, 2, 20);
      precise((t & 1) == 0 ? -1 : 0);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing precise random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("rejects nonsensical parameters without writing", () => {
    geometry(4, 4, 3, 2, 3, 3, 1, 1, true);
    fillData(17, 128, 127, 3000);
    fillOutput();
    buildTile(0, 6);
    expect<i32>(depthwise_conv2d_s8(P, TILE, 0, 7)).toBe(STATUS_KERNEL);
    expect<i32>(depthwise_conv2d_s8(P, TILE, 4, 2)).toBe(STATUS_KERNEL);
    P.outC = 5; // not inC * depthMultiplier
    expect<i32>(depthwise_conv2d_s8(P, TILE, 0, 5)).toBe(STATUS_KERNEL);
    P.outC = 6; P.depthMultiplier = 0;
    expect<i32>(depthwise_conv2d_s8(P, TILE, 0, 6)).toBe(STATUS_KERNEL);
    P.depthMultiplier = 2; P.strideH = 0;
    expect<i32>(depthwise_conv2d_s8(P, TILE, 0, 6)).toBe(STATUS_KERNEL);
    P.strideH = 1; P.actMax = 128;
    expect<i32>(depthwise_conv2d_s8(P, TILE, 0, 6)).toBe(STATUS_KERNEL);
    P.actMax = 127;
    store<i32>(TILE + 12 + 8, -32);
    expect<i32>(depthwise_conv2d_s8(P, TILE, 0, 6)).toBe(STATUS_KERNEL);
    for (let i = 0; i < outBytes(); i++) expect<i8>(outAt(i)).toBe(SENT);
    buildTile(0, 6);
    expect<i32>(depthwise_conv2d_s8(P, TILE, 0, 6)).toBe(STATUS_OK);
  });
});
