// CONV_2D backward in f32 on real values (straight-through estimator, see the numerics below).
//
// The forward is the int8 kernel (kernels/int8/conv2d.ts): output channel oc at (oy, ox) sums
// tap (ky, kx, ic) over the input pixel (oy*strideH - padH + ky*dilH, ox*strideW - padW + kx*dilW),
// skipping taps outside the input. Backward works on real values:
//   input  x = s_x * (x_q - z_x),  weight w = wScale[oc] * w_q,  bias b = s_x * wScale[oc] * B.
// Errors (gradients) are f32 NHWC arrays, batch 1.
//
// Weights come from the forward's tiles: [bias, multiplier, shift] x n records, then
// n x [kH][kW][inC] int8 weights; tile channel j is output channel oc0 + j.
//
// Summation order is fixed and channel-major (every output channel in turn, pixels in raster
// order inside it), so calling tile after tile over [0, outC) gives the same bits as one call
// over all channels, whatever the tiling.
import { ConvParams, CHANNEL_DATA_BYTES } from "../format";
import { tapBegin, tapEnd } from "../kernels/int8/common";
import { errorAt, inputAt } from "./element";

/**
 * gradIn[iy][ix][ic] += sum over oc in [oc0, oc1), taps: gradOut[oy][ox][oc] * wScale[oc] * w_q[oc][ky][kx][ic].
 * gradOut: f32[outH][outW][outC]; gradIn: f32[inH][inW][inC] (accumulated: the first writer zeroes it);
 * tile: the forward tile of channels [oc0, oc1); wScale: f32[outC], the per-channel weight scales.
 */
export function conv2d_backward_input_f32(q: ConvParams, gradOut: usize, gradIn: usize, tile: usize,
  oc0: i32, oc1: i32, wScale: usize): void {
  conv2d_backward_input<f32>(q, gradOut, gradIn, tile, oc0, oc1, wScale, 0, 1);
}

/** The same, gradOut's elements read as E (element.ts): f32, or E5M2 codes through gTable times gScale. */
export function conv2d_backward_input<E>(q: ConvParams, gradOut: usize, gradIn: usize, tile: usize,
  oc0: i32, oc1: i32, wScale: usize, gTable: usize, gScale: f32): void {
  const inH = q.inH, inW = q.inW, inC = q.inC;
  const outH = q.outH, outW = q.outW, outC = q.outC;
  const kH = q.kH, kW = q.kW, strideH = q.strideH, strideW = q.strideW;
  const dilH = q.dilH, dilW = q.dilW, padH = q.padH, padW = q.padW;
  const n = oc1 - oc0;
  const perCh = kH * kW * inC;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  for (let j = 0; j < n; j++) {
    const oc = oc0 + j;
    const sw = load<f32>(wScale + (<usize>oc << 2));
    const wCh = wBase + <usize>(j * perCh);
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * strideH - padH;
      const kyBeg = tapBegin(iy0, dilH), kyEnd = tapEnd(iy0, dilH, inH, kH);
      for (let ox = 0; ox < outW; ox++) {
        // error of the real accumulator, times the channel's scale: the factor of every w_q
        const g = errorAt<E>(gradOut, (oy * outW + ox) * outC + oc, gTable, gScale) * sw;
        if (g == 0) continue; // masked (ReLU) errors are mostly zero
        const ix0 = ox * strideW - padW;
        const kxBeg = tapBegin(ix0, dilW), kxEnd = tapEnd(ix0, dilW, inW, kW);
        for (let ky = kyBeg; ky < kyEnd; ky++) {
          const iy = iy0 + ky * dilH;
          for (let kx = kxBeg; kx < kxEnd; kx++) {
            const ix = ix0 + kx * dilW;
            const gi = gradIn + (<usize>((iy * inW + ix) * inC) << 2);
            const w = wCh + <usize>((ky * kW + kx) * inC);
            for (let ic = 0; ic < inC; ic++) {
              const a = gi + (<usize>ic << 2);
              store<f32>(a, load<f32>(a) + g * <f32>load<i8>(w + <usize>ic));
            }
          }
        }
      }
    }
  }
}

/**
 * Gradient of output channel oc's weights and bias, for an in-place update of that one channel.
 * Writes out[(ky*kW + kx)*inC + ic] = sum over (oy, ox) of gradOut[oy][ox][oc] * (x_q - inputZeroPoint)
 * at that tap, in input integer units (the real weight gradient is s_x * out[k]), and returns the
 * real bias gradient sum over (oy, ox) of gradOut[oy][ox][oc].
 * input: the forward's int8 input [inH][inW][inC]; out: f32[kH*kW*inC] (overwritten).
 */
export function conv2d_weight_grad_f32(q: ConvParams, gradOut: usize, input: usize, inputZeroPoint: i32,
  oc: i32, out: usize): f32 {
  return conv2d_weight_grad<f32, i8>(q, gradOut, input, inputZeroPoint, oc, out, 0, 1, 0);
}

/** The same with gradOut read as E and the input as X (element.ts): i8, or E4M3 codes through xTable. */
export function conv2d_weight_grad<E, X>(q: ConvParams, gradOut: usize, input: usize, inputZeroPoint: i32,
  oc: i32, out: usize, gTable: usize, gScale: f32, xTable: usize): f32 {
  const inH = q.inH, inW = q.inW, inC = q.inC;
  const outH = q.outH, outW = q.outW, outC = q.outC;
  const kH = q.kH, kW = q.kW, strideH = q.strideH, strideW = q.strideW;
  const dilH = q.dilH, dilW = q.dilW, padH = q.padH, padW = q.padW;
  const perCh = kH * kW * inC;
  if (perCh > 0) memory.fill(out, 0, <usize>perCh << 2);
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
          const x = (iy * inW + ix) * inC;
          const o = out + (<usize>((ky * kW + kx) * inC) << 2);
          for (let ic = 0; ic < inC; ic++) {
            const a = o + (<usize>ic << 2);
            // x_q - z_x is an integer in [-255, 255]: exact in f32
            store<f32>(a, load<f32>(a) + g * inputAt<X>(input, x + ic, inputZeroPoint, xTable));
          }
        }
      }
    }
  }
  return biasGrad;
}
