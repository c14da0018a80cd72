// A plain float32 reference interpreter over an imported Graph: the meaning of a
// float model, for post-training quantization (every intermediate tensor is
// kept, to calibrate activation ranges) and for measuring an int8 model's error.
// Arithmetic follows TFLite's float reference kernels: float32 products and
// float32 running sums (Math.fround after every operation), same loop order.
import { type Graph, type Op, type Tensor, type Activation, elementCount } from "../graph/graph.ts";
import { leadingPadding, outputSize } from "../passes/tflite-quant.ts";

export class FloatInterpreterError extends Error {}

const f = Math.fround;

export interface FloatRun {
  /** Every tensor the run touched (inputs, constants read, intermediates, outputs), by tensor index. */
  tensors: Map<number, Float32Array>;
  outputs: Float32Array[];
}

export const FLOAT_OPS = [
  "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL",
  "RESHAPE", "SQUEEZE", "SOFTMAX", "PAD", "PADV2", "CONCATENATION", "MEAN",
];

/** Float32 contents of a constant float32 tensor. */
export function floatData(t: Tensor): Float32Array {
  if (!t.data) throw new FloatInterpreterError(`tensor ${t.index} ("${t.name}") has no constant data`);
  if (t.dtype !== "float32") throw new FloatInterpreterError(`tensor ${t.index} ("${t.name}") is ${t.dtype}, not float32`);
  const copy = new Uint8Array(t.data); // aligned copy
  return new Float32Array(copy.buffer, 0, copy.length / 4);
}

function int32Data(t: Tensor): Int32Array {
  const copy = new Uint8Array(t.data!);
  return new Int32Array(copy.buffer, 0, copy.length / 4);
}

/** The fused activation applied to one float32 value (TFLite's ActivationFunctionWithMinMax). */
export function activationBounds(act: Activation | undefined): [number, number] {
  switch (act ?? "NONE") {
    case "NONE": return [-Infinity, Infinity];
    case "RELU": return [0, Infinity];
    case "RELU6": return [0, 6];
    case "RELU_N1_TO_1": return [-1, 1];
    default: throw new FloatInterpreterError(`fused activation ${act} is not supported`);
  }
}

/**
 * The first float32 tensor an op computes on (QUANTIZE's input and DEQUANTIZE's output
 * aside: an int8 model may take and return float32), or undefined for a quantized graph.
 */
export function firstFloatTensor(g: Graph): Tensor | undefined {
  for (const op of g.ops) {
    const ts = [...(op.type === "QUANTIZE" ? [] : op.inputs), ...(op.type === "DEQUANTIZE" ? [] : op.outputs)];
    for (const i of ts) if (i >= 0 && g.tensors[i].dtype === "float32") return g.tensors[i];
  }
  return undefined;
}

/** True when the graph computes in float32 (a float model rather than a quantized one). */
export function isFloatGraph(g: Graph): boolean {
  return firstFloatTensor(g) !== undefined;
}

/** Runs the graph on float32 inputs (one per graph input, in order). */
export function runFloat(g: Graph, inputs: Float32Array[]): FloatRun {
  if (inputs.length !== g.inputs.length) throw new FloatInterpreterError(`the model has ${g.inputs.length} input(s), ${inputs.length} given`);
  const values = new Map<number, Float32Array>();
  g.inputs.forEach((t, i) => {
    const n = elementCount(g.tensors[t].shape);
    if (inputs[i].length !== n) throw new FloatInterpreterError(`input ${i} has ${inputs[i].length} values; the model needs ${n}`);
    values.set(t, Float32Array.from(inputs[i]));
  });
  const get = (op: Op, k: number): Float32Array => {
    const idx = op.inputs[k];
    if (idx === undefined || idx < 0) throw new FloatInterpreterError(`op ${op.index} (${op.type}): missing input ${k}`);
    let v = values.get(idx);
    if (!v) {
      const t = g.tensors[idx];
      if (!t.data) throw new FloatInterpreterError(`op ${op.index} (${op.type}): input ${k} ("${t.name}") is not computed yet`);
      v = floatData(t);
      values.set(idx, v);
    }
    return v;
  };
  for (const op of g.ops) {
    const out = g.tensors[op.outputs[0]];
    const result = runOp(g, op, get, out);
    values.set(out.index, result);
  }
  return { tensors: values, outputs: g.outputs.map((t) => values.get(t)!) };
}

type Getter = (op: Op, k: number) => Float32Array;

function runOp(g: Graph, op: Op, get: Getter, out: Tensor): Float32Array {
  const where = `op ${op.index} (${op.type})`;
  const fail = (msg: string): never => { throw new FloatInterpreterError(`${where}: ${msg}`); };
  const t = (k: number) => g.tensors[op.inputs[k]];
  const opt = <T>(name: string, dflt: T): T => (op.options[name] === undefined ? dflt : op.options[name] as T);
  const [lo, hi] = activationBounds(opt<Activation>("activation", "NONE"));
  const clampAct = (x: number) => (x < lo ? lo : x > hi ? hi : x);
  const o = new Float32Array(elementCount(out.shape));
  switch (op.type) {
    case "CONV_2D":
    case "DEPTHWISE_CONV_2D": {
      const depthwise = op.type === "DEPTHWISE_CONV_2D";
      const input = get(op, 0), filter = get(op, 1);
      const bias = op.inputs[2] !== undefined && op.inputs[2] >= 0 ? get(op, 2) : undefined;
      const [, inH, inW, inC] = t(0).shape, [, outH, outW, outC] = out.shape, fs = t(1).shape;
      const kH = fs[1], kW = fs[2];
      const sH = opt("strideH", 1), sW = opt("strideW", 1), dH = opt("dilationH", 1), dW = opt("dilationW", 1);
      const padding = opt<"SAME" | "VALID">("padding", "VALID");
      if (outputSize(padding, inH, kH, sH, dH) !== outH || outputSize(padding, inW, kW, sW, dW) !== outW) fail(`output size does not match ${padding} padding`);
      const pH = leadingPadding(inH, kH, sH, dH, outH), pW = leadingPadding(inW, kW, sW, dW, outW);
      const dm = depthwise ? outC / inC : 1;
      if (!depthwise && fs[3] !== inC) fail(`filter has ${fs[3]} input channels, input ${inC}`);
      for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let oc = 0; oc < outC; oc++) {
        let acc = 0;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * sH - pH + ky * dH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * sW - pW + kx * dW;
            if (ix < 0 || ix >= inW) continue;
            const base = (iy * inW + ix) * inC;
            if (depthwise) {
              const ic = Math.floor(oc / dm);
              acc = f(acc + f(input[base + ic] * filter[(ky * kW + kx) * outC + oc]));
            } else {
              const fb = ((oc * kH + ky) * kW + kx) * inC;
              for (let ic = 0; ic < inC; ic++) acc = f(acc + f(input[base + ic] * filter[fb + ic]));
            }
          }
        }
        o[(oy * outW + ox) * outC + oc] = clampAct(f(acc + (bias ? bias[oc] : 0)));
      }
      return o;
    }
    case "FULLY_CONNECTED": {
      const input = get(op, 0), filter = get(op, 1);
      const bias = op.inputs[2] !== undefined && op.inputs[2] >= 0 ? get(op, 2) : undefined;
      const [outC, inC] = t(1).shape;
      const batches = input.length / inC;
      if (!Number.isInteger(batches)) fail(`input has ${input.length} values, not a multiple of ${inC}`);
      for (let b = 0; b < batches; b++) for (let c = 0; c < outC; c++) {
        let acc = 0;
        for (let i = 0; i < inC; i++) acc = f(acc + f(input[b * inC + i] * filter[c * inC + i]));
        o[b * outC + c] = clampAct(f(acc + (bias ? bias[c] : 0)));
      }
      return o;
    }
    case "AVERAGE_POOL_2D":
    case "MAX_POOL_2D": {
      const input = get(op, 0);
      const [, inH, inW, ch] = t(0).shape, [, outH, outW] = out.shape;
      const kH = opt("filterH", 1), kW = opt("filterW", 1), sH = opt("strideH", 1), sW = opt("strideW", 1);
      const pH = leadingPadding(inH, kH, sH, 1, outH), pW = leadingPadding(inW, kW, sW, 1, outW);
      const max = op.type === "MAX_POOL_2D";
      for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let c = 0; c < ch; c++) {
        // TFLite pools only over the window's part inside the input.
        const y0 = Math.max(0, oy * sH - pH), y1 = Math.min(inH, oy * sH - pH + kH);
        const x0 = Math.max(0, ox * sW - pW), x1 = Math.min(inW, ox * sW - pW + kW);
        let acc = max ? -Infinity : 0, count = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
          const v = input[(y * inW + x) * ch + c];
          acc = max ? Math.max(acc, v) : f(acc + v);
          count++;
        }
        o[(oy * outW + ox) * ch + c] = clampAct(max ? acc : f(acc / count));
      }
      return o;
    }
    case "ADD":
    case "MUL": {
      const a = get(op, 0), b = get(op, 1);
      const d = [1, 1, 1, 1].concat(out.shape).slice(-4);
      const sa = strides(t(0).shape, d, fail), sb = strides(t(1).shape, d, fail);
      const mul = op.type === "MUL";
      let i = 0;
      for (let i0 = 0; i0 < d[0]; i0++) for (let i1 = 0; i1 < d[1]; i1++) for (let i2 = 0; i2 < d[2]; i2++) for (let i3 = 0; i3 < d[3]; i3++) {
        const x = a[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]];
        const y = b[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]];
        o[i++] = clampAct(mul ? f(x * y) : f(x + y));
      }
      return o;
    }
    case "RESHAPE":
    case "SQUEEZE": {
      const input = get(op, 0);
      if (input.length !== o.length) fail(`input has ${input.length} values, output ${o.length}`);
      o.set(input);
      return o;
    }
    case "SOFTMAX": {
      const input = get(op, 0);
      const beta = opt("beta", 1);
      const depth = out.shape[out.shape.length - 1];
      for (let r = 0; r < o.length / depth; r++) {
        let max = -Infinity;
        for (let i = 0; i < depth; i++) max = Math.max(max, input[r * depth + i]);
        let sum = 0;
        for (let i = 0; i < depth; i++) {
          const e = f(Math.exp(f(f(input[r * depth + i] - max) * beta)));
          o[r * depth + i] = e;
          sum = f(sum + e);
        }
        for (let i = 0; i < depth; i++) o[r * depth + i] = f(o[r * depth + i] / sum);
      }
      return o;
    }
    case "PAD":
    case "PADV2": {
      const input = get(op, 0);
      const pads = int32Data(t(1));
      const value = op.type === "PADV2" && op.inputs[2] !== undefined && op.inputs[2] >= 0 ? get(op, 2)[0] : 0;
      const rank = t(0).shape.length;
      if (rank > 4) fail(`rank ${rank} is above 4`);
      const lead = 4 - rank;
      const id = [1, 1, 1, 1].concat(t(0).shape).slice(-4), od = [1, 1, 1, 1].concat(out.shape).slice(-4);
      const before = [0, 1, 2, 3].map((k) => (k < lead ? 0 : pads[(k - lead) * 2]));
      o.fill(value);
      let i = 0;
      for (let i0 = 0; i0 < id[0]; i0++) for (let i1 = 0; i1 < id[1]; i1++) for (let i2 = 0; i2 < id[2]; i2++) for (let i3 = 0; i3 < id[3]; i3++) {
        const p = (((i0 + before[0]) * od[1] + i1 + before[1]) * od[2] + i2 + before[2]) * od[3] + i3 + before[3];
        o[p] = input[i++];
      }
      return o;
    }
    case "CONCATENATION": {
      const rank = out.shape.length;
      let axis = opt("axis", 0);
      if (axis < 0) axis += rank;
      const outer = elementCount(out.shape.slice(0, axis));
      const parts = op.inputs.map((_, k) => ({ data: get(op, k), inner: elementCount(t(k).shape.slice(axis)) }));
      let p = 0;
      for (let r = 0; r < outer; r++) for (const part of parts) {
        for (let i = 0; i < part.inner; i++) o[p++] = clampAct(part.data[r * part.inner + i]);
      }
      return o;
    }
    case "MEAN": {
      const input = get(op, 0);
      const rank = t(0).shape.length;
      if (rank > 4) fail(`rank ${rank} is above 4`);
      const lead = 4 - rank;
      const d = [1, 1, 1, 1].concat(t(0).shape).slice(-4);
      const reduce = [false, false, false, false];
      for (const a of int32Data(t(1))) reduce[(a < 0 ? a + rank : a) + lead] = true;
      const od = d.map((v, k) => (reduce[k] ? 1 : v));
      const sums = new Float32Array(elementCount(od));
      let i = 0;
      for (let i0 = 0; i0 < d[0]; i0++) for (let i1 = 0; i1 < d[1]; i1++) for (let i2 = 0; i2 < d[2]; i2++) for (let i3 = 0; i3 < d[3]; i3++) {
        const idx = [i0, i1, i2, i3].map((v, k) => (reduce[k] ? 0 : v));
        const q = ((idx[0] * od[1] + idx[1]) * od[2] + idx[2]) * od[3] + idx[3];
        sums[q] = f(sums[q] + input[i++]);
      }
      const count = elementCount(d) / elementCount(od);
      for (let k = 0; k < sums.length; k++) o[k] = f(sums[k] / count);
      return o;
    }
    default:
      return fail(`not supported by the float interpreter; supported ops: ${FLOAT_OPS.join(", ")}`);
  }
}

function strides(shape: number[], out: number[], fail: (m: string) => never): number[] {
  const s = [1, 1, 1, 1].concat(shape).slice(-4);
  const st = [0, 0, 0, 0];
  let stride = 1;
  for (let d = 3; d >= 0; d--) {
    if (s[d] !== out[d] && s[d] !== 1) fail(`shape [${shape}] does not broadcast to [${out}]`);
    st[d] = s[d] === 1 && out[d] !== 1 ? 0 : stride;
    stride *= s[d];
  }
  return st;
}
