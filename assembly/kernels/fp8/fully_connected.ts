// FULLY_CONNECTED with fp8 weights, f32 accumulation, int8 or fp8 (E4M3) activations.
// The arithmetic, its fixed evaluation order and the parameter conventions (absolute
// pointers; weights/scales/bias addressed from channel oc0) are defined in params.ts.
// Computes output channels [oc0, oc1) of every batch row:
//   out[b][oc] = quantize(sum_i x[b][i] * w[oc][i] (i ascending) * (inScale * wScale[oc]) + bias[oc])
import { STATUS_OK, STATUS_KERNEL } from "../../format";
import { fp8_table } from "../../fp8";
import { Fp8ConvParams, fp8ParamsOk, dot, dotInputTable, channelScale, channelBias, storeOutput } from "./params";

export function fully_connected_fp8(p: Fp8ConvParams, oc0: i32, oc1: i32): i32 {
  const batches = p.batches, inC = p.inC, outC = p.outC;
  if (batches < 0 || inC < 1 || outC < 1) return STATUS_KERNEL;
  if (oc0 < 0 || oc1 > outC || oc0 > oc1) return STATUS_KERNEL;
  if (!fp8ParamsOk(p)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  if (n == 0) return STATUS_OK;

  const xLut = dotInputTable(p);
  const zp = <f32>p.inZeroPoint;
  const wLut = fp8_table(<u32>p.weightFormat);
  let inRow = p.input;
  let outRow = p.output + <usize>oc0;
  for (let b = 0; b < batches; b++) {
    let wP = p.weights;
    for (let j = 0; j < n; j++) {
      const acc = dot(0, inRow, wP, inC, xLut, zp, wLut);
      storeOutput(p, outRow + <usize>j, acc * channelScale(p, j) + channelBias(p, j));
      wP += <usize>inC;
    }
    inRow += <usize>inC;
    outRow += <usize>outC;
  }
  return STATUS_OK;
}
