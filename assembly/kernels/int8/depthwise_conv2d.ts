// int8 DEPTHWISE_CONV_2D, bit-exact with TFLite (Micro)'s
// reference_integer_ops::DepthwiseConvPerChannel.
//
// Output channel oc reads input channel oc / depthMultiplier (TFLite numbers output
// channels oc = ic * depth_multiplier + m). Computes output channels [oc0, oc1) from
// one weight tile (see host/format/spec.ts):
//   [bias i32, multiplier i32, shift i32] x n, then n x [kH][kW] int8 weights.
// Taps outside the input are skipped; the valid ky/kx ranges are computed once per
// output row/column.
import { ConvParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { tapBegin, tapEnd, requantizeChannel, channelTileOk, convGeometryOk } from "./common";
import { isDepthwise3x3, depthwise3x3_s8 } from "./depthwise3x3";
import { conv2d_s8 } from "./conv2d";

export function depthwise_conv2d_s8(p: ConvParams, tile: usize, oc0: i32, oc1: i32): i32 {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW;
  const strideH = p.strideH, strideW = p.strideW;
  const dilH = p.dilH, dilW = p.dilW;
  const padH = p.padH, padW = p.padW;
  const dm = p.depthMultiplier;
  const inOff = p.inputOffset, outOff = p.outputOffset;
  const actMin = p.actMin, actMax = p.actMax;

  if (!convGeometryOk(inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW) || dm < 1 || outC != inC * dm) return STATUS_KERNEL;
  if (!channelTileOk(tile, oc0, oc1, outC, actMin, actMax)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  if (n == 0) return STATUS_OK;
  // One input channel: output channel oc is input channel 0 filtered by oc's kH x kW weights,
  // exactly CONV_2D with inC = 1 (same tile layout, same sums): its blocked paths apply.
  if (inC == 1) return conv2d_s8(p, tile, oc0, oc1);
  if (isDepthwise3x3(p)) { // 3x3, multiplier 1, stride 1/2: the sliding window of depthwise3x3.ts
    depthwise3x3_s8(p, tile, oc0, n);
    return STATUS_OK;
  }

  const perCh = kH * kW;
  const inBase = ARENA + <usize>p.input;
  const outBase = ARENA + <usize>p.output;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  const rowBytes = inW * inC;
  const kxStep = <usize>(dilW * inC); // input bytes between horizontally adjacent taps
  const kyStep = <usize>(dilH * rowBytes); // input bytes between vertically adjacent taps
  const ic0 = oc0 / dm, m0 = oc0 - ic0 * dm;

  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const kyBeg = tapBegin(iy0, dilH);
    const kyEnd = tapEnd(iy0, dilH, inH, kH);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padW;
      const kxBeg = tapBegin(ix0, dilW);
      const kxEnd = tapEnd(ix0, dilW, inW, kW);
      const kxCount = kxEnd - kxBeg;
      const rows = kxCount > 0 ? kyEnd - kyBeg : 0;
      // Input address of tap (kyBeg, kxBeg) for input channel 0, and its filter index.
      const inStart = inBase + <usize>((iy0 + kyBeg * dilH) * rowBytes + (ix0 + kxBeg * dilW) * inC);
      const wStart = <usize>(kyBeg * kW + kxBeg);

      let outP = outBase + <usize>((oy * outW + ox) * outC + oc0);
      let chP = tile;
      let wCh = wBase;
      let ic = ic0, m = m0;
      for (let j = 0; j < n; j++) {
        let acc: i32 = 0;
        let inRow = inStart + <usize>ic;
        let wRow = wCh + wStart;
        for (let r = 0; r < rows; r++) {
          let inP = inRow;
          let wP = wRow;
          for (let kx = 0; kx < kxCount; kx++) {
            acc += (<i32>load<i8>(inP) + inOff) * <i32>load<i8>(wP);
            inP += kxStep;
            wP++;
          }
          inRow += kyStep;
          wRow += <usize>kW;
        }
        store<i8>(outP, <i8>requantizeChannel(acc, chP, outOff, actMin, actMax));
        outP++;
        chP += <usize>CHANNEL_DATA_BYTES;
        wCh += <usize>perCh;
        if (++m == dm) { m = 0; ic++; }
      }
    }
  }
  return STATUS_OK;
}
