// QUANTIZE / DEQUANTIZE kernels, bit-exact with TensorFlow Lite (Micro)'s references:
//   requantize_s8     = reference_ops::Requantize<int8_t, int8_t> (reference/requantize.h)
//   quantize_f32_s8   = reference_ops::AffineQuantize<int8_t>     (reference/quantize.h)
//   dequantize_s8_f32 = reference_ops::Dequantize (int8 -> float)   (reference/dequantize.h)
import { RequantizeParams, QuantizeF32Params, DequantizeParams, STATUS_OK } from "../../format";
import { ARENA } from "../../arena";
import { multiplyByQuantizedMultiplier } from "../../quant";

export function requantize_s8(p: RequantizeParams): i32 {
  const input = ARENA + <usize>p.input, output = ARENA + <usize>p.output;
  const n = p.count, izp = p.inputZeroPoint, ozp = p.outputZeroPoint, m = p.multiplier, s = p.shift;
  for (let i = 0; i < n; i++) {
    let v = multiplyByQuantizedMultiplier(<i32>load<i8>(input + <usize>i) - izp, m, s) + ozp;
    v = v < -128 ? -128 : (v > 127 ? 127 : v);
    store<i8>(output + <usize>i, <i8>v);
  }
  return STATUS_OK;
}

/** std::round for float: nearest integer, ties away from zero (exact: x - trunc(x) is exact in f32). */
// @ts-ignore: decorator
@inline
function roundHalfAwayF32(x: f32): f32 {
  const t = Mathf.trunc(x);
  const frac = x - t;
  if (frac >= <f32>0.5) return t + <f32>1;
  if (frac <= <f32>-0.5) return t - <f32>1;
  return t;
}

export function quantize_f32_s8(p: QuantizeF32Params): i32 {
  const input = ARENA + <usize>p.input, output = ARENA + <usize>p.output;
  const n = p.count, zp = p.zeroPoint;
  const scale = reinterpret<f32>(p.scaleBits);
  for (let i = 0; i < n; i++) {
    let r = roundHalfAwayF32(load<f32>(input + (<usize>i << 2)) / scale);
    // TFLite's float->int32 cast is undefined behaviour for |x/scale| >= 2^31 and NaN (on
    // x86 it yields INT_MIN, so TFLM's byte then depends on the zero point's sign). We
    // saturate instead: +large -> 127, -large -> -128, NaN -> the zero point. Documented
    // in the README as the one deliberate difference from TFLM.
    if (!(r > <f32>-1e9)) r = r != r ? <f32>0 : <f32>-1e9;
    else if (r > <f32>1e9) r = <f32>1e9;
    let v = <i32>r + zp;
    v = v < -128 ? -128 : (v > 127 ? 127 : v);
    store<i8>(output + <usize>i, <i8>v);
  }
  return STATUS_OK;
}

export function dequantize_s8_f32(p: DequantizeParams): i32 {
  const input = ARENA + <usize>p.input, output = ARENA + <usize>p.output;
  const n = p.count, zp = p.zeroPoint;
  const scale = <f64>reinterpret<f32>(p.scaleBits);
  for (let i = 0; i < n; i++) {
    store<f32>(output + (<usize>i << 2), <f32>(scale * <f64>(<i32>load<i8>(input + <usize>i) - zp)));
  }
  return STATUS_OK;
}
