// Post-training quantization: a float32 Graph plus calibration inputs becomes an
// int8 Graph that lower() accepts, with the conventions TFLite's converter uses:
//  - activations: per-tensor asymmetric int8 from the calibrated [min, max]
//    (always including 0), scale = (max - min) / 255, zp = round(-128 - min/scale);
//  - weights: per-channel symmetric int8, scale = max|w| / 127 (dimension 0 for
//    CONV_2D and FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D), zero point 0;
//  - bias: int32 with scale input_scale * weight_scale[c], zero point 0;
//  - SOFTMAX output: scale 1/256, zero point -128;
//  - pooling, RESHAPE/SQUEEZE, PAD and CONCATENATION: input(s) and output share
//    one quantization (their kernels move int8 values without requantizing);
//  - the graph's float32 inputs go through QUANTIZE and its outputs through
//    DEQUANTIZE, so the int8 model takes and returns float32.
// Fused activations need no special case: calibration sees the activated float
// values (a ReLU output's minimum is 0), so the range starts at 0 by itself.
import { type Graph, type Op, type Tensor, elementCount } from "../graph/graph.ts";
import { FLOAT_OPS, floatData, runFloat } from "../float/interpreter.ts";
import { UnsupportedError, FP8_WEIGHTS_OPTION } from "./lower.ts";

export interface Range { min: number; max: number }
export interface QuantParams { scale: number; zeroPoint: number }

export interface PtqResult {
  graph: Graph;
  /** Calibrated float range of each activation tensor of the float graph (before sharing). */
  ranges: Map<number, Range>;
  /** Quantization chosen for each activation tensor of the float graph. */
  params: Map<number, QuantParams>;
  /** Things the user may want to know (e.g. bias that forced a larger weight scale). */
  notes: string[];
}

/** One calibration sample: a float32 array per graph input, in order. */
export type Sample = Float32Array[];

const INT32_MAX = 2 ** 31 - 1;
const SHARED_QUANT = new Set(["AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "SQUEEZE", "PAD", "PADV2", "CONCATENATION"]);
const WEIGHTED: Record<string, number> = { CONV_2D: 0, FULLY_CONNECTED: 0, DEPTHWISE_CONV_2D: 3 };

/** Min and max (both including 0) of every non-constant tensor over the samples. */
export function calibrate(g: Graph, samples: Sample[]): Map<number, Range> {
  if (samples.length === 0) throw new UnsupportedError(`post-training quantization needs at least one calibration input`);
  const ranges = new Map<number, Range>();
  for (const s of samples) {
    const run = runFloat(g, s);
    for (const [t, v] of run.tensors) {
      if (g.tensors[t].data) continue;
      const r = ranges.get(t) ?? { min: 0, max: 0 };
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x < r.min) r.min = x;
        else if (x > r.max) r.max = x;
      }
      if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) {
        throw new UnsupportedError(`tensor ${t} ("${g.tensors[t].name}") is not finite on a calibration input`);
      }
      ranges.set(t, r);
    }
  }
  return ranges;
}

/** TFLite's asymmetric int8 parameters for a float range (0 is always inside it, and exact). */
export function rangeParams({ min, max }: Range): QuantParams {
  min = Math.min(min, 0);
  max = Math.max(max, 0);
  if (max - min < 1e-9) return { scale: Math.fround(1 / 255), zeroPoint: -128 }; // a dead tensor: any scale works
  const scale = Math.fround((max - min) / 255);
  const zp = Math.round(-128 - min / scale);
  return { scale, zeroPoint: Math.min(127, Math.max(-128, zp)) };
}

/** C's std::round (half away from zero), what TFLite's quantizers use. */
function round(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function bytesOf(a: Int8Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/** Index in the quantized graph of float-graph op `op` (a QUANTIZE is put in front per input). */
export function ptqOpIndex(g: Graph, op: number): number {
  return g.inputs.length + op;
}

export interface QuantizeGraphOptions {
  /** Weighted ops (float graph op indices) whose weights stay float32, to become fp8 in lower(). */
  fp8Ops?: Set<number>;
  /** Ranges already calibrated on the samples (calibrate()), to quantize one graph several ways. */
  ranges?: Map<number, Range>;
}

/** Quantizes a float graph to int8 with ranges calibrated on `samples` (some weighted ops to fp8 weights). */
export function quantizeGraph(g: Graph, samples: Sample[], options: QuantizeGraphOptions = {}): PtqResult {
  const fail = (op: Op, msg: string): never => { throw new UnsupportedError(`op ${op.index} (${op.type}): ${msg}`); };
  for (const op of g.ops) {
    if (!FLOAT_OPS.includes(op.type)) fail(op, `cannot be quantized; post-training quantization supports ${FLOAT_OPS.join(", ")}`);
  }
  for (const t of [...g.inputs, ...g.outputs]) {
    if (g.tensors[t].dtype !== "float32") throw new UnsupportedError(`tensor ${t} ("${g.tensors[t].name}") is ${g.tensors[t].dtype}; post-training quantization needs a float32 model`);
  }
  const ranges = options.ranges ?? calibrate(g, samples);
  const notes: string[] = [];

  // Tensors whose kernels cannot requantize share one quantization: union-find over them.
  const parent = new Map<number, number>();
  const find = (t: number): number => {
    let r = t;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  const union = (a: number, b: number) => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const fixed = new Map<number, QuantParams>(); // tensor -> forced params
  for (const op of g.ops) {
    const out = op.outputs[0];
    if (SHARED_QUANT.has(op.type)) {
      const shared = op.type === "CONCATENATION" ? op.inputs : [op.inputs[0]];
      for (const t of shared) if (!g.tensors[t].data) union(t, out);
    }
    if (op.type === "SOFTMAX") fixed.set(out, { scale: Math.fround(1 / 256), zeroPoint: -128 });
  }
  const groupRange = new Map<number, Range>();
  const groupFixed = new Map<number, QuantParams>();
  for (const [t, r] of ranges) {
    const root = find(t);
    const gr = groupRange.get(root) ?? { min: 0, max: 0 };
    groupRange.set(root, { min: Math.min(gr.min, r.min), max: Math.max(gr.max, r.max) });
    const fx = fixed.get(t);
    if (fx) {
      const prev = groupFixed.get(root);
      if (prev && (prev.scale !== fx.scale || prev.zeroPoint !== fx.zeroPoint)) {
        throw new UnsupportedError(`tensor ${t} ("${g.tensors[t].name}") must share quantization with tensors of another fixed quantization`);
      }
      groupFixed.set(root, fx);
    }
  }
  const params = new Map<number, QuantParams>();
  for (const t of ranges.keys()) {
    const root = find(t);
    params.set(t, groupFixed.get(root) ?? rangeParams(groupRange.get(root)!));
  }

  // The new tensor list: activations become int8, weights and biases are quantized per op.
  const tensors: Tensor[] = g.tensors.map((t) => {
    const p = params.get(t.index);
    if (!p) return { ...t };
    return { ...t, dtype: "int8", scale: [p.scale], zeroPoint: [p.zeroPoint], quantizedDimension: 0, data: undefined };
  });
  const done = new Set<number>();
  for (const op of g.ops) {
    const dim = WEIGHTED[op.type];
    if (dim !== undefined && options.fp8Ops?.has(op.index)) continue; // float32 weights and bias, for lower()
    if (dim !== undefined) {
      quantizeWeighted(g, op, dim, params, tensors, done, notes, fail);
      continue;
    }
    // Other float constants (PADV2's constant value): int8 in the quantization of the op's output.
    for (const idx of op.inputs) {
      if (idx < 0 || done.has(idx)) continue;
      const t = g.tensors[idx];
      if (!t.data || t.dtype !== "float32") continue;
      const p = params.get(op.outputs[0])!;
      const v = floatData(t);
      const q = new Int8Array(v.length);
      for (let i = 0; i < v.length; i++) q[i] = Math.min(127, Math.max(-128, round(v[i] / p.scale) + p.zeroPoint));
      tensors[idx] = { ...t, dtype: "int8", scale: [p.scale], zeroPoint: [p.zeroPoint], quantizedDimension: 0, data: bytesOf(q) };
      done.add(idx);
    }
  }

  // Float32 edges: QUANTIZE each input into a new int8 tensor, DEQUANTIZE each output from one.
  const rename = new Map<number, number>();
  const edge = (t: number, suffix: string): number => {
    const src = tensors[t];
    const copy: Tensor = { ...src, index: tensors.length, name: `${src.name}_${suffix}` };
    tensors.push(copy);
    tensors[t] = { ...g.tensors[t], scale: [], zeroPoint: [], quantizedDimension: 0, data: undefined };
    rename.set(t, copy.index);
    return copy.index;
  };
  const front: Op[] = g.inputs.map((t) => ({ index: 0, type: "QUANTIZE", inputs: [t], outputs: [edge(t, "int8")], options: {} }));
  const back: Op[] = g.outputs.map((t) => ({ index: 0, type: "DEQUANTIZE", inputs: [edge(t, "int8")], outputs: [t], options: {} }));
  const r = (t: number) => rename.get(t) ?? t;
  const middle: Op[] = g.ops.map((op) => ({
    ...op, inputs: op.inputs.map(r), outputs: op.outputs.map(r),
    options: options.fp8Ops?.has(op.index) ? { ...op.options, [FP8_WEIGHTS_OPTION]: true } : op.options,
  }));
  const ops = [...front, ...middle, ...back].map((op, index) => ({ ...op, index }));
  return {
    graph: { tensors, ops, inputs: [...g.inputs], outputs: [...g.outputs], description: `${g.description} (${options.fp8Ops?.size ? "int8/fp8" : "int8"} post-training quantized by tinyloop)` },
    ranges, params, notes,
  };
}

function quantizeWeighted(
  g: Graph, op: Op, dim: number, params: Map<number, QuantParams>, tensors: Tensor[], done: Set<number>,
  notes: string[], fail: (op: Op, msg: string) => never,
): void {
  const input = params.get(op.inputs[0]);
  if (!input) fail(op, `input 0 must be a computed tensor`);
  const fi = op.inputs[1];
  const filter = g.tensors[fi];
  if (!filter.data || filter.dtype !== "float32") fail(op, `filter "${filter.name}" must be a constant float32 tensor`);
  if (done.has(fi)) fail(op, `filter "${filter.name}" is shared with another op; not supported`);
  const w = floatData(filter);
  const channels = filter.shape[dim];
  const inner = elementCount(filter.shape.slice(dim + 1)); // run length of one channel's values
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(w[i]));
  const bi = op.inputs[2] !== undefined && op.inputs[2] >= 0 ? op.inputs[2] : -1;
  const bias = bi >= 0 ? floatData(g.tensors[bi]) : undefined;
  if (bias && bias.length !== channels) fail(op, `bias has ${bias.length} values for ${channels} channels`);
  const scales = Array.from(maxAbs, (m, c) => {
    let s = m > 0 ? m / 127 : 1; // all-zero channel: any scale (its weights stay 0)
    // The int32 bias must fit: widen the weight scale when a bias is huge next to its weights.
    if (bias && Math.abs(bias[c]) / (input.scale * s) > INT32_MAX) {
      s = Math.abs(bias[c]) / (input.scale * INT32_MAX) * (1 + 1e-6);
      notes.push(`op ${op.index} (${op.type}) channel ${c}: weight scale widened so that its bias fits in int32`);
    }
    return Math.fround(s);
  });
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.min(127, Math.max(-127, round(w[i] / scales[channelOf(i)])));
  tensors[fi] = { ...filter, dtype: "int8", scale: scales, zeroPoint: scales.map(() => 0), quantizedDimension: dim, data: bytesOf(q) };
  done.add(fi);
  if (bias) {
    const bscales = scales.map((s) => Math.fround(input.scale * s));
    const qb = new Int32Array(channels);
    for (let c = 0; c < channels; c++) qb[c] = Math.min(INT32_MAX, Math.max(-INT32_MAX, round(bias[c] / bscales[c])));
    tensors[bi] = { ...g.tensors[bi], dtype: "int32", scale: bscales, zeroPoint: bscales.map(() => 0), quantizedDimension: 0, data: bytesOf(qb) };
    done.add(bi);
  }
}
