// The float32 reference trainer: plain SGD (optional momentum), one sample per step, on softmax cross-entropy,
// over a float32 TFLite graph, updating the same parameters the int8 engine's schemes update. It is the accuracy
// reference for `tinyloop train`, not a fast trainer.
//
// Forward is host/float/interpreter.ts (runFloat keeps every tensor backward needs); backward is below, for CONV_2D
// (stride, dilation, SAME/VALID), DEPTHWISE_CONV_2D (depth multiplier), FULLY_CONNECTED, ADD (both operands of the
// same shape: broadcasting is NOT supported), AVERAGE_POOL_2D, MAX_POOL_2D (the gradient goes to the first maximum of
// each window), MEAN, RESHAPE, SQUEEZE, PAD, PADV2 and the fused activations RELU, RELU6 and RELU_N1_TO_1 (the
// gradient passes where the output lies strictly inside the clamp range). The loss is the cross-entropy of
// softmax(beta * logits) where the logits are the input of the SOFTMAX that produces the graph's output (with no
// final SOFTMAX the output itself is taken as the logits): d loss / d logits = beta * (softmax - onehot).
// Gradients flow back only as far as the earliest trained parameter; an op on that path without a backward here is
// an error naming the op.
//
// Weighted layers are CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, numbered 0.. in execution order. Schemes:
//   bias          every weighted layer's bias
//   last:K        weights and biases of the last K weighted layers
//   full          weights and biases of every weighted layer
//   sparse        { biasFrom, weights: [{ layer, ratio }] }: biases of layers >= biasFrom, and of each listed
//                 layer the weights of its first ceil(ratio * outC) output channels (filter dim 0 for CONV_2D and
//                 FULLY_CONNECTED, the last dim for DEPTHWISE_CONV_2D)
// Update per sample: v = momentum * v + grad; p -= lr * scale * v (momentum 0: p -= lr * scale * grad), the scale
// per tensor from `lrScale` (default 1).
import { type Graph, type Op, type Tensor, elementCount } from "../graph/graph.ts";
import { runFloat, floatData, activationBounds } from "../float/interpreter.ts";
import { leadingPadding } from "../passes/tflite-quant.ts";

export class FloatTrainError extends Error {}
/** A step met a loss that is not finite (the weights blew up): a learning rate too high for the scheme. */
export class FloatTrainDivergedError extends FloatTrainError {}

export type FloatScheme =
  | { kind: "bias" }
  | { kind: "last"; k: number }
  | { kind: "full" }
  | { kind: "sparse"; biasFrom: number; weights: Array<{ layer: number; ratio: number }> };

/** Parses "bias", "last:K" or "full" (a sparse scheme is given as an object, see FloatScheme). */
export function parseFloatScheme(s: string): FloatScheme {
  if (s === "bias" || s === "full") return { kind: s };
  const m = /^last:(\d+)$/.exec(s);
  if (m && Number(m[1]) > 0) return { kind: "last", k: Number(m[1]) };
  throw new FloatTrainError(`unknown scheme "${s}": use bias, last:K (K >= 1) or full (sparse takes an explicit layer list)`);
}

export const WEIGHTED_OPS = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"];
export const BACKWARD_OPS = [...WEIGHTED_OPS, "ADD", "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "RESHAPE", "SQUEEZE", "PAD", "PADV2"];

export interface WeightedLayer {
  /** Weighted-layer index (execution order among CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED). */
  layer: number;
  op: Op;
  /** Tensor index of the filter, and of the bias (-1 when the layer has none). */
  weights: number;
  bias: number;
  outChannels: number;
}

/** The graph's weighted layers in execution order. */
export function weightedLayers(g: Graph): WeightedLayer[] {
  return g.ops.filter((op) => WEIGHTED_OPS.includes(op.type)).map((op, layer) => {
    const w = g.tensors[op.inputs[1]];
    const outChannels = op.type === "DEPTHWISE_CONV_2D" ? w.shape[w.shape.length - 1] : w.shape[0];
    return { layer, op, weights: op.inputs[1], bias: op.inputs[2] ?? -1, outChannels };
  });
}

/** One trained parameter tensor: for a filter, only its first `channels` output channels are trained. */
export interface TrainedParam { tensor: number; layer: number; kind: "weights" | "bias"; channels: number }

/** Which parameters a scheme trains, in execution order. */
export function trainedParams(g: Graph, scheme: FloatScheme): TrainedParam[] {
  const layers = weightedLayers(g);
  const n = layers.length;
  if (n === 0) throw new FloatTrainError("the model has no weighted layer (CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED) to train");
  const out: TrainedParam[] = [];
  const add = (l: WeightedLayer, kind: "weights" | "bias", channels = l.outChannels) => {
    const t = kind === "weights" ? l.weights : l.bias;
    if (t < 0) return;
    const tensor = g.tensors[t];
    if (tensor.dtype !== "float32" || !tensor.data) {
      throw new FloatTrainError(`layer ${l.layer} (op ${l.op.index}, ${l.op.type}): its ${kind} tensor "${tensor.name}" is ${tensor.data ? tensor.dtype : "not constant"}; the float trainer needs float32 constants (a float model)`);
    }
    out.push({ tensor: t, layer: l.layer, kind, channels });
  };
  switch (scheme.kind) {
    case "bias": for (const l of layers) add(l, "bias"); break;
    case "full": for (const l of layers) { add(l, "weights"); add(l, "bias"); } break;
    case "last": {
      if (!(Number.isInteger(scheme.k) && scheme.k >= 1)) throw new FloatTrainError(`last:${scheme.k}: K must be a positive integer`);
      if (scheme.k > n) throw new FloatTrainError(`last:${scheme.k}: the model has only ${n} weighted layers`);
      for (const l of layers.slice(n - scheme.k)) { add(l, "weights"); add(l, "bias"); }
      break;
    }
    case "sparse": {
      const ratios = new Map<number, number>();
      for (const { layer, ratio } of scheme.weights) {
        if (!(Number.isInteger(layer) && layer >= 0 && layer < n)) throw new FloatTrainError(`sparse scheme: layer ${layer} does not exist (the model has weighted layers 0..${n - 1})`);
        if (!(ratio > 0 && ratio <= 1)) throw new FloatTrainError(`sparse scheme: layer ${layer} ratio ${ratio} is not in (0, 1]`);
        if (ratios.has(layer)) throw new FloatTrainError(`sparse scheme: layer ${layer} is listed twice`);
        ratios.set(layer, ratio);
      }
      if (!(Number.isInteger(scheme.biasFrom) && scheme.biasFrom >= 0 && scheme.biasFrom <= n)) {
        throw new FloatTrainError(`sparse scheme: biasFrom ${scheme.biasFrom} is not a weighted-layer index 0..${n} (${n}: no biases)`);
      }
      for (const l of layers) {
        const r = ratios.get(l.layer);
        if (r !== undefined) add(l, "weights", Math.ceil(r * l.outChannels));
        if (l.layer >= scheme.biasFrom) add(l, "bias");
      }
      break;
    }
  }
  if (out.length === 0) throw new FloatTrainError(`scheme ${scheme.kind} trains nothing in this model (no layer has a bias?)`);
  return out;
}

export interface FloatTrainOptions {
  lr: number;
  momentum?: number;
  /**
   * A learning-rate multiplier per trained tensor (default 1). E.g. a model that takes raw 0..255 pixels trains its
   * first layer's weights like a model taking 0..1 pixels (same function, weights 255x larger) with 1 / 255^2 for
   * them: SGD on w' = 255 w steps w by lr * grad / 255^2.
   */
  lrScale?: (p: TrainedParam) => number;
}

export interface StepResult { loss: number; predicted: number }

export interface FloatTrainer {
  /** The parameters this trainer updates. */
  readonly params: TrainedParam[];
  /** The learning rate of the following steps (a schedule's; lrScale still applies per tensor). */
  setLr(lr: number): void;
  /** Forward, backward and one SGD update on one sample. */
  step(input: Float32Array, label: number): StepResult;
  /** Loss and gradients of every trained parameter (untrained channels zero) for one sample, without updating. */
  gradients(input: Float32Array, label: number): { loss: number; predicted: number; grads: Map<number, Float32Array> };
  /** Loss and predicted class, no update. */
  loss(input: Float32Array, label: number): StepResult;
  /** Top class of the logits. */
  predict(input: Float32Array): number;
  /** Current values of the trained parameter tensors, by tensor index (copies). */
  exportWeights(): Map<number, Float32Array>;
  /** A copy of the graph with the current parameters as its constants (import-ready for PTQ or the interpreter). */
  exportGraph(): Graph;
}

const f32bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Makes a trainer over a float32 graph (the graph itself is not modified). */
export function createFloatTrainer(graph: Graph, scheme: FloatScheme, opts: FloatTrainOptions): FloatTrainer {
  if (!(opts.lr > 0)) throw new FloatTrainError(`learning rate ${opts.lr} must be a positive number`);
  const momentum = opts.momentum ?? 0;
  if (!(momentum >= 0 && momentum < 1)) throw new FloatTrainError(`momentum ${momentum} must be in [0, 1)`);
  if (graph.inputs.length !== 1) throw new FloatTrainError(`the float trainer takes models with one input; this one has ${graph.inputs.length}`);
  const params = trainedParams(graph, scheme);

  // A private graph whose trained constants are views of our Float32Arrays (runFloat copies them on each run).
  const tensors: Tensor[] = graph.tensors.map((t) => ({ ...t }));
  const g: Graph = { ...graph, tensors, ops: graph.ops };
  const values = new Map<number, Float32Array>();
  const velocity = new Map<number, Float32Array>();
  for (const p of params) {
    const v = Float32Array.from(floatData(tensors[p.tensor]));
    values.set(p.tensor, v);
    tensors[p.tensor] = { ...tensors[p.tensor], data: f32bytes(v) };
    if (momentum > 0) velocity.set(p.tensor, new Float32Array(v.length));
  }
  const byTensor = new Map(params.map((p) => [p.tensor, p]));
  const scaleOf = new Map(params.map((p) => {
    const k = opts.lrScale ? opts.lrScale(p) : 1;
    if (!(k >= 0 && Number.isFinite(k))) throw new FloatTrainError(`lrScale for layer ${p.layer} ${p.kind} is ${k}; it must be a finite number >= 0`);
    return [p.tensor, k];
  }));
  let baseLr = opts.lr; // setLr() changes it mid-run (a schedule)

  // The loss head: the final SOFTMAX (skipped in backward) and its logits.
  const outOp = graph.ops.find((op) => op.outputs.includes(graph.outputs[0]));
  const head = outOp && outOp.type === "SOFTMAX" ? outOp : undefined;
  const logitsTensor = head ? head.inputs[0] : graph.outputs[0];
  const beta = head ? Number(head.options.beta ?? 1) : 1;

  // Which tensors need a gradient: those computed from a trained parameter.
  const needs = new Set<number>();
  const bodyOps = graph.ops.filter((op) => op !== head);
  for (const op of bodyOps) {
    if (op.inputs.some((i) => i >= 0 && (needs.has(i) || byTensor.has(i)))) for (const o of op.outputs) needs.add(o);
  }
  if (!needs.has(logitsTensor)) throw new FloatTrainError("no trained parameter reaches the model's output");
  const backOps = bodyOps.filter((op) => needs.has(op.outputs[0]));
  for (const op of backOps) {
    if (!BACKWARD_OPS.includes(op.type)) {
      throw new FloatTrainError(`op ${op.index} (${op.type}) lies between a trained layer and the output but has no backward in the float trainer; supported: ${BACKWARD_OPS.join(", ")} and a final SOFTMAX`);
    }
    activationBounds(op.options.activation as never); // throws for TANH and friends
    if (op.type === "ADD") {
      const [a, b] = op.inputs.map((i) => graph.tensors[i].shape);
      const o = graph.tensors[op.outputs[0]].shape;
      if (elementCount(a) !== elementCount(o) || elementCount(b) !== elementCount(o)) {
        throw new FloatTrainError(`op ${op.index} (ADD) broadcasts [${a}] + [${b}]; the float trainer supports ADD of equal shapes only`);
      }
    }
  }

  const forward = (input: Float32Array) => {
    const run = runFloat(g, [input]);
    return { run, logits: run.tensors.get(logitsTensor)! };
  };

  const lossOf = (logits: Float32Array, label: number): { loss: number; predicted: number; dLogits: Float32Array } => {
    if (!(Number.isInteger(label) && label >= 0 && label < logits.length)) {
      throw new FloatTrainError(`label ${label} is out of range: the model has ${logits.length} classes (0..${logits.length - 1})`);
    }
    let max = -Infinity, predicted = 0;
    for (let i = 0; i < logits.length; i++) if (logits[i] > max) { max = logits[i]; predicted = i; }
    const p = new Float64Array(logits.length);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp(beta * (logits[i] - max));
    const dLogits = new Float32Array(logits.length);
    for (let i = 0; i < logits.length; i++) dLogits[i] = beta * (p[i] / sum - (i === label ? 1 : 0));
    return { loss: -(beta * (logits[label] - max) - Math.log(sum)), predicted, dLogits };
  };

  const gradients = (input: Float32Array, label: number) => {
    const { run, logits } = forward(input);
    const { loss, predicted, dLogits } = lossOf(logits, label);
    const grads = new Map<number, Float32Array>();
    for (const p of params) grads.set(p.tensor, new Float32Array(values.get(p.tensor)!.length));
    const dAct = new Map<number, Float32Array>([[logitsTensor, dLogits]]);
    for (let k = backOps.length - 1; k >= 0; k--) {
      const op = backOps[k];
      const gOut = dAct.get(op.outputs[0]);
      if (!gOut) continue; // nothing downstream depends on it (e.g. a dead branch)
      dAct.delete(op.outputs[0]);
      backward(graph, op, run.tensors, gOut, needs, dAct, grads, byTensor);
    }
    return { loss, predicted, grads };
  };

  const apply = (grads: Map<number, Float32Array>) => {
    for (const p of params) {
      const v = values.get(p.tensor)!, gr = grads.get(p.tensor)!;
      const vel = velocity.get(p.tensor), lr = baseLr * scaleOf.get(p.tensor)!;
      if (vel) {
        for (let i = 0; i < v.length; i++) { vel[i] = momentum * vel[i] + gr[i]; v[i] -= lr * vel[i]; }
      } else {
        for (let i = 0; i < v.length; i++) v[i] -= lr * gr[i];
      }
    }
  };

  return {
    params,
    setLr(lr) {
      if (!(lr > 0)) throw new FloatTrainError(`learning rate ${lr} must be a positive number`);
      baseLr = lr;
    },
    step(input, label) {
      const { loss, predicted, grads } = gradients(input, label);
      if (!Number.isFinite(loss)) throw new FloatTrainDivergedError(`the loss is ${loss}: training diverged; lower the learning rate`);
      apply(grads);
      return { loss, predicted };
    },
    gradients,
    loss(input, label) {
      const { loss, predicted } = lossOf(forward(input).logits, label);
      return { loss, predicted };
    },
    predict(input) {
      const l = forward(input).logits;
      let best = 0;
      for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
      return best;
    },
    exportWeights() {
      return new Map([...values].map(([t, v]) => [t, Float32Array.from(v)]));
    },
    exportGraph() {
      return { ...graph, tensors: tensors.map((t) => (values.has(t.index) ? { ...t, data: f32bytes(Float32Array.from(values.get(t.index)!)) } : { ...t })), ops: graph.ops.map((o) => ({ ...o })) };
    },
  };
}

/** Share of samples whose predicted class is the label. */
export function evaluate(model: { predict(input: Float32Array): number }, samples: Iterable<{ input: Float32Array; label: number }>): number {
  let right = 0, n = 0;
  for (const s of samples) {
    if (model.predict(s.input) === s.label) right++;
    n++;
  }
  if (n === 0) throw new FloatTrainError("evaluate: no samples");
  return right / n;
}

// ---- backward -----------------------------------------------------------------------------------------------------

function accumulate(dAct: Map<number, Float32Array>, t: number, n: number): Float32Array {
  let a = dAct.get(t);
  if (!a) dAct.set(t, (a = new Float32Array(n)));
  return a;
}

/** Backward of one op: masks gOut by the fused activation, then adds input and parameter gradients. */
function backward(
  g: Graph, op: Op, vals: Map<number, Float32Array>, gOutRaw: Float32Array, needs: Set<number>,
  dAct: Map<number, Float32Array>, grads: Map<number, Float32Array>, byTensor: Map<number, TrainedParam>,
): void {
  const out = vals.get(op.outputs[0])!;
  const [lo, hi] = activationBounds(op.options.activation as never);
  let gOut = gOutRaw;
  if (lo !== -Infinity || hi !== Infinity) {
    gOut = new Float32Array(gOutRaw.length);
    for (let i = 0; i < out.length; i++) if (out[i] > lo && out[i] < hi) gOut[i] = gOutRaw[i];
  }
  const t = (k: number) => g.tensors[op.inputs[k]];
  const opt = (name: string, dflt: number) => (op.options[name] === undefined ? dflt : Number(op.options[name]));
  const inGrad = (k: number): Float32Array | undefined => {
    const i = op.inputs[k];
    return i >= 0 && needs.has(i) ? accumulate(dAct, i, elementCount(g.tensors[i].shape)) : undefined;
  };
  const outShape = g.tensors[op.outputs[0]].shape;
  switch (op.type) {
    case "CONV_2D":
    case "DEPTHWISE_CONV_2D": {
      const depthwise = op.type === "DEPTHWISE_CONV_2D";
      const input = vals.get(op.inputs[0])!, filter = vals.get(op.inputs[1])!;
      const dIn = inGrad(0);
      const wp = byTensor.get(op.inputs[1]), bp = op.inputs[2] >= 0 ? byTensor.get(op.inputs[2]) : undefined;
      const dW = wp ? grads.get(wp.tensor)! : undefined, dB = bp ? grads.get(bp.tensor)! : undefined;
      const wLimit = wp ? wp.channels : 0;
      const [, inH, inW, inC] = t(0).shape, [, outH, outW, outC] = outShape, fs = t(1).shape;
      const kH = fs[1], kW = fs[2];
      const sH = opt("strideH", 1), sW = opt("strideW", 1), dH = opt("dilationH", 1), dWl = opt("dilationW", 1);
      const pH = leadingPadding(inH, kH, sH, dH, outH), pW = leadingPadding(inW, kW, sW, dWl, outW);
      const dm = depthwise ? outC / inC : 1;
      if (dB) for (let p = 0; p < outH * outW; p++) for (let oc = 0; oc < outC; oc++) dB[oc] += gOut[p * outC + oc];
      if (!dIn && !dW) return;
      for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) {
        const ob = (oy * outW + ox) * outC;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * sH - pH + ky * dH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * sW - pW + kx * dWl;
            if (ix < 0 || ix >= inW) continue;
            const base = (iy * inW + ix) * inC;
            for (let oc = 0; oc < outC; oc++) {
              const gv = gOut[ob + oc];
              if (gv === 0) continue;
              if (depthwise) {
                const ic = Math.floor(oc / dm), wi = (ky * kW + kx) * outC + oc;
                if (dIn) dIn[base + ic] += gv * filter[wi];
                if (dW && oc < wLimit) dW[wi] += gv * input[base + ic];
              } else {
                const fb = ((oc * kH + ky) * kW + kx) * inC;
                if (dIn) for (let ic = 0; ic < inC; ic++) dIn[base + ic] += gv * filter[fb + ic];
                if (dW && oc < wLimit) for (let ic = 0; ic < inC; ic++) dW[fb + ic] += gv * input[base + ic];
              }
            }
          }
        }
      }
      return;
    }
    case "FULLY_CONNECTED": {
      const input = vals.get(op.inputs[0])!, filter = vals.get(op.inputs[1])!;
      const dIn = inGrad(0);
      const wp = byTensor.get(op.inputs[1]), bp = op.inputs[2] >= 0 ? byTensor.get(op.inputs[2]) : undefined;
      const dW = wp ? grads.get(wp.tensor)! : undefined, dB = bp ? grads.get(bp.tensor)! : undefined;
      const wLimit = wp ? wp.channels : 0;
      const [outC, inC] = t(1).shape;
      const batches = input.length / inC;
      for (let b = 0; b < batches; b++) for (let c = 0; c < outC; c++) {
        const gv = gOut[b * outC + c];
        if (gv === 0) continue;
        if (dB) dB[c] += gv;
        if (dIn) for (let i = 0; i < inC; i++) dIn[b * inC + i] += gv * filter[c * inC + i];
        if (dW && c < wLimit) for (let i = 0; i < inC; i++) dW[c * inC + i] += gv * input[b * inC + i];
      }
      return;
    }
    case "AVERAGE_POOL_2D":
    case "MAX_POOL_2D": {
      const dIn = inGrad(0);
      if (!dIn) return;
      const input = vals.get(op.inputs[0])!;
      const [, inH, inW, ch] = t(0).shape, [, outH, outW] = outShape;
      const kH = opt("filterH", 1), kW = opt("filterW", 1), sH = opt("strideH", 1), sW = opt("strideW", 1);
      const pH = leadingPadding(inH, kH, sH, 1, outH), pW = leadingPadding(inW, kW, sW, 1, outW);
      const max = op.type === "MAX_POOL_2D";
      for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let c = 0; c < ch; c++) {
        const gv = gOut[(oy * outW + ox) * ch + c];
        if (gv === 0) continue;
        const y0 = Math.max(0, oy * sH - pH), y1 = Math.min(inH, oy * sH - pH + kH);
        const x0 = Math.max(0, ox * sW - pW), x1 = Math.min(inW, ox * sW - pW + kW);
        if (max) {
          let best = -1, bv = -Infinity;
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
            const i = (y * inW + x) * ch + c;
            if (input[i] > bv) { bv = input[i]; best = i; }
          }
          if (best >= 0) dIn[best] += gv;
        } else {
          const share = gv / ((y1 - y0) * (x1 - x0));
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) dIn[(y * inW + x) * ch + c] += share;
        }
      }
      return;
    }
    case "ADD": {
      for (const k of [0, 1]) {
        const d = inGrad(k);
        if (d) for (let i = 0; i < d.length; i++) d[i] += gOut[i];
      }
      return;
    }
    case "RESHAPE":
    case "SQUEEZE": {
      const d = inGrad(0);
      if (d) for (let i = 0; i < d.length; i++) d[i] += gOut[i];
      return;
    }
    case "PAD":
    case "PADV2": {
      const d = inGrad(0);
      if (!d) return;
      const pt = t(1);
      const pads = new Int32Array(new Uint8Array(pt.data!).buffer);
      const rank = t(0).shape.length, lead = 4 - rank;
      const id = [1, 1, 1, 1].concat(t(0).shape).slice(-4), od = [1, 1, 1, 1].concat(outShape).slice(-4);
      const before = [0, 1, 2, 3].map((k) => (k < lead ? 0 : pads[(k - lead) * 2]));
      let i = 0;
      for (let i0 = 0; i0 < id[0]; i0++) for (let i1 = 0; i1 < id[1]; i1++) for (let i2 = 0; i2 < id[2]; i2++) for (let i3 = 0; i3 < id[3]; i3++) {
        d[i++] += gOut[(((i0 + before[0]) * od[1] + i1 + before[1]) * od[2] + i2 + before[2]) * od[3] + i3 + before[3]];
      }
      return;
    }
    case "MEAN": {
      const d = inGrad(0);
      if (!d) return;
      const rank = t(0).shape.length, lead = 4 - rank;
      const dims = [1, 1, 1, 1].concat(t(0).shape).slice(-4);
      const reduce = [false, false, false, false];
      for (const a of new Int32Array(new Uint8Array(t(1).data!).buffer)) reduce[(a < 0 ? a + rank : a) + lead] = true;
      const od = dims.map((v, k) => (reduce[k] ? 1 : v));
      const count = elementCount(dims) / elementCount(od);
      let i = 0;
      for (let i0 = 0; i0 < dims[0]; i0++) for (let i1 = 0; i1 < dims[1]; i1++) for (let i2 = 0; i2 < dims[2]; i2++) for (let i3 = 0; i3 < dims[3]; i3++) {
        const ix = [i0, i1, i2, i3].map((v, k) => (reduce[k] ? 0 : v));
        d[i++] += gOut[((ix[0] * od[1] + ix[1]) * od[2] + ix[2]) * od[3] + ix[3]] / count;
      }
      return;
    }
    default:
      throw new FloatTrainError(`op ${op.index} (${op.type}) has no backward in the float trainer`);
  }
}
