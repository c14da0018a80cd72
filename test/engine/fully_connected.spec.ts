// fully_connected_s8 against a plain reference written from TFLite's
// reference_integer_ops::FullyConnected (per-channel multiplier and shift).
import { FullyConnectedParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { fully_connected_s8 } from "../../assembly/kernels/int8/fully_connected";
import {
  seedRandom, randInt, fillAroundZeroPoint, TEST_ARENA, useTestArena, staticParams,
  refMultiplyByQuantizedMultiplier, REF, GUARD, channelRecord, fillChannelRecords, setAllShifts, setPreciseChannels,
  buildRowTile, fillWithSentinel, checkTiles, checkChannelRange, atMin, atMax, inside, countClamped,
} from "./support";

// ---- buffers (static; no allocation) ----
const W = memory.data(16384, 16); // model filter [outC][inC]
const TILE = memory.data(17152, 16);
const P = staticParams<FullyConnectedParams>();
const IN_AT: i32 = 8;
const SENT: i8 = 0x33;

// ---- plain reference (literal transcription of the C++) ----
function refFullyConnected(out: usize): void {
  const inBase = TEST_ARENA + <usize>P.input;
  for (let b = 0; b < P.batches; b++) {
    for (let oc = 0; oc < P.outC; oc++) {
      let acc: i32 = 0;
      for (let d = 0; d < P.inC; d++) {
        const inV = <i32>load<i8>(inBase + <usize>(b * P.inC + d));
        const wV = <i32>load<i8>(W + <usize>(oc * P.inC + d));
        acc += (wV + P.filterOffset) * (inV + P.inputOffset);
      }
      acc += load<i32>(channelRecord(oc));
      acc = refMultiplyByQuantizedMultiplier(acc, load<i32>(channelRecord(oc), 4), load<i32>(channelRecord(oc), 8));
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
  useTestArena();
}

function outBytes(): i32 { return P.batches * P.outC; }
function outAddr(): usize { return TEST_ARENA + <usize>P.output; }
function outAt(i: i32): i8 { return load<i8>(outAddr() + <usize>i); }

/** Random input around the input zero point, weights around the filter zero point, channel data. */
function fillData(s: u32, r: i32, wMax: i32, biasMax: i32): void {
  seedRandom(s);
  fillAroundZeroPoint(TEST_ARENA + <usize>P.input, P.batches * P.inC, -P.inputOffset, r);
  fillAroundZeroPoint(W, P.outC * P.inC, -P.filterOffset, wMax);
  fillChannelRecords(P.outC, biasMax);
}

function buildTile(oc0: i32, oc1: i32): void {
  buildRowTile(TILE, W, P.inC, oc0, oc1);
}

function runTile(oc0: i32, oc1: i32): i32 {
  buildTile(oc0, oc1);
  return fully_connected_s8(P, TILE, oc0, oc1);
}

function check(tileCh: i32): i32 {
  refFullyConnected(REF);
  return checkTiles(runTile, P.outC, tileCh, outAddr(), outBytes(), SENT);
}

function checkPartial(oc0: i32, oc1: i32): i32 {
  refFullyConnected(REF);
  return checkChannelRange(runTile, P.outC, oc0, oc1, outAddr(), outBytes(), SENT);
}

function stats(): void { countClamped(outBytes(), P.actMin, P.actMax); }

/** Case t of both random-shape tests (same shapes): sizes, zero points and, every 4th, a ReLU-style actMin. */
function randomShape(t: i32): void {
  seedRandom(3000 + t);
  const batches = randInt(1, 4), inC = randInt(1, 70), outC = randInt(1, 20);
  shape(batches, inC, outC);
  P.inputOffset = randInt(-127, 128);
  P.filterOffset = (t & 1) == 0 ? 0 : randInt(-20, 20);
  P.outputOffset = randInt(-128, 127);
  if ((t & 3) == 3) { P.actMin = max(-128, P.outputOffset); }
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
      setPreciseChannels(P.outC, 0);
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
    shape(2, 16, 10);
    P.inputOffset = 1;
    fillData(6, 128, 127, 3000);
    setAllShifts(P.outC, -9, 0);
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
      randomShape(t);
      fillData(9000 + t, 128, 100, 5000);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("matches the reference over many random shapes with small values (every accumulator step visible)", () => {
    for (let t = 0; t < 60; t++) {
      randomShape(t);
      fillData(9000 + 500 + t, 2, 2, 20);
      setPreciseChannels(P.outC, (t & 1) == 0 ? -1 : 0);
      const tile = randInt(1, P.outC);
      const r = check(tile);
      if (r != -1) trace("failing precise random case", 2, <f64>t, <f64>r);
      expect<i32>(r).toBe(-1);
    }
  });

  it("rejects nonsensical parameters without writing", () => {
    shape(2, 5, 4);
    fillData(8, 128, 127, 3000);
    fillWithSentinel(outAddr(), outBytes(), SENT);
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

// The word-at-a-time paths: 4- and 3-channel blocks, single channels, and the byte tails
// (inC % 4), for every tile size 1..9 and channel counts that leave every remainder.
describe("fully_connected_s8, blocked word paths", () => {
  it("matches the reference for tile sizes 1..9 and inputs lengths around multiples of 4", () => {
    const lens = memory.data<i32>([1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 31, 32, 33, 128, 130]);
    let t = 0;
    for (let li = 0; li < 15; li++) {
      const inC = load<i32>(lens + <usize>(li << 2));
      const outC = 11;
      for (let b = 1; b <= 2; b++) {
        shape(b, inC, outC);
        P.inputOffset = (t & 1) == 0 ? 128 : -127;
        P.filterOffset = (t % 3) == 0 ? 5 : 0;
        P.outputOffset = randInt(-20, 20);
        fillData(7000 + t, 128, 127, 5000);
        for (let tileCh = 1; tileCh <= 9; tileCh++) {
          const r = check(tileCh);
          if (r != -1) trace("failing blocked case inC batches tileCh", 3, <f64>inC, <f64>b, <f64>tileCh);
          expect<i32>(r).toBe(-1);
        }
        t++;
      }
    }
  });
});
