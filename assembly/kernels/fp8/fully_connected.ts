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

/**
 * Chunked form, for a channel whose weights are read in pieces: acc[b] (f32 per batch row)
 * += sum over i in [k0, k0 + n), ascending, of x[b][i] * w[i - k0]. The same adds in the same
 * order as the whole channel at once, so the result is identical.
 */
export function fully_connected_fp8_accumulate(p: Fp8ConvParams, acc: usize, w: usize, k0: i32, n: i32): i32 {
  const batches = p.batches, inC = p.inC;
  if (batches < 0 || k0 < 0 || n < 0 || k0 > inC - n) return STATUS_KERNEL;
  if (!fp8ParamsOk(p)) return STATUS_KERNEL;
  const xLut = dotInputTable(p);
  const zp = <f32>p.inZeroPoint;
  const wLut = fp8_table(<u32>p.weightFormat);
  let inRow = p.input + <usize>k0;
  for (let b = 0; b < batches; b++) {
    const a = acc + (<usize>b << 2);
    store<f32>(a, dot(load<f32>(a), inRow, w, n, xLut, zp, wLut));
    inRow += <usize>inC;
  }
  return STATUS_OK;
}

/** Chunked form: output channel oc of every batch row from acc[b]; p's scales and bias address that channel's. */
export function fully_connected_fp8_finish(p: Fp8ConvParams, acc: usize, oc: i32): i32 {
  const batches = p.batches, outC = p.outC;
  if (batches < 0 || oc < 0 || oc >= outC) return STATUS_KERNEL;
  if (!fp8ParamsOk(p)) return STATUS_KERNEL;
  let outP = p.output + <usize>oc;
  for (let b = 0; b < batches; b++) {
    storeOutput(p, outP, load<f32>(acc + (<usize>b << 2)) * channelScale(p, 0) + channelBias(p, 0));
    outP += <usize>outC;
  }
  return STATUS_OK;
}
