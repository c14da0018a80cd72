// CONV_2D with fp8 weights, f32 accumulation, int8 or fp8 (E4M3) activations.
// The arithmetic, its fixed evaluation order and the parameter conventions (absolute
// pointers; weights/scales/bias addressed from channel oc0) are defined in params.ts.
// Computes output channels [oc0, oc1); weights are [kH][kW][inC] per channel.
// Taps outside the input are skipped (zero padding), so the valid ky/kx ranges are
// computed once per output row/column; the sum runs over valid taps in (ky, kx, ic) order.
import { STATUS_OK, STATUS_KERNEL } from "../../format";
import { fp8_table } from "../../fp8";
import { tapBegin, tapEnd } from "../int8/common";
import { Fp8ConvParams, fp8ParamsOk, dot, dotInputTable, channelScale, channelBias, storeOutput } from "./params";

export function conv2d_fp8(p: Fp8ConvParams, oc0: i32, oc1: i32): i32 {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW;
  const strideH = p.strideH, strideW = p.strideW;
  const dilH = p.dilH, dilW = p.dilW;
  const padH = p.padH, padW = p.padW;

  if (inH < 1 || inW < 1 || inC < 1 || outH < 0 || outW < 0 || outC < 1) return STATUS_KERNEL;
  if (kH < 1 || kW < 1 || strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1) return STATUS_KERNEL;
  if (oc0 < 0 || oc1 > outC || oc0 > oc1) return STATUS_KERNEL;
  if (!fp8ParamsOk(p)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  if (n == 0) return STATUS_OK;

  const xLut = dotInputTable(p);
  const zp = <f32>p.inZeroPoint;
  const wLut = fp8_table(<u32>p.weightFormat);
  const perCh = kH * kW * inC;
  const rowBytes = inW * inC;
  const kxStep = <usize>(dilW * inC); // input bytes between horizontally adjacent taps

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
      // Input address of tap (kyBeg, kxBeg), and its offset inside a channel's filter.
      const inStart = p.input + <usize>((iy0 + kyBeg * dilH) * rowBytes + (ix0 + kxBeg * dilW) * inC);
      const wStart = <usize>((kyBeg * kW + kxBeg) * inC);
      const spanBytes = kxCount * inC; // contiguous when dilW == 1

      let outP = p.output + <usize>((oy * outW + ox) * outC + oc0);
      let wCh = p.weights;
      for (let j = 0; j < n; j++) {
        let acc: f32 = 0;
        let inRow = inStart;
        let wRow = wCh + wStart;
        for (let r = 0; r < rows; r++) {
          if (dilW == 1) {
            acc = dot(acc, inRow, wRow, spanBytes, xLut, zp, wLut);
          } else {
            let inP = inRow;
            let wP = wRow;
            for (let kx = 0; kx < kxCount; kx++) {
              acc = dot(acc, inP, wP, inC, xLut, zp, wLut);
              inP += kxStep;
              wP += <usize>inC;
            }
          }
          inRow += <usize>(dilH * rowBytes);
          wRow += <usize>(kW * inC);
        }
        storeOutput(p, outP, acc * channelScale(p, j) + channelBias(p, j));
        outP++;
        wCh += <usize>perCh;
      }
    }
  }
  return STATUS_OK;
}
