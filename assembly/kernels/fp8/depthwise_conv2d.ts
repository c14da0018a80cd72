// DEPTHWISE_CONV_2D with fp8 weights, f32 accumulation, int8 or fp8 (E4M3) activations.
// The arithmetic, its fixed evaluation order and the parameter conventions (absolute
// pointers; weights/scales/bias addressed from channel oc0) are defined in params.ts.
// Output channel oc reads input channel oc / depthMultiplier (TFLite numbering
// oc = ic * depth_multiplier + m). Computes output channels [oc0, oc1); weights are
// [kH][kW] per channel. Taps outside the input are skipped (zero padding); the sum runs
// over valid taps in (ky, kx) order.
import { STATUS_OK, STATUS_KERNEL } from "../../format";
import { fp8_table } from "../../fp8";
import { tapBegin, tapEnd } from "../int8/common";
import { Fp8ConvParams, fp8ParamsOk, dotInputTable, lut, channelScale, channelBias, storeOutput } from "./params";

/** acc + sum over kx < count, ascending, of x[kx * step] * w[kx]: one row of taps. */
// @ts-ignore: decorator
@inline
function tapRow(acc: f32, x: usize, w: usize, count: i32, step: usize, xLut: usize, zp: f32, wLut: usize): f32 {
  const end = w + <usize>count;
  if (xLut == 0) {
    while (w < end) {
      acc += (<f32>load<i8>(x) - zp) * lut(wLut, w); // int8 input: (q - zp), exact
      x += step;
      w++;
    }
    return acc;
  }
  while (w < end) {
    acc += lut(xLut, x) * lut(wLut, w);
    x += step;
    w++;
  }
  return acc;
}

export function depthwise_conv2d_fp8(p: Fp8ConvParams, oc0: i32, oc1: i32): i32 {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW;
  const strideH = p.strideH, strideW = p.strideW;
  const dilH = p.dilH, dilW = p.dilW;
  const padH = p.padH, padW = p.padW;
  const dm = p.depthMultiplier;

  if (inH < 1 || inW < 1 || inC < 1 || outH < 0 || outW < 0) return STATUS_KERNEL;
  if (dm < 1 || outC != inC * dm) return STATUS_KERNEL;
  if (kH < 1 || kW < 1 || strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1) return STATUS_KERNEL;
  if (oc0 < 0 || oc1 > outC || oc0 > oc1) return STATUS_KERNEL;
  if (!fp8ParamsOk(p)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  if (n == 0) return STATUS_OK;

  const xLut = dotInputTable(p);
  const zp = <f32>p.inZeroPoint;
  const wLut = fp8_table(<u32>p.weightFormat);
  const perCh = kH * kW;
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
      const inStart = p.input + <usize>((iy0 + kyBeg * dilH) * rowBytes + (ix0 + kxBeg * dilW) * inC);
      const wStart = <usize>(kyBeg * kW + kxBeg);

      let outP = p.output + <usize>((oy * outW + ox) * outC + oc0);
      let wCh = p.weights;
      let ic = ic0, m = m0;
      for (let j = 0; j < n; j++) {
        let acc: f32 = 0;
        let inRow = inStart + <usize>ic;
        let wRow = wCh + wStart;
        for (let r = 0; r < rows; r++) {
          acc = tapRow(acc, inRow, wRow, kxCount, kxStep, xLut, zp, wLut);
          inRow += kyStep;
          wRow += <usize>kW;
        }
        storeOutput(p, outP, acc * channelScale(p, j) + channelBias(p, j));
        outP++;
        wCh += <usize>perCh;
        if (++m == dm) { m = 0; ic++; }
      }
    }
  }
  return STATUS_OK;
}
