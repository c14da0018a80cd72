// int8 FULLY_CONNECTED, bit-exact with TFLite (Micro)'s reference_integer_ops::FullyConnected
// (with a per-channel multiplier/shift, as the per-channel variant):
//   acc = sum_i (in + inputOffset) * (w + filterOffset) + bias, requantized, + outputOffset, clamped.
// Computes output channels [oc0, oc1) from one weight tile (see host/format/spec.ts):
//   [bias i32, multiplier i32, shift i32] x n, then n x [inC] int8 weights.
//
// The inner loop is sum_i (in + inputOffset) * w; the filter offset (usually 0) is folded in
// afterwards as filterOffset * sum_i (in + inputOffset), computed once per batch row. This is
// exact: both forms are equal modulo 2^32, and i32 arithmetic wraps.
import { FullyConnectedParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { dotOffset, requantizeChannel, channelTileOk } from "./common";

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
    let chP = tile;
    let wP = wBase;
    let outP = outRow;
    for (let j = 0; j < n; j++) {
      const acc = dotOffset(inRow, wP, inC, inOff) + rowTerm;
      store<i8>(outP, <i8>requantizeChannel(acc, chP, outOff, actMin, actMax));
      outP++;
      chP += <usize>CHANNEL_DATA_BYTES;
      wP += <usize>inC;
    }
    inRow += <usize>inC;
    outRow += <usize>outC;
  }
  return STATUS_OK;
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
    store<i32>(a, load<i32>(a) + dotOffset(inRow, w, n, inOff));
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
