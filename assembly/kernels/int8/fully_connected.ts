// int8 FULLY_CONNECTED, bit-exact with TFLite (Micro)'s reference_integer_ops::FullyConnected
// (with a per-channel multiplier/shift, as the per-channel variant):
//   acc = sum_i (in + inputOffset) * (w + filterOffset) + bias, requantized, + outputOffset, clamped.
// Computes output channels [oc0, oc1) from one weight tile (see host/format/spec.ts):
//   [bias i32, multiplier i32, shift i32] x n, then n x [inC] int8 weights.
//
// The inner loop is sum_i (in + inputOffset) * w; the filter offset (usually 0) is folded in
// afterwards as filterOffset * sum_i (in + inputOffset), computed once per batch row. This is
// exact: both forms are equal modulo 2^32, and i32 arithmetic wraps.
//
// Speed (the Cortex-M build checks or masks every wasm load): inputs and weights are read a word
// (4 int8 lanes) at a time and split in registers; channels go in blocks of 4 (or 3, the tile size
// of tight arenas) so each input word, with the input offset added to its lanes once, feeds 12-16
// multiply-adds. Adding the offset to the input lanes (instead of folding inputOffset * sum(w) into
// the bias) is cheaper here: with one batch row the weight sum would cost one add per weight.
import { FullyConnectedParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { requantizeChannel, channelTileOk, lane0, lane1, lane2, lane3, pack4, dotLanes } from "./common";

/** filterOffset * sum_i (in[i] + inputOffset) over one input row; 0 without a filter offset. */
// @ts-ignore: decorator
@inline
function filterOffsetTerm(inRow: usize, inC: i32, inOff: i32, fOff: i32): i32 {
  if (fOff == 0) return 0;
  let s: i32 = 0;
  for (let i = 0; i < inC; i++) s += <i32>load<i8>(inRow + <usize>i);
  return fOff * (s + inC * inOff);
}

export function fully_connected_s8(p: FullyConnectedParams, tile: usize, oc0: i32, oc1: i32): i32 {
  const batches = p.batches, inC = p.inC, outC = p.outC;
  const inOff = p.inputOffset, fOff = p.filterOffset, outOff = p.outputOffset;
  const actMin = p.actMin, actMax = p.actMax;

  if (batches < 0 || inC < 1 || outC < 1) return STATUS_KERNEL;
  if (!channelTileOk(tile, oc0, oc1, outC, actMin, actMax)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  if (n == 0) return STATUS_OK;

  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  let inRow = ARENA + <usize>p.input;
  let outRow = ARENA + <usize>p.output + <usize>oc0;

  for (let b = 0; b < batches; b++) {
    const rowTerm = filterOffsetTerm(inRow, inC, inOff, fOff); // shared by every channel of this row
    let j = 0;
    // Four channels per pass over the input row: each input word (and its offset lanes) feeds 16 MACs.
    for (; j + 4 <= n; j += 4) {
      const chP = tile + <usize>(j * CHANNEL_DATA_BYTES);
      block4(inRow, wBase + <usize>(j * inC), inC, inOff, chP, rowTerm, outRow + <usize>j, outOff, actMin, actMax);
    }
    if (j + 3 == n) { // tiles of 3 channels are common when the arena is tight
      const chP = tile + <usize>(j * CHANNEL_DATA_BYTES);
      block3(inRow, wBase + <usize>(j * inC), inC, inOff, chP, rowTerm, outRow + <usize>j, outOff, actMin, actMax);
      j += 3;
    }
    for (; j < n; j++) {
      const chP = tile + <usize>(j * CHANNEL_DATA_BYTES);
      const acc = dotOffsetWords(inRow, wBase + <usize>(j * inC), inC, inOff) + rowTerm;
      store<i8>(outRow + <usize>j, <i8>requantizeChannel(acc, chP, outOff, actMin, actMax));
    }
    inRow += <usize>inC;
    outRow += <usize>outC;
  }
  return STATUS_OK;
}

/**
 * sum_i (x[i] + off) * w[i] over len bytes, reading both operands a word (4 int8 lanes) at a time.
 * Same value as dotOffset in common.ts (the tests compare both with the reference).
 */
// @ts-ignore: decorator
@inline
function dotOffsetWords(x: usize, w: usize, len: i32, off: i32): i32 {
  let acc: i32 = 0;
  const end = x + <usize>len;
  const end4 = x + <usize>(len & ~3);
  while (x < end4) {
    const xv = load<i32>(x);
    acc += dotLanes(lane0(xv) + off, lane1(xv) + off, lane2(xv) + off, lane3(xv) + off, load<i32>(w));
    x += 4;
    w += 4;
  }
  while (x < end) {
    acc += (<i32>load<i8>(x) + off) * <i32>load<i8>(w);
    x++;
    w++;
  }
  return acc;
}

/** Four consecutive channels (weight rows w0.., records at ch) of one input row; 4 outputs as one word. */
function block4(x: usize, w0: usize, inC: i32, off: i32, ch: usize, rowTerm: i32, out: usize,
  outOff: i32, actMin: i32, actMax: i32): void {
  const stride = <usize>inC;
  const w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
  let a0: i32 = 0, a1: i32 = 0, a2: i32 = 0, a3: i32 = 0;
  const k4 = <usize>(inC & ~3), kEnd = <usize>inC;
  let k: usize = 0;
  for (; k < k4; k += 4) {
    // The input word's four lanes, offset once for all four channels.
    const xv = load<i32>(x + k);
    const x0 = lane0(xv) + off, x1 = lane1(xv) + off, x2 = lane2(xv) + off, x3 = lane3(xv) + off;
    a0 += dotLanes(x0, x1, x2, x3, load<i32>(w0 + k));
    a1 += dotLanes(x0, x1, x2, x3, load<i32>(w1 + k));
    a2 += dotLanes(x0, x1, x2, x3, load<i32>(w2 + k));
    a3 += dotLanes(x0, x1, x2, x3, load<i32>(w3 + k));
  }
  for (; k < kEnd; k++) {
    const xk = <i32>load<i8>(x + k) + off;
    a0 += xk * <i32>load<i8>(w0 + k);
    a1 += xk * <i32>load<i8>(w1 + k);
    a2 += xk * <i32>load<i8>(w2 + k);
    a3 += xk * <i32>load<i8>(w3 + k);
  }
  const c1 = ch + <usize>CHANNEL_DATA_BYTES, c2 = c1 + <usize>CHANNEL_DATA_BYTES, c3 = c2 + <usize>CHANNEL_DATA_BYTES;
  store<i32>(out, pack4(
    requantizeChannel(a0 + rowTerm, ch, outOff, actMin, actMax), requantizeChannel(a1 + rowTerm, c1, outOff, actMin, actMax),
    requantizeChannel(a2 + rowTerm, c2, outOff, actMin, actMax), requantizeChannel(a3 + rowTerm, c3, outOff, actMin, actMax)));
}

/** block4 for three channels (the same loop without the fourth weight row). */
function block3(x: usize, w0: usize, inC: i32, off: i32, ch: usize, rowTerm: i32, out: usize,
  outOff: i32, actMin: i32, actMax: i32): void {
  const stride = <usize>inC;
  const w1 = w0 + stride, w2 = w1 + stride;
  let a0: i32 = 0, a1: i32 = 0, a2: i32 = 0;
  const k4 = <usize>(inC & ~3), kEnd = <usize>inC;
  let k: usize = 0;
  for (; k < k4; k += 4) {
    const xv = load<i32>(x + k);
    const x0 = lane0(xv) + off, x1 = lane1(xv) + off, x2 = lane2(xv) + off, x3 = lane3(xv) + off;
    a0 += dotLanes(x0, x1, x2, x3, load<i32>(w0 + k));
    a1 += dotLanes(x0, x1, x2, x3, load<i32>(w1 + k));
    a2 += dotLanes(x0, x1, x2, x3, load<i32>(w2 + k));
  }
  for (; k < kEnd; k++) {
    const xk = <i32>load<i8>(x + k) + off;
    a0 += xk * <i32>load<i8>(w0 + k);
    a1 += xk * <i32>load<i8>(w1 + k);
    a2 += xk * <i32>load<i8>(w2 + k);
  }
  const c1 = ch + <usize>CHANNEL_DATA_BYTES, c2 = c1 + <usize>CHANNEL_DATA_BYTES;
  store<i8>(out, <i8>requantizeChannel(a0 + rowTerm, ch, outOff, actMin, actMax));
  store<i8>(out, <i8>requantizeChannel(a1 + rowTerm, c1, outOff, actMin, actMax), 1);
  store<i8>(out, <i8>requantizeChannel(a2 + rowTerm, c2, outOff, actMin, actMax), 2);
}

/**
 * Chunked form, for a channel whose weights do not fit the tile buffer: adds
 * sum_{i<n} (in[b][k0+i] + inputOffset) * w[i] to acc[b] for every batch row b.
 */
export function fully_connected_accumulate_s8(p: FullyConnectedParams, acc: usize, w: usize, k0: i32, n: i32): i32 {
  const batches = p.batches, inC = p.inC, inOff = p.inputOffset;
  if (batches < 0 || k0 < 0 || n < 0 || k0 > inC - n) return STATUS_KERNEL;
  let inRow = ARENA + <usize>p.input + <usize>k0;
  for (let b = 0; b < batches; b++) {
    const a = acc + (<usize>b << 2);
    store<i32>(a, load<i32>(a) + dotOffsetWords(inRow, w, n, inOff));
    inRow += <usize>inC;
  }
  return STATUS_OK;
}

/** Chunked form: adds the filter-offset term to acc[b], requantizes and writes output channel oc. */
export function fully_connected_finish_s8(p: FullyConnectedParams, channel: usize, acc: usize, oc: i32): i32 {
  const batches = p.batches, inC = p.inC, outC = p.outC;
  const inOff = p.inputOffset, fOff = p.filterOffset, outOff = p.outputOffset;
  if (batches < 0 || inC < 1 || oc < 0 || oc >= outC) return STATUS_KERNEL;
  if (!channelTileOk(channel, 0, 1, 1, p.actMin, p.actMax)) return STATUS_KERNEL;
  let inRow = ARENA + <usize>p.input;
  let outP = ARENA + <usize>p.output + <usize>oc;
  for (let b = 0; b < batches; b++) {
    const rowTerm = filterOffsetTerm(inRow, inC, inOff, fOff);
    const total = load<i32>(acc + (<usize>b << 2)) + rowTerm;
    store<i8>(outP, <i8>requantizeChannel(total, channel, outOff, p.actMin, p.actMax));
    inRow += <usize>inC;
    outP += <usize>outC;
  }
  return STATUS_OK;
}
