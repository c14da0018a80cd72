// Real values -> the raw bytes of a model input tensor (int8/uint8 quantized, or float32).
import type { TensorMeta } from "../format/tlm.ts";

/** A bad sample source (unreadable file, wrong shape, unsupported type): a user error, one clear line. */
export class SourceError extends Error {}

export function elementCount(t: TensorMeta): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

export function describeTensor(t: TensorMeta): string {
  return `"${t.name}" [${t.shape.join(",")}] ${t.dtype}`;
}

const RANGE: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255] };

/** Per-tensor scale and zero point of a quantized tensor; null for float32. Throws for dtypes streams cannot fill. */
export function quantParams(t: TensorMeta): { scale: number; zeroPoint: number; qmin: number; qmax: number } | null {
  if (t.dtype === "float32") return null;
  const range = RANGE[t.dtype];
  if (!range) throw new SourceError(`input ${describeTensor(t)}: cannot stream samples into a ${t.dtype} tensor (int8, uint8 and float32 are supported)`);
  if (t.scale.length !== 1 || t.zeroPoint.length !== 1 || !(t.scale[0] > 0)) {
    throw new SourceError(`input ${describeTensor(t)}: needs one per-tensor scale and zero point to quantize samples (has scale [${t.scale.join(",")}], zero point [${t.zeroPoint.join(",")}])`);
  }
  return { scale: t.scale[0], zeroPoint: t.zeroPoint[0], qmin: range[0], qmax: range[1] };
}

/** The real values a quantized tensor can hold, [lo, hi]; null for float32. */
export function realRange(t: TensorMeta): [number, number] | null {
  const q = quantParams(t);
  return q ? [(q.qmin - q.zeroPoint) * q.scale, (q.qmax - q.zeroPoint) * q.scale] : null;
}

/** Rounds half away from zero (2.5 -> 3, -2.5 -> -3), as TFLite's quantizer does. */
export function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}

/**
 * Encodes real values as the tensor's raw bytes: q = clamp(round_half_away(x / scale) + zp, qmin, qmax)
 * for int8/uint8, little-endian IEEE floats for float32. `values.length` must equal the element count.
 */
export function encodeTensor(values: ArrayLike<number>, t: TensorMeta): Uint8Array {
  const n = elementCount(t);
  if (values.length !== n) throw new Error(`encodeTensor: ${values.length} values for ${n} elements of ${describeTensor(t)}`);
  const q = quantParams(t);
  if (!q) {
    const out = new Uint8Array(4 * n);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < n; i++) dv.setFloat32(4 * i, values[i], true);
    return out;
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = roundHalfAway(values[i] / q.scale) + q.zeroPoint;
    // NaN (should not reach here) maps to the zero point rather than to garbage.
    const c = Number.isNaN(v) ? q.zeroPoint : Math.min(q.qmax, Math.max(q.qmin, v));
    out[i] = c & 0xff;
  }
  return out;
}

/** An output's real values (float32 as is, int8 dequantized with its tensor's scale). */
export function realValues(output: Uint8Array, t: TensorMeta): number[] {
  return t.dtype === "float32"
    ? Array.from(new Float32Array(output.buffer.slice(output.byteOffset, output.byteOffset + output.length)))
    : Array.from(new Int8Array(output.buffer, output.byteOffset, output.length), (q) => (q - (t.zeroPoint[0] ?? 0)) * (t.scale[0] ?? 1));
}

/** The output's argmax, dequantized with the output tensor's quantization. */
export function topClass(output: Uint8Array, t: TensorMeta): { index: number; score: number } {
  const values = realValues(output, t);
  let index = 0;
  values.forEach((v, i) => { if (v > values[index]) index = i; });
  return { index, score: values[index] };
}
