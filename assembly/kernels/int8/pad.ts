// int8 PAD / PADV2 over a 4-D tensor. Matches TensorFlow Lite (Micro)'s reference_ops::Pad
// (PadImpl in tensorflow/lite/kernels/internal/reference/pad.h) with non-negative paddings:
// every output element outside the input block takes pad_value, the rest is the input.
import { PadParams, STATUS_OK, STATUS_KERNEL } from "../../format";
import { ARENA } from "../../arena";

export function pad_s8(p: PadParams): i32 {
  const input = ARENA + <usize>p.input, output = ARENA + <usize>p.output;
  const d0 = p.d0, d1 = p.d1, d2 = p.d2, d3 = p.d3;
  const b0 = p.b0, b1 = p.b1, b2 = p.b2, b3 = p.b3;
  const a0 = p.a0, a1 = p.a1, a2 = p.a2, a3 = p.a3;
  if ((d0 | d1 | d2 | d3 | b0 | b1 | b2 | b3 | a0 | a1 | a2 | a3) < 0) return STATUS_KERNEL;
  const o1 = d1 + b1 + a1, o2 = d2 + b2 + a2, o3 = d3 + b3 + a3;
  const o0 = d0 + b0 + a0;
  const fill = <u8>p.padValue;
  const total = o0 * o1 * o2 * o3;
  if (d0 == 0 || d1 == 0 || d2 == 0 || d3 == 0) {
    memory.fill(output, fill, <usize>total);
    return STATUS_OK;
  }
  // Walk the output in order; each output row along dim 3 is
  // [b3 fill][d3 input bytes][a3 fill] inside the input block, all fill outside it.
  const rowBytes = <usize>o3;
  let o = output;
  let src = input;
  for (let i0 = 0; i0 < o0; i0++) {
    const in0 = i0 >= b0 && i0 < b0 + d0;
    if (!in0) {
      const planeBytes = <usize>(o1 * o2) * rowBytes;
      memory.fill(o, fill, planeBytes);
      o += planeBytes;
      continue;
    }
    for (let i1 = 0; i1 < o1; i1++) {
      const in1 = i1 >= b1 && i1 < b1 + d1;
      if (!in1) {
        const bytes = <usize>o2 * rowBytes;
        memory.fill(o, fill, bytes);
        o += bytes;
        continue;
      }
      // leading rows of dim 2
      if (b2 > 0) {
        memory.fill(o, fill, <usize>b2 * rowBytes);
        o += <usize>b2 * rowBytes;
      }
      for (let i2 = 0; i2 < d2; i2++) {
        if (b3 > 0) { memory.fill(o, fill, <usize>b3); o += <usize>b3; }
        memory.copy(o, src, <usize>d3);
        o += <usize>d3;
        src += <usize>d3;
        if (a3 > 0) { memory.fill(o, fill, <usize>a3); o += <usize>a3; }
      }
      if (a2 > 0) {
        memory.fill(o, fill, <usize>a2 * rowBytes);
        o += <usize>a2 * rowBytes;
      }
    }
  }
  return STATUS_OK;
}
