// int8 1x1 CONV_2D with sparse weights, bit-exact with TFLite's ConvPerChannel: a zero
// weight contributes (x + inputOffset) * 0 = 0, so skipping it changes nothing, and
// pruned models (VWW's pointwise layers are ~83% zeros) do a fraction of the MACs.
//
// Sparse tile (see host/format/spec.ts), after its u32 byte length:
//   [bias i32, multiplier i32, shift i32] x n, then per channel:
//   u16 nnz, nnz x u16 input-channel index, nnz x i8 weight, a pad byte if nnz is odd.
import { ConvParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { requantizeChannel, channelTileOk } from "./common";

/** Bytes of one channel's sparse block with `nnz` non-zero weights. */
// @ts-ignore: decorator
@inline
export function sparseBlockBytes(nnz: i32): i32 {
  return 2 + 3 * nnz + (nnz & 1);
}

/** Checks every block of the tile lies inside [blocks, end) and indexes an input channel. */
function blocksOk(blocks: usize, end: usize, n: i32, inC: i32): bool {
  let b = blocks;
  for (let j = 0; j < n; j++) {
    if (b + 2 > end) return false;
    const nnz = <i32>load<u16>(b);
    const next = b + <usize>sparseBlockBytes(nnz);
    if (next > end) return false;
    for (let k = 0; k < nnz; k++) if (<i32>load<u16>(b + 2 + <usize>(k << 1)) >= inC) return false;
    b = next;
  }
  return true;
}

/** `tile` points at the channel data (after the tile's length word); `tileEnd` one past the tile. */
export function conv2d_sparse_1x1_s8(p: ConvParams, tile: usize, tileEnd: usize, oc0: i32, oc1: i32): i32 {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const strideH = p.strideH, strideW = p.strideW;
  const inOff = p.inputOffset, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  if (p.kH != 1 || p.kW != 1 || p.padH != 0 || p.padW != 0 || strideH < 1 || strideW < 1) return STATUS_KERNEL;
  if (inC < 1 || outH < 0 || outW < 0 || (outH - 1) * strideH >= inH || (outW - 1) * strideW >= inW) return STATUS_KERNEL;
  if (!channelTileOk(tile, oc0, oc1, outC, actMin, actMax)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  const blocks = tile + <usize>(n * CHANNEL_DATA_BYTES);
  if (!blocksOk(blocks, tileEnd, n, inC)) return STATUS_KERNEL;

  // Four output pixels of a row at a time: each (index, weight) pair read from the tile feeds
  // four multiply-adds. The input offset leaves the inner loop as inputOffset * (sum of the
  // channel's weights), exact since i32 arithmetic wraps. A block past the row's end re-reads
  // its last pixel and drops those results.
  const inBase = ARENA + <usize>p.input;
  const outBase = ARENA + <usize>p.output + <usize>oc0;
  const pxStep = <usize>(strideW * inC);
  for (let oy = 0; oy < outH; oy++) {
    const inRow = inBase + <usize>(oy * strideH * inW * inC);
    for (let ox = 0; ox < outW; ox += 4) {
      const left = outW - ox;
      const xa = inRow + <usize>(ox * strideW * inC);
      const xb = left > 1 ? xa + pxStep : xa;
      const xc = left > 2 ? xb + pxStep : xb;
      const xd = left > 3 ? xc + pxStep : xc;
      let outP = outBase + <usize>((oy * outW + ox) * outC);
      let chP = tile;
      let b = blocks;
      for (let j = 0; j < n; j++) {
        const nnz = <i32>load<u16>(b);
        let idxP = b + 2;
        let wP = idxP + <usize>(nnz << 1);
        const wEnd = wP + <usize>nnz;
        let a: i32 = 0, bb: i32 = 0, c: i32 = 0, d: i32 = 0, wSum: i32 = 0;
        while (wP < wEnd) {
          const k = <usize>load<u16>(idxP);
          const w = <i32>load<i8>(wP);
          a += <i32>load<i8>(xa + k) * w;
          bb += <i32>load<i8>(xb + k) * w;
          c += <i32>load<i8>(xc + k) * w;
          d += <i32>load<i8>(xd + k) * w;
          wSum += w;
          idxP += 2;
          wP++;
        }
        const off = inOff * wSum;
        store<i8>(outP, <i8>requantizeChannel(a + off, chP, outOff, actMin, actMax));
        if (left > 1) store<i8>(outP + <usize>outC, <i8>requantizeChannel(bb + off, chP, outOff, actMin, actMax));
        if (left > 2) store<i8>(outP + <usize>(2 * outC), <i8>requantizeChannel(c + off, chP, outOff, actMin, actMax));
        if (left > 3) store<i8>(outP + <usize>(3 * outC), <i8>requantizeChannel(d + off, chP, outOff, actMin, actMax));
        outP++;
        chP += <usize>CHANNEL_DATA_BYTES;
        b += <usize>sparseBlockBytes(nnz);
      }
    }
  }
  return STATUS_OK;
}
