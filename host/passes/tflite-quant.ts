// Host-side quantization parameters computed exactly as TFLite Micro's Prepare
// functions compute them (double arithmetic on float32 scales, frexp, round
// half away from zero), so the engine's integer kernels give TFLM's bytes.
import type { Activation, Padding } from "../graph/graph.ts";

/** C's std::round: half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** std::frexp for finite positive x: [q, e] with x = q * 2^e and q in [0.5, 1). */
export function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let e = Math.ceil(Math.log2(Math.abs(x))) || 0; // || 0: no negative zero
  let q = x / 2 ** e;
  while (Math.abs(q) >= 1) { q /= 2; e++; }
  while (Math.abs(q) < 0.5) { q *= 2; e--; }
  return [q, e];
}

/** TFLite QuantizeMultiplier (double rounding build): [multiplier Q31, shift]. */
export function quantizeMultiplier(m: number): [number, number] {
  if (m === 0) return [0, 0];
  let [q, shift] = frexp(m);
  let qFixed = roundHalfAway(q * 2 ** 31);
  if (qFixed === 2 ** 31) { qFixed /= 2; shift++; }
  if (shift < -31) { shift = 0; qFixed = 0; }
  return [qFixed | 0, shift];
}

/** TFLite Quantize(): zero_point + (int)round(f / scale), in float32 like the C++. */
function quantizeFloat(scale: number, zeroPoint: number, f: number): number {
  return zeroPoint + Math.trunc(roundHalfAway(Math.fround(f / scale)));
}

/** CalculateActivationRangeQuantized for int8 outputs. */
export function activationRange(act: Activation | undefined, scale: number, zeroPoint: number): [number, number] {
  const qmin = -128, qmax = 127;
  switch (act ?? "NONE") {
    case "NONE": return [qmin, qmax];
    case "RELU": return [Math.max(qmin, quantizeFloat(scale, zeroPoint, 0)), qmax];
    case "RELU6": return [Math.max(qmin, quantizeFloat(scale, zeroPoint, 0)), Math.min(qmax, quantizeFloat(scale, zeroPoint, 6))];
    case "RELU_N1_TO_1": return [Math.max(qmin, quantizeFloat(scale, zeroPoint, -1)), Math.min(qmax, quantizeFloat(scale, zeroPoint, 1))];
    default: throw new Error(`fused activation ${act} is not supported on int8 tensors`);
  }
}

/** TFLite ComputeOutSize. */
export function outputSize(padding: Padding, inSize: number, filter: number, stride: number, dilation = 1): number {
  const effective = (filter - 1) * dilation + 1;
  return padding === "SAME" ? Math.floor((inSize + stride - 1) / stride) : Math.floor((inSize + stride - effective) / stride);
}

/** TFLite ComputePaddingWithOffset: the leading padding. */
export function leadingPadding(inSize: number, filter: number, stride: number, dilation: number, outSize: number): number {
  const effective = (filter - 1) * dilation + 1;
  const total = (outSize - 1) * stride + effective - inSize;
  return Math.max(Math.trunc(total / 2), 0);
}

/** PreprocessSoftmaxScaling + CalculateInputRadius for int8 softmax (kScaledDiffIntegerBits = 5). */
export function softmaxParams(beta: number, inputScale: number): { multiplier: number; leftShift: number; diffMin: number } {
  const integerBits = 5;
  const real = Math.min(beta * inputScale * 2 ** (31 - integerBits), 2 ** 31 - 1);
  const [multiplier, leftShift] = quantizeMultiplier(real);
  if (leftShift < 0) throw new Error(`softmax input multiplier ${real} is below one; not supported`);
  const maxInputRescaled = (1.0 * (2 ** integerBits - 1) * 2 ** (31 - integerBits)) / 2 ** leftShift;
  return { multiplier, leftShift, diffMin: -Math.floor(maxInputRescaled) };
}
