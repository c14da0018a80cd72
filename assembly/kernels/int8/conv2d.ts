// int8 CONV_2D, bit-exact with TFLite (Micro)'s reference_integer_ops::ConvPerChannel.
//
// Computes output channels [oc0, oc1) from one weight tile (see host/format/spec.ts):
//   [bias i32, multiplier i32, shift i32] x n, then n x [kH][kW][inC] int8 weights.
// Taps that fall outside the input are skipped (they contribute nothing: TFLite adds
// the input offset only to valid taps), so the valid ky/kx ranges are computed once
// per output row/column instead of testing every tap.
import { ConvParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { tapBegin, tapEnd, dotOffset, requantizeChannel, channelTileOk, convGeometryOk } from "./common";

export function conv2d_s8(p: ConvParams, tile: usize, oc0: i32, oc1: i32): i32 {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW;
  const strideH = p.strideH, strideW = p.strideW;
  const dilH = p.dilH, dilW = p.dilW;
  const padH = p.padH, padW = p.padW;
  const inOff = p.inputOffset, outOff = p.outputOffset;
  const actMin = p.actMin, actMax = p.actMax;

  if (!convGeometryOk(inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW) || outC < 1) return STATUS_KERNEL;
  if (!channelTileOk(tile, oc0, oc1, outC, actMin, actMax)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  if (n == 0) return STATUS_OK;

  const perCh = kH * kW * inC;
  const inBase = ARENA + <usize>p.input;
  const outBase = ARENA + <usize>p.output;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  const rowBytes = inW * inC;
  const kxStep = dilW * inC; // input bytes between horizontally adjacent taps

  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const kyBeg = tapBegin(iy0, dilH);
    const kyEnd = tapEnd(iy0, dilH, inH, kH);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padW;
      const kxBeg = tapBegin(ix0, dilW);
      const kxEnd = tapEnd(ix0, dilW, inW, kW);
      const kxCount = kxEnd - kxBeg;
      // Input address of tap (kyBeg, kxBeg), and its offset inside a channel's filter.
      const inStart = inBase + <usize>((iy0 + kyBeg * dilH) * rowBytes + (ix0 + kxBeg * dilW) * inC);
      const wStart = <usize>((kyBeg * kW + kxBeg) * inC);
      const rows = kxCount > 0 ? kyEnd - kyBeg : 0;
      const spanBytes = kxCount * inC; // contiguous when dilW == 1

      let outP = outBase + <usize>((oy * outW + ox) * outC + oc0);
      let chP = tile;
      let wCh = wBase;
      for (let j = 0; j < n; j++) {
        let acc: i32 = 0;
        let inRow = inStart;
        let wRow = wCh + wStart;
        for (let r = 0; r < rows; r++) {
          if (dilW == 1) {
            acc += dotOffset(inRow, wRow, spanBytes, inOff);
          } else {
            let inP = inRow;
            let wP = wRow;
            for (let kx = 0; kx < kxCount; kx++) {
              acc += dotOffset(inP, wP, inC, inOff);
              inP += <usize>kxStep;
              wP += <usize>inC;
            }
          }
          inRow += <usize>(dilH * rowBytes);
          wRow += <usize>(kW * inC);
        }
        store<i8>(outP, <i8>requantizeChannel(acc, chP, outOff, actMin, actMax));
        outP++;
        chP += <usize>CHANNEL_DATA_BYTES;
        wCh += <usize>perCh;
      }
    }
  }
  return STATUS_OK;
}
