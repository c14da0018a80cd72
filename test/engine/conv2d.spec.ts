// conv2d_s8 against a plain reference written from TFLite's reference_integer_ops::ConvPerChannel.
import { ConvParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { conv2d_s8 } from "../../assembly/kernels/int8/conv2d";
import { setGatherMaxK } from "../../assembly/kernels/int8/conv2d_gather";
import {
  seedRandom, randInt, fillAroundZeroPoint, TEST_ARENA, useTestArena, staticParams,
  refMultiplyByQuantizedMultiplier, REF, GUARD, channelRecord, fillChannelRecords, setAllShifts, setPreciseChannels,
  buildRowTile, fillWithSentinel, checkTiles, checkChannelRange, atMin, atMax, inside, countClamped, setConvGeometry,
} from "./support";

// ---- buffers (static; no allocation) ----
const W = memory.data(16384, 16); // model weights, TFLite layout [outC][kH][kW][inC]
const TILE = memory.data(17152, 16); // one tile: channel records then weights
const P = staticParams<ConvParams>();
const IN_AT: i32 = 40; // arena offset of the input
const SENT: i8 = 0x5a;

// ---- plain reference (literal transcription of the C++) ----
function refConv(out: usize): void {
  const inBase = TEST_ARENA + <usize>P.input;
  for (let oy = 0; oy < P.outH; oy++) {
    for (let ox = 0; ox < P.outW; ox++) {
      for (let oc = 0; oc < P.outC; oc++) {
        const inYOrigin = oy * P.strideH - P.padH;
        const inXOrigin = ox * P.strideW - P.padW;
        let acc: i32 = 0;
        for (let ky = 0; ky < P.kH; ky++) {
          for (let kx = 0; kx < P.kW; kx++) {
            const iy = inYOrigin + P.dilH * ky;
            const ix = inXOrigin + P.dilW * kx;
            if (iy >= 0 && iy < P.inH && ix >= 0 && ix < P.inW) {
              for (let ic = 0; ic < P.inC; ic++) {
                const inV = <i32>load<i8>(inBase + <usize>((iy * P.inW + ix) * P.inC + ic));
                const wV = <i32>load<i8>(W + <usize>(((oc * P.kH + ky) * P.kW + kx) * P.inC + ic));
                acc += wV * (inV + P.inputOffset);
              }
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

// ---- case setup ----
function geometry(inH: i32, inW: i32, inC: i32, outC: i32, kH: i32, kW: i32, stride: i32, dil: i32, same: bool): void {
  setConvGeometry(P, inH, inW, inC, outC, 1, kH, kW, stride, dil, same);
  place();
}

/** Puts the input at IN_AT and the output after it with sentinel guards. */
function place(): void {
  P.input = IN_AT;
  P.output = IN_AT + P.inH * P.inW * P.inC + 2 * GUARD + 3; // odd offset on purpose
  useTestArena();
}

function outBytes(): i32 { return P.outH * P.outW * P.outC; }
function outAddr(): usize { return TEST_ARENA + <usize>P.output; }
function outAt(i: i32): i8 { return load<i8>(outAddr() + <usize>i); }
function perChannel(): i32 { return P.kH * P.kW * P.inC; }

/** Random input in [zp - r, zp + r] (zp = -inputOffset), weights in [-wMax, wMax], channel data. */
function fillData(s: u32, r: i32, wMax: i32, biasMax: i32): void {
  seedRandom(s);
  fillAroundZeroPoint(TEST_ARENA + <usize>P.input, P.inH * P.inW * P.inC, -P.inputOffset, r);
  fillAroundZeroPoint(W, P.outC * P.kH * P.kW * P.inC, 0, wMax);
  fillChannelRecords(P.outC, biasMax);
}

function buildTile(oc0: i32, oc1: i32): void {
  buildRowTile(TILE, W, perChannel(), oc0, oc1);
}

function runTile(oc0: i32, oc1: i32): i32 {
  buildTile(oc0, oc1);
  return conv2d_s8(P, TILE, oc0, oc1);
}

/** Runs the kernel over tiles of tileCh channels; returns the first output mismatch vs the reference, or -1. */
function check(tileCh: i32): i32 {
  refConv(REF);
  return checkTiles(runTile, P.outC, tileCh, outAddr(), outBytes(), SENT);
}

/** Runs only channels [oc0, oc1): those must match, every other byte must be untouched. */
function checkPartial(oc0: i32, oc1: i32): i32 {
  refConv(REF);
  return checkChannelRange(runTile, P.outC, oc0, oc1, outAddr(), outBytes(), SENT);
}

function stats(): void { countClamped(outBytes(), P.actMin, P.actMax); }

/** Case t of both random-shape tests (same shapes): geometry, zero points and, every 4th, a ReLU-style actMin. */
function randomShape(t: i32): void {
  seedRandom(1000 + t);
  const inH = randInt(1, 7), inW = randInt(1, 7), inC = randInt(1, 9), outC = randInt(1, 12);
  const kH = randInt(1, 4), kW = randInt(1, 4), stride = randInt(1, 3), dil = randInt(1, 2);
  const same = (t & 1) == 0 || (kH - 1) * dil + 1 > inH || (kW - 1) * dil + 1 > inW;
  geometry(inH, inW, inC, outC, kH, kW, stride, dil, same);
  P.inputOffset = randInt(-127, 128);
  P.outputOffset = randInt(-128, 127);
  if ((t & 3) == 3) { P.actMin = max(-128, P.outputOffset); }
}

/** Records whose bias cancels `sum` (every channel's accumulator): outputs c * 0.5, so any error in the sums shows. */
function cancellingRecords(outC: i32, sum: i32): void {
  for (let c = 0; c < outC; c++) {
    store<i32>(channelRecord(c), -sum + c);
    store<i32>(channelRecord(c), 1 << 30, 4);
    store<i32>(channelRecord(c), -1, 8);
  }
}

/**
 * The largest sums: every input -128 (pattern 0) or +127 (pattern 1), every weight -128, biases
 * cancelling the sums, no padding taps (VALID geometry). Checks the whole tile and tiles of
 * `part` channels; returns the first mismatch or -1.
 */
function checkExtremeSums(pattern: i32, part: i32): i32 {
  P.inputOffset = 0; P.outputOffset = randInt(-128, 127);
  const k = perChannel();
  const inp = TEST_ARENA + <usize>P.input;
  for (let i = 0; i < P.inH * P.inW * P.inC; i++) store<i8>(inp + <usize>i, <i8>(pattern == 0 ? -128 : 127));
  for (let i = 0; i < P.outC * k; i++) store<i8>(W + <usize>i, -128);
  cancellingRecords(P.outC, k * (pattern == 0 ? 16384 : -16256));
  const r = check(P.outC);
  return r != -1 ? r : check(part);
}

describe("conv2d_s8", () => {
  it("matches the reference: 3x3 SAME stride 1, zero points, all four borders", () => {
    geometry(5, 6, 3, 7, 3, 3, 1, 1, true);
    expect<i32>(P.padH).toBe(1);
    expect<i32>(P.padW).toBe(1);
    P.inputOffset = -7; P.outputOffset = -5;
    fillData(1, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
    expect<i32>(inside).toBeGreaterThan(0);
  });

  it("matches the reference: 3x3 SAME stride 2 with uneven padding", () => {
    geometry(8, 7, 5, 6, 3, 3, 2, 1, true);
    P.inputOffset = 12; P.outputOffset = 3;
    fillData(2, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(9, 6, 4, 5, 4, 2, 2, 1, true); // even kernel: padding split with the extra at the end
    P.inputOffset = -1; P.outputOffset = -9;
    fillData(22, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: dilation 2 (SAME and VALID)", () => {
    geometry(7, 8, 3, 5, 3, 3, 1, 2, true);
    expect<i32>(P.padH).toBe(2);
    P.inputOffset = 128; P.outputOffset = -128; // input zero point -128
    fillData(3, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(9, 10, 2, 4, 3, 2, 2, 2, false);
    P.inputOffset = -100;
    fillData(33, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    // different dilation per axis
    geometry(8, 8, 3, 4, 3, 3, 1, 1, true);
    P.dilH = 1; P.dilW = 3; P.padW = 3;
    fillData(34, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: 1x1 kernels, stride 1 and 2, odd channel counts", () => {
    geometry(4, 5, 7, 9, 1, 1, 1, 1, false);
    P.inputOffset = 5; P.outputOffset = 10;
    fillData(4, 128, 127, 500);
    expect<i32>(check(P.outC)).toBe(-1);
    geometry(5, 5, 13, 6, 1, 1, 2, 1, true);
    P.inputOffset = -3;
    fillData(5, 128, 127, 500);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: kernel larger than the input and outputs with no valid tap", () => {
    geometry(3, 3, 2, 5, 5, 5, 1, 1, true);
    P.inputOffset = 9; P.outputOffset = 1;
    fillData(6, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    // padding wider than the kernel reach: border outputs see only the bias
    geometry(4, 4, 3, 5, 3, 3, 1, 1, false);
    P.padH = 3; P.padW = 4; P.outH = 8; P.outW = 9;
    place();
    P.inputOffset = -20; P.outputOffset = 7;
    fillData(7, 128, 127, 300000);
    expect<i32>(check(P.outC)).toBe(-1);
  });

  it("matches the reference: fused ReLU and ReLU6-style ranges", () => {
    geometry(6, 6, 4, 8, 3, 3, 1, 1, true);
    P.inputOffset = 4; P.outputOffset = -20;
    P.actMin = -20; P.actMax = 127; // ReLU: actMin = output zero point
    fillData(8, 128, 127, 3000);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    P.actMin = -20; P.actMax = 30; // ReLU6-style
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
  });

  it("matches the reference: shifts -9, 0 and +2 on small values without saturation", () => {
    geometry(5, 4, 2, 6, 1, 1, 1, 1, true);
    P.inputOffset = -6; P.outputOffset = 2;
    fillData(9, 3, 3, 8);
    for (let c = 0; c < P.outC; c++) store<i32>(channelRecord(c), randInt(-8, 8)); // no huge biases here
    const shiftsToTry = memory.data<i32>([-9, 0, 2, 1, -1, -31]);
    for (let k = 0; k < 6; k++) {
      setAllShifts(P.outC, load<i32>(shiftsToTry + <usize>(k << 2)), 0);
      expect<i32>(check(P.outC)).toBe(-1);
    }
    setAllShifts(P.outC, 2, 1 << 30);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(inside).toBe(outBytes()); // really exercised the non-saturating path
  });

  it("saturates at both ends with huge biases", () => {
    geometry(4, 4, 3, 10, 3, 3, 1, 1, true);
    P.inputOffset = 1; P.outputOffset = 0;
    fillData(10, 128, 127, 3000);
    setAllShifts(P.outC, -9, 0);
    expect<i32>(check(P.outC)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThanOrEqual(2 * P.outH * P.outW);
    expect<i32>(atMax).toBeGreaterThanOrEqual(2 * P.outH * P.outW);
  });

  it("gives the same result in several tiles and writes only its channels", () => {
    geometry(6, 5, 3, 11, 3, 3, 2, 1, true);
    P.inputOffset = -2; P.outputOffset = 6;
    fillData(11, 128, 127, 3000);
    expect<i32>(check(11)).toBe(-1);
    expect<i32>(check(4)).toBe(-1); // [0,4) [4,8) [8,11)
    expect<i32>(check(1)).toBe(-1);
    expect<i32>(check(6)).toBe(-1); // two tiles [0,6) [6,11)
    expect<i32>(checkPartial(0, 6)).toBe(-1);
    expect<i32>(checkPartial(6, 11)).toBe(-1);
    expect<i32>(checkPartial(3, 4)).toBe(-1);
    expect<i32>(checkPartial(5, 5)).toBe(-1); // empty range writes nothing
  });

  it("matches the reference over many random shapes", () => {
    for (let t = 0; t < 120; t++) {
      setGatherMaxK(t < 60 ? 64 : 0); // the second pass without conv2d_gather.ts
      randomShape(t % 60);
      fillData(7000 + t, 128, 127, 5000);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
    setGatherMaxK(64);
  });

  it("matches the reference over many random shapes with small values (every accumulator step visible)", () => {
    for (let t = 0; t < 60; t++) {
      randomShape(t);
      fillData(7000 + 500 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 1) == 0 ? -1 : 0);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing precise random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("rejects nonsensical parameters without writing", () => {
    geometry(4, 4, 3, 4, 3, 3, 1, 1, true);
    fillData(13, 128, 127, 3000);
    fillWithSentinel(outAddr(), outBytes(), SENT);
    buildTile(0, 4);
    expect<i32>(conv2d_s8(P, TILE, 0, 5)).toBe(STATUS_KERNEL); // past outC
    expect<i32>(conv2d_s8(P, TILE, 3, 2)).toBe(STATUS_KERNEL); // reversed
    expect<i32>(conv2d_s8(P, TILE, -1, 2)).toBe(STATUS_KERNEL);
    P.strideW = 0;
    expect<i32>(conv2d_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    P.strideW = 1; P.dilH = 0;
    expect<i32>(conv2d_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    P.dilH = 1; P.kW = 0;
    expect<i32>(conv2d_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    P.kW = 3; P.actMin = 10; P.actMax = 5;
    expect<i32>(conv2d_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    P.actMin = -128; P.actMax = 127;
    store<i32>(TILE + 8, 40); // shift out of range
    expect<i32>(conv2d_s8(P, TILE, 0, 4)).toBe(STATUS_KERNEL);
    for (let i = 0; i < outBytes(); i++) expect<i8>(outAt(i)).toBe(SENT);
    buildTile(0, 4);
    expect<i32>(conv2d_s8(P, TILE, 0, 4)).toBe(STATUS_OK);
  });
  it("pointwise fast path (1x1, no padding): 4x2 and 1x4 blocks, ragged pixels and k, strides 1 and 2", () => {
    // Shapes around the blocks of pointwise.ts: channel counts with and without a 4-block and a
    // remainder, pixel counts odd and even (flattened at stride 1, per row at stride 2), and
    // inC with every remainder mod 8 (i64 words, one i32 word, bytes).
    const inCs = memory.data<i32>([1, 3, 4, 5, 7, 8, 9, 12, 13, 16, 19]);
    const outCs = memory.data<i32>([1, 3, 4, 5, 8, 9]);
    for (let a = 0; a < 11; a++) {
      for (let b = 0; b < 6; b++) {
        const inC = load<i32>(inCs + <usize>(a << 2)), outC = load<i32>(outCs + <usize>(b << 2));
        const stride = 1 + ((a + b) & 1);
        const inH = 2 + (a % 4), inW = 1 + (b % 5);
        geometry(inH, inW, inC, outC, 1, 1, stride, 1, (a & 2) == 0);
        P.inputOffset = randInt(-127, 128); P.outputOffset = randInt(-128, 127);
        fillData(9100 + a * 16 + b, 128, 127, 4000);
        let r = check(randInt(1, outC));
        if (r != -1) trace("pointwise case", 3, <f64>a, <f64>b, <f64>r);
        expect<i32>(r).toBe(-1);
        fillData(9300 + a * 16 + b, 2, 2, 20); // small values: every accumulator step visible
        setPreciseChannels(P.outC, (b & 1) == 0 ? -1 : 0);
        r = check(P.outC);
        if (r != -1) trace("precise pointwise case", 3, <f64>a, <f64>b, <f64>r);
        expect<i32>(r).toBe(-1);
      }
    }
  });

  it("pointwise pair sums stay exact at their bounds: extreme products across the 240-product chunks", () => {
    // pointwise.ts adds two pixels' products in one 64-bit sum, split every PAIR_CHUNK (240)
    // products: all -128 * -128 (the largest sum), +127 * -128 (the most negative) and mixed
    // signs between the two pixels, for depths below, at and past one and two chunks. Each
    // channel's bias cancels one pixel's sum, so an error there shows in the output.
    const inCs = memory.data<i32>([239, 240, 241, 480, 484, 515]);
    for (let a = 0; a < 6; a++) {
      for (let pattern = 0; pattern < 3; pattern++) {
        const inC = load<i32>(inCs + <usize>(a << 2));
        geometry(1, 3, inC, 5, 1, 1, 1, 1, true);
        P.inputOffset = 0; P.outputOffset = 0;
        const inp = TEST_ARENA + <usize>P.input;
        for (let px = 0; px < 3; px++) {
          for (let k = 0; k < inC; k++) {
            // pattern 0: every input -128; 1: every input +127; 2: pixels alternate -128 / +127
            const v = pattern == 0 ? -128 : (pattern == 1 ? 127 : ((px & 1) == 0 ? -128 : 127));
            store<i8>(inp + <usize>(px * inC + k), <i8>v);
          }
        }
        for (let c = 0; c < 5; c++) {
          for (let k = 0; k < inC; k++) store<i8>(W + <usize>(c * inC + k), <i8>(c == 4 ? ((k & 1) == 0 ? 127 : -128) : -128));
          // The bias cancels pixel (c % 3)'s sum: that output is small and shows any error of 2 or more.
          const px = c % 3;
          let sum = 0;
          for (let k = 0; k < inC; k++) sum += <i32>load<i8>(inp + <usize>(px * inC + k)) * <i32>load<i8>(W + <usize>(c * inC + k));
          store<i32>(channelRecord(c), -sum + c);
          store<i32>(channelRecord(c), 1 << 30, 4);
          store<i32>(channelRecord(c), 0, 8);
        }
        const r = check(1 + (a % 5));
        if (r != -1) trace("pair bound case", 3, <f64>a, <f64>pattern, <f64>r);
        expect<i32>(r).toBe(-1);
      }
    }
  });

  it("packed pointwise blocks (8 and 4 channels, one pixel): depths at their limits, extreme sums, mixed requantization", () => {
    // pointwise.ts packs two channels' weights per word for inC <= 144 (8-channel blocks) and
    // inC <= 240 (4-channel blocks, PAIR_CHUNK): all -128 * -128 gives the largest pair sums,
    // +127 * -128 the most negative; random data with a shift-0 channel (the blocks' non-fused
    // requantization) and tiles that split the 8- and 4-channel blocks.
    const inCs = memory.data<i32>([1, 5, 64, 143, 144, 145, 200, 239, 240, 241, 256]);
    for (let a = 0; a < 11; a++) {
      const inC = load<i32>(inCs + <usize>(a << 2));
      for (let pattern = 0; pattern < 3; pattern++) {
        geometry(2, 3, inC, 13, 1, 1, 1, 1, true);
        P.inputOffset = pattern == 2 ? randInt(-127, 128) : 0; P.outputOffset = randInt(-128, 127);
        if (pattern == 2) {
          fillData(9500 + a, 128, 127, 4000);
          for (let c = 0; c < 13; c += 11) store<i32>(channelRecord(c), 0, 8);
        } else {
          const inp = TEST_ARENA + <usize>P.input;
          for (let i = 0; i < 6 * inC; i++) store<i8>(inp + <usize>i, <i8>(pattern == 0 ? -128 : 127));
          for (let i = 0; i < 13 * inC; i++) store<i8>(W + <usize>i, -128);
          cancellingRecords(13, inC * (pattern == 0 ? 16384 : -16256));
        }
        for (let tiles = 0; tiles < 3; tiles++) {
          const r = check(tiles == 0 ? 13 : (tiles == 1 ? 9 : 5));
          if (r != -1) trace("packed pointwise case", 4, <f64>a, <f64>pattern, <f64>tiles, <f64>r);
          expect<i32>(r).toBe(-1);
        }
      }
    }
  });

  it("gathered small filters with paired weights: the largest patches, extreme sums, several strips", () => {
    // conv2d_gather.ts pairs a 4-channel block's weights per tap: patches of 63 and 64 bytes
    // (4x4x4, 3x7x3) of all -128 or all +127 inputs against all -128 weights, VALID so every
    // tap is inside; 5x6 outputs span two strips; each channel's bias cancels its sum.
    for (let shape = 0; shape < 2; shape++) {
      for (let pattern = 0; pattern < 2; pattern++) {
        if (shape == 0) geometry(8, 9, 4, 13, 4, 4, 1, 1, false); else geometry(7, 12, 3, 13, 3, 7, 1, 1, false);
        const r = checkExtremeSums(pattern, 5);
        if (r != -1) trace("gather bound case", 3, <f64>shape, <f64>pattern, <f64>r);
        expect<i32>(r).toBe(-1);
      }
    }
  });

  it("3x3 blocks with paired weights: the deepest filters they take, extreme sums, odd pixel counts", () => {
    // conv2d.ts pairs two channels' weights per tap (columnsPacked) when the filter fits SCRATCH:
    // 3x3 filters of inC 16, 63 and 64 (the largest, 2,304 bytes) with all -128 or +127 inputs
    // against all -128 weights, VALID so every tap is inside, 3 output columns (one unpaired).
    const inCs = memory.data<i32>([16, 63, 64]);
    for (let a = 0; a < 3; a++) {
      for (let pattern = 0; pattern < 2; pattern++) {
        const inC = load<i32>(inCs + <usize>(a << 2));
        geometry(4, 5, inC, 9, 3, 3, 1, 1, false);
        const r = checkExtremeSums(pattern, 4);
        if (r != -1) trace("packed 3x3 bound case", 3, <f64>a, <f64>pattern, <f64>r);
        expect<i32>(r).toBe(-1);
      }
    }
  });

  it("3x3 pair sums stay exact at their bounds: chunks split inside and across filter rows", () => {
    // columns4x2 (conv2d.ts) packs two pixels like pointwise.ts and splits its 64-bit sums every
    // 240 products, counted across the filter rows: spans (3 * inC) below, around and over 240.
    const inCs = memory.data<i32>([20, 79, 80, 81, 100, 164]);
    for (let a = 0; a < 6; a++) {
      for (let pattern = 0; pattern < 3; pattern++) {
        const inC = load<i32>(inCs + <usize>(a << 2));
        geometry(3, 4, inC, 4, 3, 3, 1, 1, false); // VALID: two output pixels, every tap inside
        P.inputOffset = 0; P.outputOffset = 0;
        const inp = TEST_ARENA + <usize>P.input;
        for (let i = 0; i < 12 * inC; i++) {
          const col = (i / inC) % 4;
          const v = pattern == 0 ? -128 : (pattern == 1 ? 127 : ((col & 1) == 0 ? -128 : 127));
          store<i8>(inp + <usize>i, <i8>v);
        }
        const per = 9 * inC;
        for (let c = 0; c < 4; c++) {
          for (let k = 0; k < per; k++) store<i8>(W + <usize>(c * per + k), <i8>(c == 3 ? ((k & 1) == 0 ? 127 : -128) : -128));
          // The bias cancels output pixel (c & 1)'s sum: that output is small and shows any error of 2 or more.
          const ox = c & 1;
          let sum = 0;
          for (let ky = 0; ky < 3; ky++) {
            for (let k = 0; k < 3 * inC; k++) {
              sum += <i32>load<i8>(inp + <usize>((ky * 4 + ox) * inC + k)) * <i32>load<i8>(W + <usize>(c * per + ky * 3 * inC + k));
            }
          }
          store<i32>(channelRecord(c), -sum + c);
          store<i32>(channelRecord(c), 1 << 30, 4);
          store<i32>(channelRecord(c), 0, 8);
        }
        const r = check(4);
        if (r != -1) trace("3x3 pair bound case", 3, <f64>a, <f64>pattern, <f64>r);
        expect<i32>(r).toBe(-1);
      }
    }
  });

  it("interior fast path (4 channels, all taps inside): borders, strides, spans not a multiple of 4", () => {
    setGatherMaxK(0); // these filters are small: without this they would take conv2d_gather.ts
    // conv2d.ts computes 4-channel blocks with word loads (columns4x2 on the columns whose filter
    // columns are all inside, rows clipped at the top and bottom included; sides4 on the other
    // columns) and the channels left over with the generic loop; these cases mix all three in one
    // output, as VWW's first layer (inC 3, stride 2).
    for (let t = 0; t < 24; t++) {
      seedRandom(9500 + t);
      const kH = randInt(1, 3), kW = randInt(2, 4), stride = randInt(1, 2);
      const inC = randInt(1, 6), outC = randInt(4, 10);
      const inH = randInt(kH, 7), inW = randInt(kW, 8);
      geometry(inH, inW, inC, outC, kH, kW, stride, 1, (t & 1) == 0);
      P.inputOffset = randInt(-127, 128); P.outputOffset = randInt(-128, 127);
      fillData(9600 + t, 128, 127, 4000);
      let r = check(randInt(1, outC));
      if (r != -1) trace("interior case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
      fillData(9700 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 2) == 0 ? -1 : 0);
      r = check(P.outC);
      if (r != -1) trace("precise interior case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
    setGatherMaxK(64);
  });
  it("4-channel blocks: tall filters clipped at the top and bottom, long spans with word and byte tails", () => {
    setGatherMaxK(0);
    // columns4x2 folds the input offset over the valid filter rows only; spans of kW * inC up to
    // 60 bytes run several words and a ragged byte tail, odd column counts end with a lone pixel.
    for (let t = 0; t < 16; t++) {
      seedRandom(9800 + t);
      const kH = randInt(2, 5), kW = randInt(1, 3), stride = randInt(1, 2);
      const inC = randInt(3, 20), outC = randInt(4, 9);
      const inH = randInt(1, 7), inW = randInt(kW, 7);
      geometry(inH, inW, inC, outC, kH, kW, stride, 1, (t & 1) == 0 || kH > inH);
      P.inputOffset = randInt(-127, 128); P.outputOffset = randInt(-128, 127);
      fillData(9900 + t, 128, 127, 4000);
      let r = check(randInt(1, outC));
      if (r != -1) trace("clipped-rows case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
      fillData(9950 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 2) == 0 ? -1 : 0);
      r = check(P.outC);
      if (r != -1) trace("precise clipped-rows case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
    setGatherMaxK(64);
  });

  it("gathered small filters: every pixel from one patch, borders as zero points, strips and segments", () => {
    // conv2d_gather.ts takes filters of 4..64 int8 (first layers): strips of 16 pixels paired across
    // rows, 64-channel segments, a 1-3 lane tail word, dilation and strides up to 3.
    for (let t = 0; t < 40; t++) {
      seedRandom(12000 + t);
      const inC = randInt(1, 4), kW = randInt(1, 4);
      const kH = min(randInt(max(1, (3 + kW * inC) / (kW * inC)), 5), 64 / (kW * inC)); // 4 <= kH * kW * inC <= 64
      const stride = randInt(1, 3), dil = randInt(1, 2);
      const outC = (t & 7) == 0 ? randInt(65, 70) : randInt(1, 13);
      const inH = randInt(1, 9), inW = randInt(1, 11);
      geometry(inH, inW, inC, outC, kH, kW, stride, dil, (t & 1) == 0 || (kH - 1) * dil + 1 > inH || (kW - 1) * dil + 1 > inW);
      // Input zero points at both ends of what a patch byte can hold (-128 and 127).
      P.inputOffset = t == 1 ? 128 : (t == 2 ? -127 : randInt(-127, 128));
      P.outputOffset = randInt(-128, 127);
      fillData(12100 + t, 128, 127, 4000);
      let r = check(randInt(1, outC));
      if (r != -1) trace("gathered case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
      fillData(12200 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 2) == 0 ? -1 : 0);
      r = check(P.outC);
      if (r != -1) trace("precise gathered case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("gathered pair sums stay exact at their bound: 64-tap filters of extreme products", () => {
    // 64 products of -128 * -128 = 2^14 in one pair half: 2^20, inside the 2^22 a pair sum allows.
    geometry(6, 7, 4, 9, 4, 4, 1, 1, true);
    P.inputOffset = 128; P.outputOffset = 0; // input zero point -128
    const inBytes = P.inH * P.inW * P.inC;
    for (let i = 0; i < inBytes; i++) store<i8>(TEST_ARENA + <usize>P.input + <usize>i, i % 5 == 0 ? 127 : -128);
    for (let i = 0; i < P.outC * perChannel(); i++) store<i8>(W + <usize>i, (i % 7) == 0 ? 127 : -128);
    fillChannelRecords(P.outC, 100);
    setAllShifts(P.outC, -14, 1 << 30);
    expect<i32>(check(P.outC)).toBe(-1);
    expect<i32>(check(4)).toBe(-1);
  });
});
