// The grouped fully connected kernel (weights in groups of four channels, input offset folded
// into the bias) gives exactly what fully_connected_s8 (checked against TFLite's reference in
// fully_connected.spec.ts) gives from the same weights in channel rows: whole tiles, tiles of
// 4 and 8 channels, and the chunked form at every chunk size; input rows past the 256-input
// segment of the 64-bit sums, and the extreme values that push each segment's low part furthest.
import { FullyConnectedParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { fully_connected_s8 } from "../../assembly/kernels/int8/fully_connected";
import {
  fully_connected_grouped_prepare, fully_connected_grouped_s8,
  fully_connected_grouped_accumulate_s8, fully_connected_grouped_finish_s8,
} from "../../assembly/kernels/int8/fully_connected_grouped";
import { seedRandom, randInt, TEST_ARENA, useTestArena, staticParams } from "./support";

// Arena offsets: input row, two outputs, the row tile, the grouped tile, chunk buffers.
const INPUT = 0, OUT_ROWS = 1024, OUT_GROUPED = 1088, ROW_TILE = 1152, GROUPED_TILE = 12000;
const CHAN = 23000, ACC = 23048, W = 23064;
const MAX_OUT = 16;

const P = staticParams<FullyConnectedParams>();

function at(offset: i32): usize { return TEST_ARENA + <usize>offset; }
function rowWeight(c: i32, k: i32): i32 { return <i32>load<i8>(at(ROW_TILE + 12 * P.outC + c * P.inC + k)); }

/** Weights and input from [lo, hi]; random channel records. */
function setup(inC: i32, outC: i32, inputOffset: i32, lo: i32, hi: i32): void {
  useTestArena();
  P.input = INPUT; P.batches = 1; P.inC = inC; P.outC = outC;
  P.inputOffset = inputOffset; P.filterOffset = 0; P.outputOffset = randInt(-20, 20); P.actMin = -128; P.actMax = 127;
  for (let i = 0; i < inC; i++) store<i8>(at(INPUT + i), <i8>randInt(lo, hi));
  for (let c = 0; c < outC; c++) {
    const ch = at(ROW_TILE + 12 * c);
    store<i32>(ch, randInt(-30000, 30000));
    store<i32>(ch, 1073741824 + randInt(0, 1000000000), 4);
    store<i32>(ch, -randInt(8, 14), 8);
    for (let k = 0; k < inC; k++) store<i8>(at(ROW_TILE + 12 * outC + c * inC + k), <i8>randInt(lo, hi));
  }
}

/** The grouped tile of channels [oc0, oc1) at `tile`: folded channel records, then the groups' words. */
function buildGroupedTile(tile: usize, oc0: i32, oc1: i32): void {
  const inC = P.inC, n = oc1 - oc0;
  for (let j = 0; j < n; j++) {
    const c = oc0 + j;
    let sum = 0;
    for (let k = 0; k < inC; k++) sum += rowWeight(c, k);
    memory.copy(tile + <usize>(12 * j), at(ROW_TILE + 12 * c), 12);
    store<i32>(tile + <usize>(12 * j), load<i32>(at(ROW_TILE + 12 * c)) + P.inputOffset * sum);
  }
  let w = tile + <usize>(12 * n);
  for (let g = oc0; g < oc1; g += 4) {
    for (let k = 0; k < inC; k++) {
      for (let lane = 0; lane < 4; lane++) {
        const v = rowWeight(g + lane, k);
        store<u8>(w++, <u8>((lane & 1) == 0 ? v ^ 0x80 : v));
      }
    }
  }
}

function runRows(): void {
  P.output = OUT_ROWS;
  expect<i32>(fully_connected_s8(P, at(ROW_TILE), 0, P.outC)).toBe(STATUS_OK);
}

/** Grouped kernel in tiles of tileCh channels; returns the first output differing from the row kernel's, or -1. */
function firstDifferenceGrouped(tileCh: i32): i32 {
  P.output = OUT_GROUPED;
  memory.fill(at(OUT_GROUPED), 0x5a, MAX_OUT);
  expect<i32>(fully_connected_grouped_prepare(P)).toBe(STATUS_OK);
  for (let oc0 = 0; oc0 < P.outC; oc0 += tileCh) {
    const oc1 = min(P.outC, oc0 + tileCh);
    buildGroupedTile(at(GROUPED_TILE), oc0, oc1);
    expect<i32>(fully_connected_grouped_s8(P, at(GROUPED_TILE), oc0, oc1)).toBe(STATUS_OK);
  }
  return firstDiff();
}

/** Chunked grouped form, chunk inputs at a time. */
function firstDifferenceChunked(chunk: i32): i32 {
  P.output = OUT_GROUPED;
  memory.fill(at(OUT_GROUPED), 0x5a, MAX_OUT);
  expect<i32>(fully_connected_grouped_prepare(P)).toBe(STATUS_OK);
  for (let oc = 0; oc < P.outC; oc += 4) {
    buildGroupedTile(at(GROUPED_TILE), oc, oc + 4);
    memory.copy(at(CHAN), at(GROUPED_TILE), 48);
    memory.fill(at(ACC), 0, 16);
    for (let k0 = 0; k0 < P.inC; k0 += chunk) {
      const n = min(chunk, P.inC - k0);
      memory.copy(at(W), at(GROUPED_TILE + 48 + 4 * k0), 4 * n);
      expect<i32>(fully_connected_grouped_accumulate_s8(P, at(ACC), at(W), k0, n)).toBe(STATUS_OK);
    }
    expect<i32>(fully_connected_grouped_finish_s8(P, at(CHAN), at(ACC), oc)).toBe(STATUS_OK);
  }
  return firstDiff();
}

function firstDiff(): i32 {
  for (let i = 0; i < P.outC; i++) if (load<i8>(at(OUT_ROWS + i)) != load<i8>(at(OUT_GROUPED + i))) return i;
  return -1;
}

describe("fully_connected_grouped_s8", () => {
  it("matches the row kernel for input lengths across the 256-input segments, in whole tiles and tiles of 4 and 8", () => {
    seedRandom(777);
    const lengths = memory.data<i32>([1, 2, 3, 4, 5, 7, 8, 9, 63, 128, 255, 256, 257, 300, 511, 513, 640]);
    for (let i = 0; i < 17; i++) {
      const inC = load<i32>(lengths + (<usize>i << 2));
      setup(inC, 8, randInt(-128, 127), -128, 127);
      runRows();
      expect<i32>(firstDifferenceGrouped(8)).toBe(-1);
      expect<i32>(firstDifferenceGrouped(4)).toBe(-1);
    }
    setup(100, 16, 5, -128, 127);
    runRows();
    expect<i32>(firstDifferenceGrouped(16)).toBe(-1);
    expect<i32>(firstDifferenceGrouped(12)).toBe(-1);
  });

  it("stays exact at the extremes: every input and weight -128 or 127, 640 inputs", () => {
    const ends = memory.data<i32>([-128, -128, -128, 127, 127, -128, 127, 127]);
    for (let e = 0; e < 4; e++) {
      seedRandom(900 + e);
      const x = load<i32>(ends + (<usize>(2 * e) << 2)), w = load<i32>(ends + (<usize>(2 * e + 1) << 2));
      setup(640, 8, 0, 0, 0);
      for (let i = 0; i < 640; i++) store<i8>(at(INPUT + i), <i8>x);
      for (let c = 0; c < 8; c++) for (let k = 0; k < 640; k++) store<i8>(at(ROW_TILE + 12 * 8 + c * 640 + k), <i8>w);
      // Scale the sums (about 2^23.3) into the int8 range: shift -17 with a multiplier in [0.5, 1).
      for (let c = 0; c < 8; c++) store<i32>(at(ROW_TILE + 12 * c + 8), -17);
      runRows();
      let clamped = 0;
      for (let i = 0; i < 8; i++) { const v = load<i8>(at(OUT_ROWS + i)); if (v == -128 || v == 127) clamped++; }
      expect<i32>(clamped).toBeLessThan(8); // the case checks real values, not only saturation
      expect<i32>(firstDifferenceGrouped(8)).toBe(-1);
    }
  });

  it("chunked: matches the row kernel for every chunk size", () => {
    seedRandom(31337);
    setup(37, 8, -7, -128, 127);
    runRows();
    for (let chunk = 1; chunk <= 37; chunk++) expect<i32>(firstDifferenceChunked(chunk)).toBe(-1);
    setup(600, 4, 100, -128, 127);
    runRows();
    expect<i32>(firstDifferenceChunked(48)).toBe(-1);
    expect<i32>(firstDifferenceChunked(300)).toBe(-1);
  });

  it("refuses what the layout cannot hold: batches, a filter offset, channels not in groups of 4, chunks past the row", () => {
    seedRandom(5);
    setup(16, 8, 0, -128, 127);
    P.batches = 2;
    expect<i32>(fully_connected_grouped_prepare(P)).toBe(STATUS_KERNEL);
    P.batches = 1; P.filterOffset = 1;
    expect<i32>(fully_connected_grouped_prepare(P)).toBe(STATUS_KERNEL);
    P.filterOffset = 0; P.outC = 6;
    expect<i32>(fully_connected_grouped_prepare(P)).toBe(STATUS_KERNEL);
    P.outC = 8;
    expect<i32>(fully_connected_grouped_prepare(P)).toBe(STATUS_OK);
    buildGroupedTile(at(GROUPED_TILE), 0, 8);
    expect<i32>(fully_connected_grouped_s8(P, at(GROUPED_TILE), 0, 6)).toBe(STATUS_KERNEL);
    expect<i32>(fully_connected_grouped_s8(P, at(GROUPED_TILE), 4, 12)).toBe(STATUS_KERNEL);
    expect<i32>(fully_connected_grouped_accumulate_s8(P, at(ACC), at(W), 10, 7)).toBe(STATUS_KERNEL);
    expect<i32>(fully_connected_grouped_finish_s8(P, at(CHAN), at(ACC), 6)).toBe(STATUS_KERNEL);
  });
});
