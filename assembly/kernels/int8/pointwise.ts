// Fast path of CONV_2D for a 1x1 filter without padding ("pointwise"): a matrix product
//   out[px][oc] = requantize(bias[oc] + sum_k (in[px][k] + inputOffset) * w[oc][k]).
// conv2d_s8 calls it for those shapes; the generic loop in conv2d.ts stays the reference.
//
// Four things make it fast on a Cortex-M running the wasm through wasm2c:
// - The input offset leaves the inner loop: sum_k (x + off) * w = sum_k x * w + off * sum_k w,
//   and off * sum_k w + bias is one constant per channel, computed once per tile. Exact: both
//   sides are equal modulo 2^32 and i32 arithmetic wraps.
// - Words instead of bytes: inputs and weights are read as i32 (4 int8 lanes) and split into
//   lanes in registers (one instruction each on Arm), so each checked load feeds 4 lanes.
// - Register blocking: 4 output channels x 2 pixels share every loaded word (per 4 k: 2 input
//   and 4 weight words feed 32 multiply-adds), and the 4 results of a pixel go out as one word.
//   Channels left over (n % 4) run 1 channel x 4 pixels.
// - Two pixels per multiply: the 4x2 block packs the two pixels' inputs into one i32
//   (xa + xb * 2^23, see pair()) and multiplies each weight by it into a 64-bit sum, which the
//   Cortex-M does in one smlal: half the multiply instructions. Measured on qemu-m4, about 25% fewer
//   instructions in the block's loop than one 32-bit multiply-add per product.
// A block that runs past the last pixel of a row re-reads that last pixel (same pointer) and
// discards those results, so every block has the same straight-line body.
//
// For inC <= 240 (every non-sparse pointwise layer of the MLPerf Tiny models) the packed blocks
// replace the 4x2 block: the pairing moves to the weights (two channels per word, packed once
// per block into SCRATCH), one pixel at a time, so an input byte is one sign-extending load and
// each word of weights one smlal, without lane extractions; 8-channel blocks for inC <= 144.
// Each accumulator's multiply-adds are written one after the other: a sum of products added
// at the end costs gcc a register pair more and spills (measured: KWS's pointwise layers
// 3.68 -> 2.47 instructions per MAC with both changes and the fused requantization).
import { ConvParams, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { SCRATCH, SCRATCH_BYTES } from "./scratch";
import { dot4, dot8, sumInt8, requantize, lane0, lane1, lane2, lane3, pair, macPairs, lowSum, highSum, PAIR_CHUNK, setBlockQuant, blockPack, pairWeights } from "./common";

/** True when conv2d_s8 may use pointwise_s8: 1x1 filter, no padding, every output pixel inside the input. */
export function isPointwise(p: ConvParams): bool {
  return p.kH == 1 && p.kW == 1 && p.padH == 0 && p.padW == 0 &&
    (p.outH - 1) * p.strideH < p.inH && (p.outW - 1) * p.strideW < p.inW;
}

/** Output channels [oc0, oc0 + n) of a pointwise CONV_2D; parameters already checked by conv2d_s8. */
export function pointwise_s8(p: ConvParams, tile: usize, oc0: i32, n: i32): void {
  const inW = p.inW, inC = p.inC;
  // Output pixels as rows x cols; a stride-1 layer with whole rows is one long row.
  let rows = p.outH, cols = p.outW;
  const rowStep = p.strideH * inW * inC; // input bytes between output rows
  const pxStep = p.strideW * inC; // input bytes between neighbouring output pixels
  if (p.strideW == 1 && p.strideH == 1 && cols == inW) { cols *= rows; rows = 1; }
  const inBase = ARENA + <usize>p.input;
  const outBase = ARENA + <usize>p.output + <usize>oc0;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);

  let j = 0;
  const packed = inC <= PACKED_MAX_K;
  if (inC <= PACKED8_MAX_K) {
    for (; j + 8 <= n; j += 8) {
      block8x1Packed(p, inBase, rows, cols, rowStep, pxStep, wBase + <usize>(j * inC),
        tile + <usize>(j * CHANNEL_DATA_BYTES), outBase + <usize>j);
    }
  }
  for (; j + 4 <= n; j += 4) {
    if (packed) {
      block4x1Packed(p, inBase, rows, cols, rowStep, pxStep, wBase + <usize>(j * inC),
        tile + <usize>(j * CHANNEL_DATA_BYTES), outBase + <usize>j);
    } else {
      block4x2(p, inBase, rows, cols, rowStep, pxStep, wBase + <usize>(j * inC),
        tile + <usize>(j * CHANNEL_DATA_BYTES), outBase + <usize>j);
    }
  }
  for (; j < n; j++) {
    block1x4(p, inBase, rows, cols, rowStep, pxStep, wBase + <usize>(j * inC),
      tile + <usize>(j * CHANNEL_DATA_BYTES), outBase + <usize>j);
  }
}

/** bias + inputOffset * (sum of the channel's weights): the constant part of its accumulator. */
// @ts-ignore: decorator
@inline
function channelBase(ch: usize, w: usize, inC: i32, inOff: i32): i32 {
  return load<i32>(ch) + inOff * sumInt8(w, inC);
}

/** Largest inC block4x1Packed takes: two packed words per input channel fill SCRATCH. */
const PACKED_MAX_K: i32 = min(SCRATCH_BYTES / 8, <i32>PAIR_CHUNK);

/**
 * block4x2 with the weights paired instead of the inputs, one pixel at a time: per input channel k, SCRATCH holds
 * w0[k] + w1[k] * 2^23 and w2[k] + w3[k] * 2^23 (pair(): two channels' products in one 64-bit
 * multiply-add, exact for inC <= PAIR_CHUNK), built once per block of 4 channels and read for
 * every pixel. Each input byte then needs no unpacking (a sign-extending byte load) and meets
 * 2 packed words in 2 multiply-adds: per 4 inputs 4 input and 8 weight loads feed 8 multiply-adds
 * (16 products), and only 2 sums (4 registers) stay live, so nothing spills.
 */
function block4x1Packed(p: ConvParams, inBase: usize, rows: i32, cols: i32, rowStep: i32, pxStep: i32,
  w0: usize, ch: usize, out: usize): void {
  const inC = p.inC, outC = p.outC, inOff = p.inputOffset;
  const outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const w1 = w0 + <usize>inC, w2 = w1 + <usize>inC, w3 = w2 + <usize>inC;
  const c1 = ch + <usize>CHANNEL_DATA_BYTES, c2 = c1 + <usize>CHANNEL_DATA_BYTES, c3 = c2 + <usize>CHANNEL_DATA_BYTES;
  const base0 = channelBase(ch, w0, inC, inOff), base1 = channelBase(c1, w1, inC, inOff);
  const base2 = channelBase(c2, w2, inC, inOff), base3 = channelBase(c3, w3, inC, inOff);
  setBlockQuant(ch, outOff);
  pairWeights(SCRATCH, w0, inC, inC, 2);
  const wEnd4 = SCRATCH + <usize>((inC & ~3) << 3), wEnd = SCRATCH + <usize>(inC << 3);

  for (let r = 0; r < rows; r++) {
    let x = inBase + <usize>(r * rowStep);
    let outP = out + <usize>(r * cols * outC);
    for (let c = 0; c < cols; c++) {
      let px = x;
      let t01: i64 = 0, t23: i64 = 0; // channels 0+1 and 2+3
      let w = SCRATCH;
      while (w < wEnd4) {
        const x0 = <i64>load<i8>(px), x1 = <i64>load<i8>(px, 1), x2 = <i64>load<i8>(px, 2), x3 = <i64>load<i8>(px, 3);
        // one multiply-add after the other (smlal each): a sum of products first would need a register pair more
        t01 += <i64>load<i32>(w) * x0; t01 += <i64>load<i32>(w, 8) * x1; t01 += <i64>load<i32>(w, 16) * x2; t01 += <i64>load<i32>(w, 24) * x3;
        t23 += <i64>load<i32>(w, 4) * x0; t23 += <i64>load<i32>(w, 12) * x1; t23 += <i64>load<i32>(w, 20) * x2; t23 += <i64>load<i32>(w, 28) * x3;
        px += 4; w += 32;
      }
      while (w < wEnd) {
        const x0 = <i64>load<i8>(px);
        t01 += <i64>load<i32>(w) * x0;
        t23 += <i64>load<i32>(w, 4) * x0;
        px += 1; w += 8;
      }
      store<i32>(outP, blockPack(base0 + lowSum(t01), base1 + highSum(t01), base2 + lowSum(t23), base3 + highSum(t23),
        outOff, actMin, actMax));
      x += <usize>pxStep;
      outP += <usize>outC;
    }
  }
}

/** Largest inC block8x1Packed takes: four packed words per input channel fill SCRATCH. */
const PACKED8_MAX_K: i32 = SCRATCH_BYTES / 16;

/** block4x1Packed over 8 channels: 4 packed words per input channel, each input byte feeds 4 multiply-adds. */
function block8x1Packed(p: ConvParams, inBase: usize, rows: i32, cols: i32, rowStep: i32, pxStep: i32,
  w0: usize, ch: usize, out: usize): void {
  const inC = p.inC, outC = p.outC, inOff = p.inputOffset;
  const outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  for (let c = 0; c < 8; c++) {
    store<i32>(BLOCK_BASE + <usize>(c << 2), channelBase(ch + <usize>(c * CHANNEL_DATA_BYTES), w0 + <usize>(c * inC), inC, inOff));
  }
  setBlockQuant(ch, outOff, 2);
  pairWeights(SCRATCH, w0, inC, inC, 4);
  const wEnd4 = SCRATCH + <usize>((inC & ~3) << 4), wEnd = SCRATCH + <usize>(inC << 4);

  for (let r = 0; r < rows; r++) {
    let x = inBase + <usize>(r * rowStep);
    let outP = out + <usize>(r * cols * outC);
    for (let c = 0; c < cols; c++) {
      let px = x;
      let t01: i64 = 0, t23: i64 = 0, t45: i64 = 0, t67: i64 = 0;
      let w = SCRATCH;
      while (w < wEnd4) {
        const x0 = <i64>load<i8>(px), x1 = <i64>load<i8>(px, 1), x2 = <i64>load<i8>(px, 2), x3 = <i64>load<i8>(px, 3);
        t01 += <i64>load<i32>(w) * x0; t01 += <i64>load<i32>(w, 16) * x1; t01 += <i64>load<i32>(w, 32) * x2; t01 += <i64>load<i32>(w, 48) * x3;
        t23 += <i64>load<i32>(w, 4) * x0; t23 += <i64>load<i32>(w, 20) * x1; t23 += <i64>load<i32>(w, 36) * x2; t23 += <i64>load<i32>(w, 52) * x3;
        t45 += <i64>load<i32>(w, 8) * x0; t45 += <i64>load<i32>(w, 24) * x1; t45 += <i64>load<i32>(w, 40) * x2; t45 += <i64>load<i32>(w, 56) * x3;
        t67 += <i64>load<i32>(w, 12) * x0; t67 += <i64>load<i32>(w, 28) * x1; t67 += <i64>load<i32>(w, 44) * x2; t67 += <i64>load<i32>(w, 60) * x3;
        px += 4; w += 64;
      }
      while (w < wEnd) {
        const x0 = <i64>load<i8>(px);
        t01 += <i64>load<i32>(w) * x0; t23 += <i64>load<i32>(w, 4) * x0;
        t45 += <i64>load<i32>(w, 8) * x0; t67 += <i64>load<i32>(w, 12) * x0;
        px += 1; w += 16;
      }
      store<i32>(outP, blockPack(load<i32>(BLOCK_BASE) + lowSum(t01), load<i32>(BLOCK_BASE, 4) + highSum(t01),
        load<i32>(BLOCK_BASE, 8) + lowSum(t23), load<i32>(BLOCK_BASE, 12) + highSum(t23), outOff, actMin, actMax, 0));
      store<i32>(outP + 4, blockPack(load<i32>(BLOCK_BASE, 16) + lowSum(t45), load<i32>(BLOCK_BASE, 20) + highSum(t45),
        load<i32>(BLOCK_BASE, 24) + lowSum(t67), load<i32>(BLOCK_BASE, 28) + highSum(t67), outOff, actMin, actMax, 1));
      x += <usize>pxStep;
      outP += <usize>outC;
    }
  }
}

/** The 8 channels' constant parts (channelBase) of block8x1Packed, at a fixed address. */
const BLOCK_BASE: usize = memory.data(8 * 4, 16);

/** Channels w0.. (4 consecutive weight rows, records at ch) over every pixel, 2 pixels at a time. */
function block4x2(p: ConvParams, inBase: usize, rows: i32, cols: i32, rowStep: i32, pxStep: i32,
  w0: usize, ch: usize, out: usize): void {
  const inC = p.inC, outC = p.outC, inOff = p.inputOffset;
  const outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const w1 = w0 + <usize>inC, w2 = w1 + <usize>inC, w3 = w2 + <usize>inC;
  const c1 = ch + <usize>CHANNEL_DATA_BYTES, c2 = c1 + <usize>CHANNEL_DATA_BYTES, c3 = c2 + <usize>CHANNEL_DATA_BYTES;
  const base0 = channelBase(ch, w0, inC, inOff), base1 = channelBase(c1, w1, inC, inOff);
  const base2 = channelBase(c2, w2, inC, inOff), base3 = channelBase(c3, w3, inC, inOff);
  setBlockQuant(ch, outOff);
  const k4 = <usize>(inC & ~3);
  const kEnd = <usize>inC;

  for (let r = 0; r < rows; r++) {
    let xa = inBase + <usize>(r * rowStep);
    let outP = out + <usize>(r * cols * outC);
    for (let c = 0; c < cols; c += 2) {
      const two = c + 1 < cols;
      const xb = two ? xa + <usize>pxStep : xa;
      let a0 = base0, a1 = base1, a2 = base2, a3 = base3; // pixel a
      let b0 = base0, b1 = base1, b2 = base2, b3 = base3; // pixel b
      let k: usize = 0;
      while (k < k4) {
        const kc = min(k + PAIR_CHUNK, k4);
        let t0: i64 = 0, t1: i64 = 0, t2: i64 = 0, t3: i64 = 0;
        for (; k < kc; k += 4) {
          const xA = load<i32>(xa + k), xB = load<i32>(xb + k);
          const x0 = pair(lane0(xA), lane0(xB)), x1 = pair(lane1(xA), lane1(xB));
          const x2 = pair(lane2(xA), lane2(xB)), x3 = pair(lane3(xA), lane3(xB));
          let w = load<i32>(w0 + k);
          t0 = macPairs(t0, w, x0, x1, x2, x3);
          w = load<i32>(w1 + k);
          t1 = macPairs(t1, w, x0, x1, x2, x3);
          w = load<i32>(w2 + k);
          t2 = macPairs(t2, w, x0, x1, x2, x3);
          w = load<i32>(w3 + k);
          t3 = macPairs(t3, w, x0, x1, x2, x3);
        }
        a0 += lowSum(t0); b0 += highSum(t0); a1 += lowSum(t1); b1 += highSum(t1);
        a2 += lowSum(t2); b2 += highSum(t2); a3 += lowSum(t3); b3 += highSum(t3);
      }
      for (; k < kEnd; k++) {
        const xA = <i32>load<i8>(xa + k), xB = <i32>load<i8>(xb + k);
        let w = <i32>load<i8>(w0 + k);
        a0 += xA * w; b0 += xB * w;
        w = <i32>load<i8>(w1 + k);
        a1 += xA * w; b1 += xB * w;
        w = <i32>load<i8>(w2 + k);
        a2 += xA * w; b2 += xB * w;
        w = <i32>load<i8>(w3 + k);
        a3 += xA * w; b3 += xB * w;
      }
      store<i32>(outP, blockPack(a0, a1, a2, a3, outOff, actMin, actMax));
      if (two) {
        store<i32>(outP + <usize>outC, blockPack(b0, b1, b2, b3, outOff, actMin, actMax));
      }
      xa += <usize>(2 * pxStep);
      outP += <usize>(2 * outC);
    }
  }
}

/** One channel (weights w, record ch) over every pixel, 4 pixels at a time. */
function block1x4(p: ConvParams, inBase: usize, rows: i32, cols: i32, rowStep: i32, pxStep: i32,
  w: usize, ch: usize, out: usize): void {
  const inC = p.inC, outC = p.outC, inOff = p.inputOffset;
  const outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const base = channelBase(ch, w, inC, inOff);
  const m = load<i32>(ch, 4), s = load<i32>(ch, 8);
  const k8 = <usize>(inC & ~7), k4 = <usize>(inC & ~3);
  const kEnd = <usize>inC;

  for (let r = 0; r < rows; r++) {
    let xa = inBase + <usize>(r * rowStep);
    let outP = out + <usize>(r * cols * outC);
    for (let c = 0; c < cols; c += 4) {
      const left = cols - c; // pixels of this block that exist (>= 1); missing ones re-read the last
      const xb = left > 1 ? xa + <usize>pxStep : xa;
      const xc = left > 2 ? xb + <usize>pxStep : xb;
      const xd = left > 3 ? xc + <usize>pxStep : xc;
      let a = base, b = base, cc = base, d = base;
      let k: usize = 0;
      for (; k < k8; k += 8) {
        const wv = load<i64>(w + k);
        a += dot8(load<i64>(xa + k), wv);
        b += dot8(load<i64>(xb + k), wv);
        cc += dot8(load<i64>(xc + k), wv);
        d += dot8(load<i64>(xd + k), wv);
      }
      for (; k < k4; k += 4) {
        const wv = load<i32>(w + k);
        a += dot4(load<i32>(xa + k), wv);
        b += dot4(load<i32>(xb + k), wv);
        cc += dot4(load<i32>(xc + k), wv);
        d += dot4(load<i32>(xd + k), wv);
      }
      for (; k < kEnd; k++) {
        const wv = <i32>load<i8>(w + k);
        a += <i32>load<i8>(xa + k) * wv;
        b += <i32>load<i8>(xb + k) * wv;
        cc += <i32>load<i8>(xc + k) * wv;
        d += <i32>load<i8>(xd + k) * wv;
      }
      store<i8>(outP, <i8>requantize(a, m, s, outOff, actMin, actMax));
      if (left > 1) store<i8>(outP + <usize>outC, <i8>requantize(b, m, s, outOff, actMin, actMax));
      if (left > 2) store<i8>(outP + <usize>(2 * outC), <i8>requantize(cc, m, s, outOff, actMin, actMax));
      if (left > 3) store<i8>(outP + <usize>(3 * outC), <i8>requantize(d, m, s, outOff, actMin, actMax));
      xa += <usize>(4 * pxStep);
      outP += <usize>(4 * outC);
    }
  }
}
