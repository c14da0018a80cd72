// DEPTHWISE_CONV_2D backward in f32 on real values (straight-through estimator; numerics as in
// conv2d_backward.ts). Output channel oc reads input channel oc / depthMultiplier; a tile holds
// n x [kH][kW] int8 weights after its n channel records, tile channel j = output channel oc0 + j.
// Channel-major summation order: tile-by-tile calls give the same bits as one call.
import { ConvParams, CHANNEL_DATA_BYTES } from "../format";
import { tapBegin, tapEnd } from "../kernels/int8/common";
import { errorAt, inputAt } from "./element";

/**
 * gradIn[iy][ix][oc / dm] += sum over oc in [oc0, oc1), taps: gradOut[oy][ox][oc] * wScale[oc] * w_q[oc][ky][kx].
 * gradIn accumulates (the first writer zeroes it); wScale: f32[outC].
 */
export function depthwise_conv2d_backward_input_f32(q: ConvParams, gradOut: usize, gradIn: usize, tile: usize,
  oc0: i32, oc1: i32, wScale: usize): void {
  depthwise_conv2d_backward_input<f32>(q, gradOut, gradIn, tile, oc0, oc1, wScale, 0, 1);
}

/** The same, gradOut's elements read as E (element.ts). */
export function depthwise_conv2d_backward_input<E>(q: ConvParams, gradOut: usize, gradIn: usize, tile: usize,
  oc0: i32, oc1: i32, wScale: usize, gTable: usize, gScale: f32): void {
  const inH = q.inH, inW = q.inW, inC = q.inC;
  const outH = q.outH, outW = q.outW, outC = q.outC;
  const kH = q.kH, kW = q.kW, strideH = q.strideH, strideW = q.strideW;
  const dilH = q.dilH, dilW = q.dilW, padH = q.padH, padW = q.padW;
  const dm = q.depthMultiplier;
  if (dm < 1) return;
  const n = oc1 - oc0;
  const perCh = kH * kW;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  for (let j = 0; j < n; j++) {
    const oc = oc0 + j;
    const ic = oc / dm;
    const sw = load<f32>(wScale + (<usize>oc << 2));
    const wCh = wBase + <usize>(j * perCh);
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * strideH - padH;
      const kyBeg = tapBegin(iy0, dilH), kyEnd = tapEnd(iy0, dilH, inH, kH);
      for (let ox = 0; ox < outW; ox++) {
        const g = errorAt<E>(gradOut, (oy * outW + ox) * outC + oc, gTable, gScale) * sw;
        if (g == 0) continue;
        const ix0 = ox * strideW - padW;
        const kxBeg = tapBegin(ix0, dilW), kxEnd = tapEnd(ix0, dilW, inW, kW);
        for (let ky = kyBeg; ky < kyEnd; ky++) {
          const iy = iy0 + ky * dilH;
          for (let kx = kxBeg; kx < kxEnd; kx++) {
            const ix = ix0 + kx * dilW;
            const a = gradIn + (<usize>((iy * inW + ix) * inC + ic) << 2);
            store<f32>(a, load<f32>(a) + g * <f32>load<i8>(wCh + <usize>(ky * kW + kx)));
          }
        }
      }
    }
  }
}

/**
 * Gradient of output channel oc's weights and bias. Writes out[ky*kW + kx] = sum over (oy, ox) of
 * gradOut[oy][ox][oc] * (x_q[iy][ix][oc / dm] - inputZeroPoint) in input integer units (real weight
 * gradient = s_x * out[k]); returns the real bias gradient sum over (oy, ox) of gradOut[oy][ox][oc].
 * out: f32[kH*kW] (overwritten).
 */
export function depthwise_conv2d_weight_grad_f32(q: ConvParams, gradOut: usize, input: usize, inputZeroPoint: i32,
  oc: i32, out: usize): f32 {
  return depthwise_conv2d_weight_grad<f32, i8>(q, gradOut, input, inputZeroPoint, oc, out, 0, 1, 0);
}

/** The same with gradOut read as E and the input as X (element.ts). */
export function depthwise_conv2d_weight_grad<E, X>(q: ConvParams, gradOut: usize, input: usize, inputZeroPoint: i32,
  oc: i32, out: usize, gTable: usize, gScale: f32, xTable: usize): f32 {
  const inH = q.inH, inW = q.inW, inC = q.inC;
  const outH = q.outH, outW = q.outW, outC = q.outC;
  const kH = q.kH, kW = q.kW, strideH = q.strideH, strideW = q.strideW;
  const dilH = q.dilH, dilW = q.dilW, padH = q.padH, padW = q.padW;
  const dm = q.depthMultiplier;
  const perCh = kH * kW;
  if (perCh > 0) memory.fill(out, 0, <usize>perCh << 2);
  if (dm < 1) return 0;
  const ic = oc / dm;
  let biasGrad: f32 = 0;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const kyBeg = tapBegin(iy0, dilH), kyEnd = tapEnd(iy0, dilH, inH, kH);
    for (let ox = 0; ox < outW; ox++) {
      const g = errorAt<E>(gradOut, (oy * outW + ox) * outC + oc, gTable, gScale);
      biasGrad += g;
      if (g == 0) continue;
      const ix0 = ox * strideW - padW;
      const kxBeg = tapBegin(ix0, dilW), kxEnd = tapEnd(ix0, dilW, inW, kW);
      for (let ky = kyBeg; ky < kyEnd; ky++) {
        const iy = iy0 + ky * dilH;
        for (let kx = kxBeg; kx < kxEnd; kx++) {
          const ix = ix0 + kx * dilW;
          const x = inputAt<X>(input, (iy * inW + ix) * inC + ic, inputZeroPoint, xTable);
          const a = out + (<usize>(ky * kW + kx) << 2);
          store<f32>(a, load<f32>(a) + g * x);
        }
      }
    }
  }
  return biasGrad;
}
