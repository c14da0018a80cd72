// depthwise_conv2d_s8 against a plain reference written from TFLite's
// reference_integer_ops::DepthwiseConvPerChannel.
import { ConvParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { depthwise_conv2d_s8 } from "../../assembly/kernels/int8/depthwise_conv2d";
import {
  seedRandom, randInt, fillAroundZeroPoint, TEST_ARENA, useTestArena, staticParams,
  refMultiplyByQuantizedMultiplier, REF, GUARD, channelRecord, fillChannelRecords, setAllShifts, setPreciseChannels,
  copyChannelRecords, fillWithSentinel, checkTiles, checkChannelRange, atMin, atMax, inside, countClamped, setConvGeometry,
} from "./support";

// ---- buffers (static; no allocation) ----
const W = memory.data(8192, 16); // model filter, TFLite layout [1][kH][kW][outC]
const TILE = memory.data(9216, 16); // one tile: channel records then [kH][kW] per channel
const P = staticParams<ConvParams>();
const IN_AT: i32 = 24;
const SENT: i8 = -91;

// ---- plain reference (literal transcription of the C++) ----
/** TFLite's loop order: for in_channel, for m: output_channel = m + in_channel * depth_multiplier. */
function refDepthwise(out: usize): void {
  const inBase = TEST_ARENA + <usize>P.input;
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
          acc += load<i32>(channelRecord(oc));
          acc = refMultiplyByQuantizedMultiplier(acc, load<i32>(channelRecord(oc), 4), load<i32>(channelRecord(oc), 8));
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
  setConvGeometry(P, inH, inW, inC, inC * dm, dm, kH, kW, stride, dil, same);
  place();
}

function place(): void {
  P.input = IN_AT;
  P.output = IN_AT + P.inH * P.inW * P.inC + 2 * GUARD + 1;
  useTestArena();
}

function outBytes(): i32 { return P.outH * P.outW * P.outC; }
function outAddr(): usize { return TEST_ARENA + <usize>P.output; }
function outAt(i: i32): i8 { return load<i8>(outAddr() + <usize>i); }

function fillData(s: u32, r: i32, wMax: i32, biasMax: i32): void {
  seedRandom(s);
  fillAroundZeroPoint(TEST_ARENA + <usize>P.input, P.inH * P.inW * P.inC, -P.inputOffset, r);
  fillAroundZeroPoint(W, P.kH * P.kW * P.outC, 0, wMax);
  fillChannelRecords(P.outC, biasMax);
}

/** Tile for [oc0, oc1): records, then each channel's filter transposed to [kH][kW]. */
function buildTile(oc0: i32, oc1: i32): void {
  const n = oc1 - oc0;
  const perCh = P.kH * P.kW;
  const weights = copyChannelRecords(TILE, oc0, oc1);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < perCh; k++) {
      store<i8>(weights + <usize>(j * perCh + k), load<i8>(W + <usize>(k * P.outC + oc0 + j)));
    }
  }
}

function runTile(oc0: i32, oc1: i32): i32 {
  buildTile(oc0, oc1);
  return depthwise_conv2d_s8(P, TILE, oc0, oc1);
}

function check(tileCh: i32): i32 {
  refDepthwise(REF);
  return checkTiles(runTile, P.outC, tileCh, outAddr(), outBytes(), SENT);
}

function checkPartial(oc0: i32, oc1: i32): i32 {
  refDepthwise(REF);
  return checkChannelRange(runTile, P.outC, oc0, oc1, outAddr(), outBytes(), SENT);
}

function stats(): void { countClamped(outBytes(), P.actMin, P.actMax); }

/** Case t of both random-shape tests (same shapes): geometry, zero points and, every 4th, a ReLU-style actMin. */
function randomShape(t: i32): void {
  seedRandom(2000 + t);
  const inH = randInt(1, 8), inW = randInt(1, 8), inC = randInt(1, 6), dm = randInt(1, 3);
  const kH = randInt(1, 5), kW = randInt(1, 5), stride = randInt(1, 3), dil = randInt(1, 2);
  const same = (t & 1) == 0 || (kH - 1) * dil + 1 > inH || (kW - 1) * dil + 1 > inW;
  geometry(inH, inW, inC, dm, kH, kW, stride, dil, same);
  P.inputOffset = randInt(-127, 128);
  P.outputOffset = randInt(-128, 127);
  if ((t & 3) == 3) { P.actMin = max(-128, P.outputOffset); }
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
    for (let c = 0; c < P.outC; c++) store<i32>(channelRecord(c), randInt(-8, 8));
    const shiftsToTry = memory.data<i32>([-9, 0, 2, 1, -1, -31]);
    for (let k = 0; k < 6; k++) {
      setAllShifts(P.outC, load<i32>(shiftsToTry + <usize>(k << 2)), 0);
      expect<i32>(check(P.outC)).toBe(-1);
    }
    setAllShifts(P.outC, 2, 1 << 30);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(inside).toBe(outBytes());
  });

  it("saturates at both ends with huge biases", () => {
    geometry(4, 4, 10, 1, 3, 3, 1, 1, true);
    P.inputOffset = -1;
    fillData(15, 128, 127, 3000);
    setAllShifts(P.outC, -9, 0);
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
      randomShape(t);
      fillData(8000 + t, 128, 127, 5000);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("matches the reference over many random shapes with small values (every accumulator step visible)", () => {
    for (let t = 0; t < 60; t++) {
      randomShape(t);
      fillData(8000 + 500 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 1) == 0 ? -1 : 0);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing precise random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("rejects nonsensical parameters without writing", () => {
    geometry(4, 4, 3, 2, 3, 3, 1, 1, true);
    fillData(17, 128, 127, 3000);
    fillWithSentinel(outAddr(), outBytes(), SENT);
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
  it("3x3 fast path (multiplier 1, stride 1 and 2): interior window, all borders, tiny inputs", () => {
    // depthwise3x3.ts: rows with filter rows outside the input, left/right end pixels, the
    // sliding window in between, and inputs of 1..3 pixels where there is no interior at all.
    for (let t = 0; t < 40; t++) {
      seedRandom(5100 + t);
      const inH = randInt(1, 9), inW = randInt(1, 9), inC = randInt(1, 7), stride = 1 + (t & 1);
      const same = (t & 2) == 0 || inH < 3 || inW < 3;
      geometry(inH, inW, inC, 1, 3, 3, stride, 1, same);
      P.inputOffset = randInt(-127, 128); P.outputOffset = randInt(-128, 127);
      if ((t & 7) == 5) { P.actMin = max(-128, P.outputOffset); }
      fillData(5200 + t, 128, 127, 4000);
      let r = check(randInt(1, P.outC));
      if (r != -1) trace("3x3 case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
      fillData(5300 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 4) == 0 ? -1 : 0);
      r = check(P.outC);
      if (r != -1) trace("precise 3x3 case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });
  it("3x3 fast path: wide rows (64-150 outputs), two 4-channel groups and one channel left over", () => {
    // group4 (depthwise3x3.ts) on rows of 64, 65, 75, 130 and 150 outputs at strides 1 and 2, with
    // 9 channels: two groups and one channel for the one-at-a-time path.
    const widths = memory.data<i32>([64, 65, 150, 130, 150]);
    for (let t = 0; t < 5; t++) {
      seedRandom(5400 + t);
      const stride = t < 3 ? 1 : 2;
      geometry(3, load<i32>(widths + <usize>(t << 2)), 9, 1, 3, 3, stride, 1, (t & 1) == 0);
      P.inputOffset = randInt(-127, 128); P.outputOffset = randInt(-128, 127);
      fillData(5500 + t, 128, 127, 4000);
      const r = check(randInt(1, P.outC));
      if (r != -1) trace("wide 3x3 case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });
  it("one input channel runs as CONV_2D (micro_speech's 10x8 stride-2 filter, multipliers up to 8)", () => {
    // depthwise_conv2d.ts hands inC == 1 to conv2d_s8: 4-channel interior and border blocks
    // plus the generic loop for the channels left over.
    for (let t = 0; t < 16; t++) {
      seedRandom(5400 + t);
      const kH = randInt(1, 10), kW = randInt(1, 8), stride = randInt(1, 2), dm = randInt(1, 8);
      const inH = randInt(1, 14), inW = randInt(1, 12);
      const same = (t & 1) == 0 || kH > inH || kW > inW;
      geometry(inH, inW, 1, dm, kH, kW, stride, 1, same);
      P.inputOffset = randInt(-127, 128); P.outputOffset = randInt(-128, 127);
      fillData(5500 + t, 128, 127, 4000);
      let r = check(randInt(1, P.outC));
      if (r != -1) trace("inC 1 case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
      fillData(5600 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 2) == 0 ? -1 : 0);
      r = check(P.outC);
      if (r != -1) trace("precise inC 1 case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });
});
