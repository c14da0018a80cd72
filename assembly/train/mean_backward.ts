// MEAN backward in f32 over a 4-D tensor (shape d0..d3, the reduced axes in axisMask, as the
// forward kernels/int8/mean.ts). On real values the mean spreads each output's error evenly:
// gradIn[i] += gradOut[o(i)] / n, n = the number of elements reduced into one output.
import { MeanParams } from "../format";

/** gradIn (f32, the input's shape) += gradOut (f32, the output's shape) / n; accumulates. */
export function mean_backward_f32(q: MeanParams, gradOut: usize, gradIn: usize): void {
  const d0 = q.d0, d1 = q.d1, d2 = q.d2, d3 = q.d3, mask = q.axisMask;
  if (d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0) return; // empty input: nothing to spread
  const r0 = (mask & 1) != 0, r1 = (mask & 2) != 0, r2 = (mask & 4) != 0, r3 = (mask & 8) != 0;
  const o0 = r0 ? 1 : d0, o1 = r1 ? 1 : d1, o2 = r2 ? 1 : d2, o3 = r3 ? 1 : d3;
  const n0 = r0 ? d0 : 1, n1 = r1 ? d1 : 1, n2 = r2 ? d2 : 1, n3 = r3 ? d3 : 1;
  const count = <f32>(n0 * n1 * n2 * n3);
  const s2 = d3, s1 = d2 * d3, s0 = d1 * d2 * d3; // input strides (elements)
  let go = gradOut;
  for (let i0 = 0; i0 < o0; i0++) {
    for (let i1 = 0; i1 < o1; i1++) {
      for (let i2 = 0; i2 < o2; i2++) {
        for (let i3 = 0; i3 < o3; i3++) {
          const g = load<f32>(go) / count;
          go += 4;
          const base = i0 * s0 + i1 * s1 + i2 * s2 + i3;
          for (let j0 = 0; j0 < n0; j0++) {
            for (let j1 = 0; j1 < n1; j1++) {
              for (let j2 = 0; j2 < n2; j2++) {
                let a = gradIn + (<usize>(base + j0 * s0 + j1 * s1 + j2 * s2) << 2);
                for (let j3 = 0; j3 < n3; j3++) {
                  store<f32>(a, load<f32>(a) + g);
                  a += 4;
                }
              }
            }
          }
        }
      }
    }
  }
}
