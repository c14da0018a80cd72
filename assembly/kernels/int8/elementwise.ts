// int8 ADD and MUL over a 4-D output with strided (possibly broadcast) inputs.
// ADD matches TensorFlow Lite (Micro)'s reference_integer_ops::AddFunc (used by Add /
// AddElementwise / BroadcastAdd*Slow); MUL matches reference_integer_ops::MulElementwise
// (used by Mul / BroadcastMul*Slow). tensorflow/lite/kernels/internal/reference/integer_ops/{add,mul}.h
import { ElementwiseParams, STATUS_OK } from "../../format";
import { ARENA } from "../../arena";
import { multiplyByQuantizedMultiplier } from "../../quant";

// @ts-ignore: decorator
@inline
function clampI8(x: i32, lo: i32, hi: i32): i8 {
  return <i8>(x < lo ? lo : (x > hi ? hi : x));
}

/** True when the strides describe the dense layout of [d0][d1][d2][d3] (a stride of a size-1 dim is irrelevant). */
function isDense(d0: i32, d1: i32, d2: i32, d3: i32, s0: i32, s1: i32, s2: i32, s3: i32): bool {
  return (d3 == 1 || s3 == 1) && (d2 == 1 || s2 == d3) && (d1 == 1 || s1 == d2 * d3) && (d0 == 1 || s0 == d1 * d2 * d3);
}

// TFLite's AddFunc uses MultiplyByQuantizedMultiplierSmallerThanOneExp for all three
// rescalings; for shift <= 0 (always the case for ADD's multipliers) that equals
// multiplyByQuantizedMultiplier.
// @ts-ignore: decorator
@inline
function addOne(x1: i32, x2: i32, off1: i32, off2: i32, m1: i32, sh1: i32, m2: i32, sh2: i32,
  mo: i32, sho: i32, offo: i32, leftShift: i32): i32 {
  const s1 = (off1 + x1) * (1 << leftShift);
  const s2 = (off2 + x2) * (1 << leftShift);
  const sc1 = multiplyByQuantizedMultiplier(s1, m1, sh1);
  const sc2 = multiplyByQuantizedMultiplier(s2, m2, sh2);
  return multiplyByQuantizedMultiplier(sc1 + sc2, mo, sho) + offo;
}

export function add_s8(p: ElementwiseParams): i32 {
  const in1 = ARENA + <usize>p.input1, in2 = ARENA + <usize>p.input2, out = ARENA + <usize>p.output;
  const d0 = p.d0, d1 = p.d1, d2 = p.d2, d3 = p.d3;
  const a0 = p.s1_0, a1 = p.s1_1, a2 = p.s1_2, a3 = p.s1_3;
  const b0 = p.s2_0, b1 = p.s2_1, b2 = p.s2_2, b3 = p.s2_3;
  const off1 = p.input1Offset, off2 = p.input2Offset, offo = p.outputOffset;
  const m1 = p.input1Multiplier, sh1 = p.input1Shift, m2 = p.input2Multiplier, sh2 = p.input2Shift;
  const mo = p.outputMultiplier, sho = p.outputShift, ls = p.leftShift;
  const lo = p.actMin, hi = p.actMax;
  if (d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0) return STATUS_OK;
  if (isDense(d0, d1, d2, d3, a0, a1, a2, a3) && isDense(d0, d1, d2, d3, b0, b1, b2, b3)) {
    const n = d0 * d1 * d2 * d3;
    for (let i = 0; i < n; i++) {
      const r = addOne(<i32>load<i8>(in1 + <usize>i), <i32>load<i8>(in2 + <usize>i), off1, off2, m1, sh1, m2, sh2, mo, sho, offo, ls);
      store<i8>(out + <usize>i, clampI8(r, lo, hi));
    }
    return STATUS_OK;
  }
  let o = out;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        let q1 = in1 + <usize>(i0 * a0 + i1 * a1 + i2 * a2);
        let q2 = in2 + <usize>(i0 * b0 + i1 * b1 + i2 * b2);
        for (let i3 = 0; i3 < d3; i3++) {
          const r = addOne(<i32>load<i8>(q1), <i32>load<i8>(q2), off1, off2, m1, sh1, m2, sh2, mo, sho, offo, ls);
          store<i8>(o, clampI8(r, lo, hi));
          o++;
          q1 += <usize>a3;
          q2 += <usize>b3;
        }
      }
    }
  }
  return STATUS_OK;
}

export function mul_s8(p: ElementwiseParams): i32 {
  const in1 = ARENA + <usize>p.input1, in2 = ARENA + <usize>p.input2, out = ARENA + <usize>p.output;
  const d0 = p.d0, d1 = p.d1, d2 = p.d2, d3 = p.d3;
  const a0 = p.s1_0, a1 = p.s1_1, a2 = p.s1_2, a3 = p.s1_3;
  const b0 = p.s2_0, b1 = p.s2_1, b2 = p.s2_2, b3 = p.s2_3;
  const off1 = p.input1Offset, off2 = p.input2Offset, offo = p.outputOffset;
  const mo = p.outputMultiplier, sho = p.outputShift;
  const lo = p.actMin, hi = p.actMax;
  if (d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0) return STATUS_OK;
  if (isDense(d0, d1, d2, d3, a0, a1, a2, a3) && isDense(d0, d1, d2, d3, b0, b1, b2, b3)) {
    const n = d0 * d1 * d2 * d3;
    for (let i = 0; i < n; i++) {
      const prod = (off1 + <i32>load<i8>(in1 + <usize>i)) * (off2 + <i32>load<i8>(in2 + <usize>i));
      store<i8>(out + <usize>i, clampI8(offo + multiplyByQuantizedMultiplier(prod, mo, sho), lo, hi));
    }
    return STATUS_OK;
  }
  let o = out;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        let q1 = in1 + <usize>(i0 * a0 + i1 * a1 + i2 * a2);
        let q2 = in2 + <usize>(i0 * b0 + i1 * b1 + i2 * b2);
        for (let i3 = 0; i3 < d3; i3++) {
          const prod = (off1 + <i32>load<i8>(q1)) * (off2 + <i32>load<i8>(q2));
          store<i8>(o, clampI8(offo + multiplyByQuantizedMultiplier(prod, mo, sho), lo, hi));
          o++;
          q1 += <usize>a3;
          q2 += <usize>b3;
        }
      }
    }
  }
  return STATUS_OK;
}
