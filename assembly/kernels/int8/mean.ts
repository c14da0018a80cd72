// int8 MEAN over any set of axes of a 4-D tensor, bit-exact with TensorFlow Lite Micro at
// commit 90b983c2b3f1480642e040bbd2ddb37b998f3424.
//
// Which TFLM path: in that commit EvalMeanHelper (micro/kernels/reduce_common.cc) sends EVERY
// int8 MEAN -- including the 4-D axes {1,2} keep_dims "global average pool" case, whose
// special-cased implementation is now float-only (reference_ops::Mean(MeanParams, ...)), and
// reference/integer_ops/mean.h is empty -- through EvalIntegerMean -> QuantizedMeanOrSum ->
// reference_ops::QuantizedMeanOrSumExtraArgs<int8_t, int32_t> -> reference_ops::QuantizedMeanOrSum
// with compute_sum = false (kernels/internal/reference/reduce.h). That is the one path implemented:
//   temp_sum[o]  = int32 (wrapping) sum of the raw int8 inputs that reduce into output o
//   n            = product of the reduced dims (duplicate axes counted once; ResolveAxis)
//   shift        = min(floor(log2 n), 32, 31 + output_shift)
//   multiplier'  = int32((int64(output_multiplier) << shift) / n)      (truncating)
//   shift'       = output_shift - shift
//   out[o]       = clamp(MultiplyByQuantizedMultiplier(int32(temp_sum[o] - input_zp * n),
//                         multiplier', shift') + output_zp, -128, 127)
// If any input dim is 0 the reference writes 0 (not output_zp) to every output and stops.
// keep_dims does not change the bytes (only the output shape), so it needs no field.
//
// What the host must put in MeanParams (the same values TFLM's PrepareMeanOrSumHelper /
// PrepareSimple compute; the 1/n factor is NOT folded in by the host, the kernel does it at
// run time exactly as QuantizedMeanOrSum does):
//   input, output    arena offsets of the int8 input and output tensors
//   d0..d3           input shape left-padded with 1s to rank 4
//   axisMask         bit (axis + 4 - rank) set for every reduced axis (negative axes resolved)
//   inputZeroPoint   input->params.zero_point
//   outputZeroPoint  output->params.zero_point
//   multiplier,shift QuantizeMultiplier(static_cast<double>(input->params.scale) /
//                                       static_cast<double>(output->params.scale))
//                    (TFLite's QuantizeMultiplier: frexp, round, 2^31 -> 2^30 with shift+1,
//                    shift < -31 flushed to multiplier 0, shift 0)
// A shift outside [-31, 31] cannot come out of QuantizeMultiplier for an int8 model and is rejected.
import { MeanParams, STATUS_OK, STATUS_KERNEL } from "../../format";
import { ARENA } from "../../arena";
import { multiplyByQuantizedMultiplier } from "../../quant";

export function mean_s8(p: MeanParams): i32 {
  const input = ARENA + <usize>p.input, output = ARENA + <usize>p.output;
  const d0 = p.d0, d1 = p.d1, d2 = p.d2, d3 = p.d3;
  const mask = p.axisMask;
  const izp = p.inputZeroPoint, ozp = p.outputZeroPoint;
  let multiplier = p.multiplier, outShift = p.shift;
  if ((d0 | d1 | d2 | d3) < 0) return STATUS_KERNEL;
  if (outShift < -31 || outShift > 31) return STATUS_KERNEL;
  const r0 = (mask & 1) != 0, r1 = (mask & 2) != 0, r2 = (mask & 4) != 0, r3 = (mask & 8) != 0;
  // output extents and reduced extents per dim
  const o0 = r0 ? 1 : d0, o1 = r1 ? 1 : d1, o2 = r2 ? 1 : d2, o3 = r3 ? 1 : d3;
  const n0 = r0 ? d0 : 1, n1 = r1 ? d1 : 1, n2 = r2 ? d2 : 1, n3 = r3 ? d3 : 1;
  if (d0 == 0 || d1 == 0 || d2 == 0 || d3 == 0) {
    memory.fill(output, 0, <usize>(o0 * o1 * o2 * o3));
    return STATUS_OK;
  }
  const n = n0 * n1 * n2 * n3;
  // Fold 1/n into the multiplier as QuantizedMeanOrSum does.
  let shift = 31 - <i32>clz<u32>(<u32>n); // 63 - CountLeadingZeros(uint64 n)
  if (shift > 32) shift = 32;
  if (shift > 31 + outShift) shift = 31 + outShift;
  multiplier = <i32>((<i64>multiplier << <i64>shift) / <i64>n);
  outShift = outShift - shift;
  const zpTimesN: i64 = <i64>izp * <i64>n;
  // input strides (elements)
  const s2 = d3, s1 = d2 * d3, s0 = d1 * d2 * d3;
  let o = output;
  for (let i0 = 0; i0 < o0; i0++) {
    for (let i1 = 0; i1 < o1; i1++) {
      for (let i2 = 0; i2 < o2; i2++) {
        for (let i3 = 0; i3 < o3; i3++) {
          const base = input + <usize>(i0 * s0 + i1 * s1 + i2 * s2 + i3);
          let sum: i32 = 0;
          for (let j0 = 0; j0 < n0; j0++) {
            for (let j1 = 0; j1 < n1; j1++) {
              for (let j2 = 0; j2 < n2; j2++) {
                let q = base + <usize>(j0 * s0 + j1 * s1 + j2 * s2);
                for (let j3 = 0; j3 < n3; j3++) {
                  sum += <i32>load<i8>(q);
                  q++;
                }
              }
            }
          }
          const shifted = <i32>(<i64>sum - zpTimesN);
          let v = multiplyByQuantizedMultiplier(shifted, multiplier, outShift) + ozp;
          v = v < -128 ? -128 : (v > 127 ? 127 : v);
          store<i8>(o, <i8>v);
          o++;
        }
      }
    }
  }
  return STATUS_OK;
}
