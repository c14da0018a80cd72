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
import { multiplyByQuantizedMultiplier } from "../../quant";

/** sum over i < len of (x[i] + off) * w[i], for contiguous int8 x and w. */
// @ts-ignore: decorator
@inline
function dotOffset(x: usize, w: usize, len: i32, off: i32): i32 {
  let acc0: i32 = 0, acc1: i32 = 0;
  const end = x + <usize>len;
  const end4 = x + <usize>(len & ~3);
  while (x < end4) {
    acc0 += (<i32>load<i8>(x) + off) * <i32>load<i8>(w);
    acc1 += (<i32>load<i8>(x, 1) + off) * <i32>load<i8>(w, 1);
    acc0 += (<i32>load<i8>(x, 2) + off) * <i32>load<i8>(w, 2);
    acc1 += (<i32>load<i8>(x, 3) + off) * <i32>load<i8>(w, 3);
    x += 4;
    w += 4;
  }
  while (x < end) {
    acc0 += (<i32>load<i8>(x) + off) * <i32>load<i8>(w);
    x++;
    w++;
  }
  return acc0 + acc1;
}

export function fully_connected_s8(p: FullyConnectedParams, tile: usize, oc0: i32, oc1: i32): i32 {
  const batches = p.batches, inC = p.inC, outC = p.outC;
  const inOff = p.inputOffset, fOff = p.filterOffset, outOff = p.outputOffset;
  const actMin = p.actMin, actMax = p.actMax;

  if (batches < 0 || inC < 1 || outC < 1) return STATUS_KERNEL;
  if (oc0 < 0 || oc1 > outC || oc0 > oc1) return STATUS_KERNEL;
  if (actMin < -128 || actMax > 127 || actMin > actMax) return STATUS_KERNEL;
  const n = oc1 - oc0;
  for (let j = 0; j < n; j++) {
    const shift = load<i32>(tile + <usize>(j * CHANNEL_DATA_BYTES), 8);
    if (shift < -31 || shift > 30) return STATUS_KERNEL;
  }
  if (n == 0) return STATUS_OK;

  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  let inRow = ARENA + <usize>p.input;
  let outRow = ARENA + <usize>p.output + <usize>oc0;

  for (let b = 0; b < batches; b++) {
    // filterOffset * sum_i (in + inputOffset), shared by every channel of this row.
    let rowTerm: i32 = 0;
    if (fOff != 0) {
      let s: i32 = 0;
      for (let i = 0; i < inC; i++) s += <i32>load<i8>(inRow + <usize>i);
      rowTerm = fOff * (s + inC * inOff);
    }
    let chP = tile;
    let wP = wBase;
    let outP = outRow;
    for (let j = 0; j < n; j++) {
      let acc = dotOffset(inRow, wP, inC, inOff) + rowTerm;
      acc += load<i32>(chP);
      acc = multiplyByQuantizedMultiplier(acc, load<i32>(chP, 4), load<i32>(chP, 8));
      acc += outOff;
      acc = acc < actMin ? actMin : (acc > actMax ? actMax : acc);
      store<i8>(outP, <i8>acc);
      outP++;
      chP += <usize>CHANNEL_DATA_BYTES;
      wP += <usize>inC;
    }
    inRow += <usize>inC;
    outRow += <usize>outC;
  }
  return STATUS_OK;
}
