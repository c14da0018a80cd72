// AVERAGE_POOL_2D and MAX_POOL_2D backward in f32, NHWC, batch 1. Windows are walked exactly as
// the forward (kernels/int8/pool.ts): output (oy, ox) covers input rows oy*strideH - padH + [0, kH)
// and columns ox*strideW - padW + [0, kW), clipped to the input. The int8 poolings keep the input's
// scale and zero point, so on real values average = sum / count and max passes one tap through.
// Both accumulate into gradIn (the first writer zeroes it); the activation clamp is the caller's mask.
import { PoolParams } from "../format";

/** gradIn[tap] += gradOut[oy][ox][c] / count for every in-bounds tap of the window (count = those taps). */
export function average_pool_backward_f32(q: PoolParams, gradOut: usize, gradIn: usize): void {
  const inH = q.inH, inW = q.inW, depth = q.channels;
  const outH = q.outH, outW = q.outW, kH = q.kH, kW = q.kW;
  const strideH = q.strideH, strideW = q.strideW, padH = q.padH, padW = q.padW;
  let go = gradOut;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const fy0 = max(0, -iy0), fy1 = min(kH, inH - iy0);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padW;
      const fx0 = max(0, -ix0), fx1 = min(kW, inW - ix0);
      if (fy1 <= fy0 || fx1 <= fx0) { go += <usize>depth << 2; continue; } // no taps (the forward refuses it)
      const count = <f32>((fy1 - fy0) * (fx1 - fx0));
      for (let c = 0; c < depth; c++) {
        const g = load<f32>(go) / count;
        go += 4;
        if (g == 0) continue;
        for (let fy = fy0; fy < fy1; fy++) {
          let a = gradIn + (<usize>(((iy0 + fy) * inW + ix0 + fx0) * depth + c) << 2);
          for (let fx = fx0; fx < fx1; fx++) {
            store<f32>(a, load<f32>(a) + g);
            a += <usize>depth << 2;
          }
        }
      }
    }
  }
}

/**
 * gradIn[tap] += gradOut[oy][ox][c] at the window's first maximal tap (row by row, left to right),
 * the tap the forward's maximum came from. input: the forward's int8 input [inH][inW][channels].
 */
export function max_pool_backward_f32(q: PoolParams, input: usize, gradOut: usize, gradIn: usize): void {
  const inH = q.inH, inW = q.inW, depth = q.channels;
  const outH = q.outH, outW = q.outW, kH = q.kH, kW = q.kW;
  const strideH = q.strideH, strideW = q.strideW, padH = q.padH, padW = q.padW;
  let go = gradOut;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const fy0 = max(0, -iy0), fy1 = min(kH, inH - iy0);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padW;
      const fx0 = max(0, -ix0), fx1 = min(kW, inW - ix0);
      if (fy1 <= fy0 || fx1 <= fx0) { go += <usize>depth << 2; continue; } // no taps: nothing to route
      for (let c = 0; c < depth; c++) {
        const g = load<f32>(go);
        go += 4;
        if (g == 0) continue;
        let best: i32 = i32.MIN_VALUE, at: i32 = 0;
        for (let fy = fy0; fy < fy1; fy++) {
          for (let fx = fx0; fx < fx1; fx++) {
            const i = ((iy0 + fy) * inW + ix0 + fx) * depth + c;
            const v = <i32>load<i8>(input + <usize>i);
            if (v > best) { best = v; at = i; } // strictly greater: the first maximum wins
          }
        }
        const a = gradIn + (<usize>at << 2);
        store<f32>(a, load<f32>(a) + g);
      }
    }
  }
}
