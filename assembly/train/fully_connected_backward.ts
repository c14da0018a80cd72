// FULLY_CONNECTED backward in f32 on real values (straight-through estimator; numerics as in
// conv2d_backward.ts). A tile holds n x [inC] int8 weights after its n channel records, tile
// channel j = output channel oc0 + j. The real weight is wScale[oc] * (w_q + filterOffset);
// filterOffset is 0 for every per-channel int8 model (TFLite's symmetric weights).
// Channel-major summation order: tile-by-tile calls give the same bits as one call.
import { FullyConnectedParams, CHANNEL_DATA_BYTES } from "../format";
import { errorAt, inputAt } from "./element";

/**
 * gradIn[b][i] += sum over oc in [oc0, oc1) of gradOut[b][oc] * wScale[oc] * w_q[oc][i], every batch row b.
 * gradOut: f32[batches][outC]; gradIn: f32[batches][inC] (accumulated); wScale: f32[outC].
 */
export function fully_connected_backward_input_f32(q: FullyConnectedParams, gradOut: usize, gradIn: usize, tile: usize,
  oc0: i32, oc1: i32, wScale: usize): void {
  fully_connected_backward_input<f32>(q, gradOut, gradIn, tile, oc0, oc1, wScale, 0, 1);
}

/** The same, gradOut's elements read as E (element.ts). */
export function fully_connected_backward_input<E>(q: FullyConnectedParams, gradOut: usize, gradIn: usize, tile: usize,
  oc0: i32, oc1: i32, wScale: usize, gTable: usize, gScale: f32): void {
  const batches = q.batches, inC = q.inC, outC = q.outC, fOff = q.filterOffset;
  const n = oc1 - oc0;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  for (let j = 0; j < n; j++) {
    const oc = oc0 + j;
    const sw = load<f32>(wScale + (<usize>oc << 2));
    const w = wBase + <usize>(j * inC);
    for (let b = 0; b < batches; b++) {
      const g = errorAt<E>(gradOut, b * outC + oc, gTable, gScale) * sw;
      if (g == 0) continue;
      const row = gradIn + (<usize>(b * inC) << 2);
      for (let i = 0; i < inC; i++) {
        const a = row + (<usize>i << 2);
        store<f32>(a, load<f32>(a) + g * <f32>(<i32>load<i8>(w + <usize>i) + fOff));
      }
    }
  }
}

/**
 * Gradient of output channel oc's weights and bias. Writes out[i] = sum over b of
 * gradOut[b][oc] * (x_q[b][i] - inputZeroPoint) in input integer units (real weight gradient =
 * s_x * out[i]); returns the real bias gradient sum over b of gradOut[b][oc]. out: f32[inC] (overwritten).
 */
export function fully_connected_weight_grad_f32(q: FullyConnectedParams, gradOut: usize, input: usize,
  inputZeroPoint: i32, oc: i32, out: usize): f32 {
  return fully_connected_weight_grad<f32, i8>(q, gradOut, input, inputZeroPoint, oc, out, 0, 1, 0);
}

/** The same with gradOut read as E and the input as X (element.ts). */
export function fully_connected_weight_grad<E, X>(q: FullyConnectedParams, gradOut: usize, input: usize,
  inputZeroPoint: i32, oc: i32, out: usize, gTable: usize, gScale: f32, xTable: usize): f32 {
  const batches = q.batches, inC = q.inC, outC = q.outC;
  if (inC > 0) memory.fill(out, 0, <usize>inC << 2);
  let biasGrad: f32 = 0;
  for (let b = 0; b < batches; b++) {
    const g = errorAt<E>(gradOut, b * outC + oc, gTable, gScale);
    biasGrad += g;
    if (g == 0) continue;
    const x = b * inC;
    for (let i = 0; i < inC; i++) {
      const a = out + (<usize>i << 2);
      store<f32>(a, load<f32>(a) + g * inputAt<X>(input, x + i, inputZeroPoint, xTable));
    }
  }
  return biasGrad;
}
