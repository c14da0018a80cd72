// Sparse 1x1 convolution: the same bytes as the dense kernel (itself checked against a
// literal reference in conv2d.spec.ts) for mostly-zero, all-zero and dense channels,
// strides 1 and 2, whole-layer and split tiles; malformed blocks are refused.
import { ConvParams } from "../../assembly/format";
import { conv2d_s8 } from "../../assembly/kernels/int8/conv2d";
import { conv2d_sparse_1x1_s8, sparseBlockBytes } from "../../assembly/kernels/int8/conv2d_sparse";
import { seedRandom, randInt, TEST_ARENA, useTestArena, staticParams, fillChannelRecords, copyChannelRecords, buildRowTile, firstDifference } from "./support";

const IN_H = 7, IN_W = 6, IN_C = 21, OUT_C = 9;
const INPUT = 0, DENSE_OUT = 2048, SPARSE_OUT = 4096, DENSE_TILE = 8192, SPARSE_TILE = 16384;
const WEIGHTS: usize = memory.data(OUT_C * IN_C, 16);

function setup(p: ConvParams, stride: i32): void {
  p.input = INPUT; p.inH = IN_H; p.inW = IN_W; p.inC = IN_C;
  p.outH = (IN_H - 1) / stride + 1; p.outW = (IN_W - 1) / stride + 1; p.outC = OUT_C;
  p.kH = 1; p.kW = 1; p.strideH = stride; p.strideW = stride; p.dilH = 1; p.dilW = 1; p.padH = 0; p.padW = 0;
  p.depthMultiplier = 1; p.inputOffset = randInt(-20, 20); p.outputOffset = randInt(-10, 10);
  p.actMin = -128; p.actMax = 127;
  for (let i = 0; i < IN_H * IN_W * IN_C; i++) store<i8>(TEST_ARENA + <usize>(INPUT + i), <i8>randInt(-128, 127));
  for (let c = 0; c < OUT_C; c++) {
    for (let i = 0; i < IN_C; i++) {
      let w = randInt(0, 9) < 7 ? 0 : randInt(-127, 127); // ~70% zeros, like a pruned layer
      if (c == 2) w = 0; // a channel with no weights at all
      if (c == 5) w = randInt(1, 127); // a dense channel (odd nnz = 21: padded block)
      store<i8>(WEIGHTS + <usize>(c * IN_C + i), <i8>w);
    }
  }
  fillChannelRecords(OUT_C, 3000);
}

/** Writes the sparse tile of channels [oc0, oc1) at `tile` (after its length word); returns its end. */
function buildSparseTile(tile: usize, oc0: i32, oc1: i32): usize {
  let b = copyChannelRecords(tile, oc0, oc1);
  for (let c = oc0; c < oc1; c++) {
    let nnz = 0;
    for (let i = 0; i < IN_C; i++) if (load<i8>(WEIGHTS + <usize>(c * IN_C + i)) != 0) nnz++;
    store<u16>(b, <u16>nnz);
    let k = 0;
    for (let i = 0; i < IN_C; i++) {
      const w = load<i8>(WEIGHTS + <usize>(c * IN_C + i));
      if (w == 0) continue;
      store<u16>(b + 2 + <usize>(k << 1), <u16>i);
      store<i8>(b + 2 + <usize>(nnz << 1) + <usize>k, w);
      k++;
    }
    b += <usize>sparseBlockBytes(nnz);
  }
  return b;
}

describe("sparse 1x1 convolution", () => {
  it("gives the dense kernel's bytes for strides 1 and 2, in one tile or split", () => {
    useTestArena();
    const p = staticParams<ConvParams>();
    for (let seed = 1; seed <= 6; seed++) {
      seedRandom(seed);
      const stride = seed % 2 + 1;
      setup(p, stride);
      const n = p.outH * p.outW * OUT_C;
      p.output = DENSE_OUT;
      buildRowTile(TEST_ARENA + DENSE_TILE, WEIGHTS, IN_C, 0, OUT_C);
      expect<i32>(conv2d_s8(p, TEST_ARENA + DENSE_TILE, 0, OUT_C)).toBe(0);
      p.output = SPARSE_OUT;
      for (let split = 1; split <= OUT_C; split += 4) {
        memory.fill(TEST_ARENA + SPARSE_OUT, 0x55, <usize>n);
        let end = buildSparseTile(TEST_ARENA + SPARSE_TILE, 0, split);
        expect<i32>(conv2d_sparse_1x1_s8(p, TEST_ARENA + SPARSE_TILE, end, 0, split)).toBe(0);
        if (split < OUT_C) {
          end = buildSparseTile(TEST_ARENA + SPARSE_TILE, split, OUT_C);
          expect<i32>(conv2d_sparse_1x1_s8(p, TEST_ARENA + SPARSE_TILE, end, split, OUT_C)).toBe(0);
        }
        expect<i32>(firstDifference(TEST_ARENA + SPARSE_OUT, TEST_ARENA + DENSE_OUT, n)).toBe(-1);
      }
    }
  });

  it("gives the dense kernel's bytes when a row ends one pixel into a 4-pixel block (inW 5 and 1)", () => {
    useTestArena();
    const p = staticParams<ConvParams>();
    const widths = memory.data<i32>([5, 1, 9]);
    for (let t = 0; t < 6; t++) {
      seedRandom(40 + t);
      const stride = t % 2 + 1;
      setup(p, stride);
      p.inW = load<i32>(widths + <usize>((t >> 1) << 2)); // a narrower view of the same input bytes
      if (p.inW * p.inH * IN_C > DENSE_OUT) p.inH = DENSE_OUT / (p.inW * IN_C);
      p.outH = (p.inH - 1) / stride + 1; p.outW = (p.inW - 1) / stride + 1;
      const n = p.outH * p.outW * OUT_C;
      p.output = DENSE_OUT;
      buildRowTile(TEST_ARENA + DENSE_TILE, WEIGHTS, IN_C, 0, OUT_C);
      expect<i32>(conv2d_s8(p, TEST_ARENA + DENSE_TILE, 0, OUT_C)).toBe(0);
      p.output = SPARSE_OUT;
      memory.fill(TEST_ARENA + SPARSE_OUT, 0x55, <usize>n);
      const end = buildSparseTile(TEST_ARENA + SPARSE_TILE, 0, OUT_C);
      expect<i32>(conv2d_sparse_1x1_s8(p, TEST_ARENA + SPARSE_TILE, end, 0, OUT_C)).toBe(0);
      expect<i32>(firstDifference(TEST_ARENA + SPARSE_OUT, TEST_ARENA + DENSE_OUT, n)).toBe(-1);
    }
  });

  it("refuses an index past the input channels, a block past the tile, and a non-1x1 shape", () => {
    useTestArena();
    seedRandom(9);
    const p = staticParams<ConvParams>();
    setup(p, 1);
    p.output = SPARSE_OUT;
    const tile = TEST_ARENA + SPARSE_TILE;
    const end = buildSparseTile(tile, 0, OUT_C);
    expect<i32>(conv2d_sparse_1x1_s8(p, tile, end, 0, OUT_C)).toBe(0);
    expect<i32>(conv2d_sparse_1x1_s8(p, tile, end - 1, 0, OUT_C)).not.toBe(0);
    // channel 0's first index -> IN_C
    const first = tile + <usize>(OUT_C * 12);
    if (load<u16>(first) > 0) {
      const saved = load<u16>(first, 2);
      store<u16>(first, <u16>IN_C, 2);
      expect<i32>(conv2d_sparse_1x1_s8(p, tile, end, 0, OUT_C)).not.toBe(0);
      store<u16>(first, saved, 2);
    }
    p.kH = 3;
    expect<i32>(conv2d_sparse_1x1_s8(p, tile, end, 0, OUT_C)).not.toBe(0);
  });
});
