// The float32 reference trainer (host/train/float-train.ts): every backward op against central finite differences
// on small hand-built graphs, the schemes' parameter sets (full = the union of the parts), loss going down, SGD with
// momentum, and clear errors for what it cannot train.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { Graph, Op, Tensor } from "../../host/graph/graph.ts";
import { runFloat } from "../../host/float/interpreter.ts";
import { importTflite } from "../../host/import/tflite.ts";
import {
  createFloatTrainer, evaluate, parseFloatScheme, trainedParams, weightedLayers, FloatTrainError, FloatTrainDivergedError, type FloatScheme,
} from "../../host/train/float-train.ts";
import { modelPath } from "./shared.ts";

/** A seeded stream of uniform numbers in [-1, 1) (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 31 - 1;
  };
}

/** Builds a Graph directly: float32 activations and constants, int32 operands (paddings, axes, shapes). */
class Builder {
  tensors: Tensor[] = [];
  ops: Op[] = [];
  constructor(private rand: () => number) {}
  tensor(shape: number[], data?: Uint8Array, dtype: Tensor["dtype"] = "float32"): number {
    const index = this.tensors.length;
    this.tensors.push({ index, name: `t${index}`, shape, dtype, scale: [], zeroPoint: [], quantizedDimension: 0, data, isVariable: false });
    return index;
  }
  random(shape: number[], std: number): number {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.tensor(shape, new Uint8Array(Float32Array.from({ length: n }, () => this.rand() * std).buffer));
  }
  ints(values: number[]): number {
    return this.tensor([values.length], new Uint8Array(new Int32Array(values).buffer), "int32");
  }
  op(type: string, inputs: number[], outShape: number[], options: Record<string, unknown> = {}): number {
    const out = this.tensor(outShape);
    this.ops.push({ index: this.ops.length, type, inputs, outputs: [out], options });
    return out;
  }
  conv(x: number, outC: number, k: [number, number], outShape: number[], o: Record<string, unknown>, bias = true): number {
    const inC = this.tensors[x].shape[3];
    const w = this.random([outC, k[0], k[1], inC], 0.6), b = bias ? this.random([outC], 0.3) : -1;
    return this.op("CONV_2D", [x, w, b], outShape, { strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: "NONE", ...o });
  }
  depthwise(x: number, mult: number, k: [number, number], outShape: number[], o: Record<string, unknown>): number {
    const outC = this.tensors[x].shape[3] * mult;
    const w = this.random([1, k[0], k[1], outC], 0.6), b = this.random([outC], 0.3);
    return this.op("DEPTHWISE_CONV_2D", [x, w, b], outShape, { strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, depthMultiplier: mult, activation: "NONE", ...o });
  }
  fc(x: number, outC: number, o: Record<string, unknown> = {}): number {
    const inC = this.tensors[x].shape[this.tensors[x].shape.length - 1];
    const w = this.random([outC, inC], 0.5), b = this.random([outC], 0.2);
    return this.op("FULLY_CONNECTED", [x, w, b], [1, outC], { activation: "NONE", ...o });
  }
  graph(input: number, output: number): Graph {
    return { tensors: this.tensors, ops: this.ops, inputs: [input], outputs: [output], description: "test" };
  }
}

/** conv (SAME, stride 2, RELU) -> depthwise (mult 2, dilation 2, SAME, RELU6) -> PAD -> MAX_POOL -> RESHAPE -> FC -> SOFTMAX. */
function graphA(): Graph {
  const b = new Builder(rng(11));
  const x = b.tensor([1, 7, 6, 2]);
  const c = b.conv(x, 3, [3, 3], [1, 4, 3, 3], { padding: "SAME", strideH: 2, strideW: 2, activation: "RELU" });
  const d = b.depthwise(c, 2, [3, 2], [1, 4, 3, 6], { padding: "SAME", dilationH: 2, activation: "RELU6" });
  const p = b.op("PAD", [d, b.ints([0, 0, 1, 1, 0, 1, 0, 0])], [1, 6, 4, 6]);
  const m = b.op("MAX_POOL_2D", [p], [1, 3, 2, 6], { padding: "VALID", filterH: 2, filterW: 2, strideH: 2, strideW: 2, activation: "NONE" });
  const r = b.op("RESHAPE", [m, b.ints([1, 36])], [1, 36]);
  const f = b.fc(r, 4);
  return b.graph(x, b.op("SOFTMAX", [f], [1, 4], { beta: 1.5 }));
}

/** Residual block: conv->conv and a 1x1 stride-2 shortcut, ADD (RELU), AVERAGE_POOL (SAME), MEAN, FC, SOFTMAX. */
function graphB(): Graph {
  const b = new Builder(rng(22));
  const x = b.tensor([1, 6, 6, 2]);
  const a1 = b.conv(x, 3, [3, 3], [1, 3, 3, 3], { padding: "SAME", strideH: 2, strideW: 2, activation: "RELU" });
  const a2 = b.conv(a1, 3, [3, 3], [1, 3, 3, 3], { padding: "SAME" });
  const s = b.conv(x, 3, [1, 1], [1, 3, 3, 3], { padding: "SAME", strideH: 2, strideW: 2 }, false);
  const add = b.op("ADD", [a2, s], [1, 3, 3, 3], { activation: "RELU" });
  const pool = b.op("AVERAGE_POOL_2D", [add], [1, 2, 2, 3], { padding: "SAME", filterH: 2, filterW: 2, strideH: 2, strideW: 2, activation: "NONE" });
  const mean = b.op("MEAN", [pool, b.ints([1, 2])], [1, 3], { keepDims: false });
  const f = b.fc(mean, 5);
  return b.graph(x, b.op("SOFTMAX", [f], [1, 5], { beta: 1 }));
}

/** VALID conv with stride 2 and dilation 2 (RELU), AVERAGE_POOL (VALID), SQUEEZE, FC (RELU), FC: logits are the output. */
function graphC(): Graph {
  const b = new Builder(rng(33));
  const x = b.tensor([1, 9, 9, 1]);
  const c = b.conv(x, 4, [3, 3], [1, 3, 3, 4], { padding: "VALID", strideH: 2, strideW: 2, dilationH: 2, dilationW: 2, activation: "RELU" });
  const p = b.op("AVERAGE_POOL_2D", [c], [1, 2, 2, 4], { padding: "VALID", filterH: 2, filterW: 2, strideH: 1, strideW: 1, activation: "NONE" });
  const r = b.op("RESHAPE", [p, b.ints([1, 16])], [1, 16]);
  const h = b.fc(r, 6, { activation: "RELU" });
  return b.graph(x, b.fc(h, 3));
}

function inputOf(g: Graph, seed: number): Float32Array {
  const r = rng(seed);
  const n = g.tensors[g.inputs[0]].shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => r() * 2);
}

/** The graph with one constant element changed by `delta`. */
function perturbed(g: Graph, tensor: number, i: number, delta: number): Graph {
  const tensors = g.tensors.slice();
  const v = new Float32Array(new Uint8Array(g.tensors[tensor].data!).buffer);
  v[i] += delta;
  tensors[tensor] = { ...g.tensors[tensor], data: new Uint8Array(v.buffer) };
  return { ...g, tensors };
}

/**
 * Checks every trained element's gradient (up to `per` elements per tensor; only the trained channels of a sparse
 * filter) against central differences. Where the two one-sided differences disagree the loss has a kink within
 * eps (a RELU or a max-pool switch), so no derivative to compare: such elements are skipped, and must be rare.
 */
function checkGradients(g: Graph, scheme: FloatScheme, input: Float32Array, label: number, per = 60): number {
  const t = createFloatTrainer(g, scheme, { lr: 0.1 });
  const { loss, grads } = t.gradients(input, label);
  const lossAt = (gg: Graph) => createFloatTrainer(gg, scheme, { lr: 0.1 }).loss(input, label).loss;
  assert.ok(Math.abs(lossAt(g) - loss) < 1e-6);
  const eps = 1e-3;
  const close = (a: number, b: number) => Math.abs(a - b) <= 3e-3 + 2e-2 * Math.abs(a);
  let checked = 0, kinks = 0;
  for (const p of t.params) {
    const gr = grads.get(p.tensor)!;
    const layer = weightedLayers(g)[p.layer];
    const depthwise = layer.op.type === "DEPTHWISE_CONV_2D";
    const trained = (i: number) => p.kind === "bias" || (depthwise ? i % layer.outChannels : Math.floor(i / (gr.length / layer.outChannels))) < p.channels;
    const stride = Math.max(1, Math.floor(gr.length / per));
    for (let i = 0; i < gr.length; i += stride) {
      if (!trained(i)) continue;
      const up = lossAt(perturbed(g, p.tensor, i, eps)), down = lossAt(perturbed(g, p.tensor, i, -eps));
      if (!close((up - loss) / eps, (loss - down) / eps)) { kinks++; continue; }
      const fd = (up - down) / (2 * eps);
      assert.ok(close(fd, gr[i]), `tensor ${p.tensor} (layer ${p.layer} ${p.kind}) element ${i}: analytic ${gr[i]}, finite difference ${fd}`);
      checked++;
    }
  }
  assert.ok(kinks <= 0.1 * checked + 2, `${kinks} kinks against ${checked} smooth elements`);
  return checked;
}

test("loss is the cross-entropy of the model's own softmax output", () => {
  for (const g of [graphA(), graphB()]) {
    const x = inputOf(g, 5);
    const probs = runFloat(g, [x]).outputs[0];
    const t = createFloatTrainer(g, { kind: "full" }, { lr: 0.1 });
    for (let label = 0; label < probs.length; label++) {
      assert.ok(Math.abs(t.loss(x, label).loss + Math.log(probs[label])) < 1e-5);
    }
    assert.equal(t.predict(x), probs.indexOf(Math.max(...probs)));
  }
});

test("gradients match finite differences: CONV_2D SAME stride 2, DEPTHWISE mult 2 dilation 2, RELU/RELU6, PAD, MAX_POOL, RESHAPE, FC, SOFTMAX beta", () => {
  const g = graphA();
  for (const [seed, label] of [[1, 0], [2, 3], [3, 1]]) assert.ok(checkGradients(g, { kind: "full" }, inputOf(g, seed), label) > 100);
});

test("gradients match finite differences: residual ADD (RELU), 1x1 stride-2 shortcut without bias, AVERAGE_POOL SAME, MEAN", () => {
  const g = graphB();
  for (const [seed, label] of [[4, 2], [5, 4]]) assert.ok(checkGradients(g, { kind: "full" }, inputOf(g, seed), label) > 50);
});

test("gradients match finite differences: VALID conv with stride and dilation, AVERAGE_POOL VALID, FC RELU, logits without SOFTMAX", () => {
  const g = graphC();
  for (const [seed, label] of [[6, 1], [7, 2]]) assert.ok(checkGradients(g, { kind: "full" }, inputOf(g, seed), label) > 50);
});

test("SQUEEZE, PADV2 and MEAN keepDims pass gradients", () => {
  const b = new Builder(rng(44));
  const x = b.tensor([1, 4, 4, 2]);
  const c = b.conv(x, 3, [3, 3], [1, 4, 4, 3], { padding: "SAME", activation: "RELU" });
  const p = b.op("PADV2", [c, b.ints([0, 0, 0, 1, 1, 0, 0, 0]), b.tensor([1], new Uint8Array(new Float32Array([0.5]).buffer))], [1, 5, 5, 3]);
  const m = b.op("MEAN", [p, b.ints([1, 2])], [1, 1, 1, 3], { keepDims: true });
  const s = b.op("SQUEEZE", [m], [1, 3]);
  const g = b.graph(x, b.op("SOFTMAX", [b.fc(s, 4)], [1, 4], { beta: 1 }));
  assert.ok(checkGradients(g, { kind: "full" }, inputOf(g, 8), 2) > 40);
});

test("sparse and last:K gradients match finite differences and leave untrained channels alone", () => {
  const g = graphA();
  const sparse: FloatScheme = { kind: "sparse", biasFrom: 1, weights: [{ layer: 0, ratio: 0.5 }, { layer: 1, ratio: 0.34 }] };
  checkGradients(g, sparse, inputOf(g, 9), 1);
  checkGradients(g, { kind: "last", k: 2 }, inputOf(g, 9), 1);
  const ps = trainedParams(g, sparse);
  assert.deepEqual(ps.map((p) => [p.layer, p.kind, p.channels]), [[0, "weights", 2], [1, "weights", 3], [1, "bias", 6], [2, "bias", 4]]);
  const t = createFloatTrainer(g, sparse, { lr: 0.5 });
  const before = t.exportWeights();
  for (let k = 0; k < 3; k++) t.step(inputOf(g, 20 + k), k);
  const after = t.exportWeights();
  const conv = weightedLayers(g)[0], dw = weightedLayers(g)[1];
  const w0 = before.get(conv.weights)!, w1 = after.get(conv.weights)!;
  const perCh = w0.length / 3;
  assert.deepEqual(w1.subarray(2 * perCh), w0.subarray(2 * perCh)); // channel 2 of 3 is frozen
  assert.notDeepEqual(w1.subarray(0, 2 * perCh), w0.subarray(0, 2 * perCh));
  const d0 = before.get(dw.weights)!, d1 = after.get(dw.weights)!; // depthwise: channel is the last dim (6)
  for (let i = 0; i < d0.length; i++) if (i % 6 >= 3) assert.equal(d1[i], d0[i]);
  assert.equal(after.has(conv.bias), false); // biasFrom 1
});

test("full's gradient is the union of the parts", () => {
  const g = graphB();
  const x = inputOf(g, 12);
  const full = createFloatTrainer(g, { kind: "full" }, { lr: 0.1 }).gradients(x, 3).grads;
  const schemes: FloatScheme[] = [
    { kind: "bias" }, { kind: "last", k: 1 }, { kind: "last", k: 2 }, { kind: "last", k: 4 },
    { kind: "sparse", biasFrom: 2, weights: [{ layer: 0, ratio: 1 }, { layer: 2, ratio: 0.5 }] },
  ];
  const seen = new Set<number>();
  for (const s of schemes) {
    const t = createFloatTrainer(g, s, { lr: 0.1 });
    const grads = t.gradients(x, 3).grads;
    for (const p of t.params) {
      seen.add(p.tensor);
      const a = grads.get(p.tensor)!, b = full.get(p.tensor)!;
      const per = a.length / weightedLayers(g)[p.layer].outChannels;
      for (let i = 0; i < a.length; i++) assert.equal(a[i], p.kind === "bias" || Math.floor(i / per) < p.channels ? b[i] : 0);
    }
  }
  assert.deepEqual([...seen].sort(), [...full.keys()].sort());
  assert.equal(full.size, 4 + 3); // four filters, three biases (the shortcut has none)
});

test("SGD lowers the loss on a fixed seed, with and without momentum; momentum follows v = m v + g", () => {
  const g = graphA();
  const data = [0, 1, 2, 3, 4, 5].map((k) => ({ input: inputOf(g, 100 + k), label: k % 4 }));
  for (const [scheme, lr, momentum] of [["full", 0.05, 0], ["full", 0.005, 0.9], ["bias", 0.05, 0], ["last:1", 0.05, 0.5]] as const) {
    const t = createFloatTrainer(g, parseFloatScheme(scheme), { lr, momentum });
    const mean = () => data.reduce((s, d) => s + t.loss(d.input, d.label).loss, 0) / data.length;
    const l0 = mean();
    for (let e = 0; e < 10; e++) for (const d of data) t.step(d.input, d.label);
    const l1 = mean();
    assert.ok(l1 < 0.8 * l0, `${scheme} momentum ${momentum}: loss ${l0} -> ${l1}`);
  }
  const good = createFloatTrainer(g, { kind: "full" }, { lr: 0.05 });
  for (let e = 0; e < 20; e++) for (const d of data) good.step(d.input, d.label);
  assert.equal(evaluate(good, data), 1);

  const lr = 0.1, m = 0.5;
  const t = createFloatTrainer(g, { kind: "bias" }, { lr, momentum: m });
  const [x1, x2] = [data[0], data[1]];
  const p0 = t.exportWeights();
  const g1 = t.gradients(x1.input, x1.label).grads;
  t.step(x1.input, x1.label);
  const g2 = t.gradients(x2.input, x2.label).grads;
  t.step(x2.input, x2.label);
  for (const [k, v] of t.exportWeights()) {
    for (let i = 0; i < v.length; i++) {
      const v1 = g1.get(k)![i], v2 = m * v1 + g2.get(k)![i];
      assert.ok(Math.abs(v[i] - (p0.get(k)![i] - lr * v1 - lr * v2)) < 1e-6);
    }
  }
});

test("exportGraph carries the trained weights and runs in the float interpreter", () => {
  const g = graphC();
  const t = createFloatTrainer(g, { kind: "last", k: 1 }, { lr: 0.2 });
  for (let k = 0; k < 5; k++) t.step(inputOf(g, 50 + k), k % 3);
  const x = inputOf(g, 77);
  const out = runFloat(t.exportGraph(), [x]).outputs[0];
  assert.equal(out.indexOf(Math.max(...out)), t.predict(x));
  assert.notDeepEqual(Array.from(out), Array.from(runFloat(g, [x]).outputs[0]));
});

test("clear errors: unsupported op on the gradient path, broadcasting ADD, bad schemes, bad labels", () => {
  const b = new Builder(rng(55));
  const x = b.tensor([1, 4, 4, 1]);
  const pre = b.op("MUL", [x, b.random([1, 4, 4, 1], 1)], [1, 4, 4, 1], { activation: "NONE" }); // before every trained layer: fine
  const c = b.conv(pre, 2, [3, 3], [1, 4, 4, 2], { padding: "SAME", activation: "RELU" });
  const mid = b.op("MUL", [c, b.random([1, 4, 4, 2], 1)], [1, 4, 4, 2], { activation: "NONE" });
  const r = b.op("RESHAPE", [mid, b.ints([1, 32])], [1, 32]);
  const g = b.graph(x, b.op("SOFTMAX", [b.fc(r, 3)], [1, 3], { beta: 1 }));
  const t = createFloatTrainer(g, { kind: "last", k: 1 }, { lr: 0.1 });
  t.step(inputOf(g, 1), 2);
  assert.throws(() => createFloatTrainer(g, { kind: "full" }, { lr: 0.1 }), (e: Error) => e instanceof FloatTrainError && /op 2 \(MUL\).*no backward/.test(e.message));
  assert.throws(() => t.step(inputOf(g, 1), 3), /label 3 is out of range.*3 classes/);

  const b2 = new Builder(rng(56));
  const x2 = b2.tensor([1, 2, 2, 2]);
  const c2 = b2.conv(x2, 2, [1, 1], [1, 2, 2, 2], { padding: "SAME" });
  const add = b2.op("ADD", [c2, b2.random([2], 1)], [1, 2, 2, 2], { activation: "NONE" });
  const g2 = b2.graph(x2, b2.fc(b2.op("RESHAPE", [add, b2.ints([1, 8])], [1, 8]), 2));
  assert.throws(() => createFloatTrainer(g2, { kind: "full" }, { lr: 0.1 }), /ADD\) broadcasts \[1,2,2,2\] \+ \[2\].*equal shapes only/);
  createFloatTrainer(g2, { kind: "last", k: 1 }, { lr: 0.1 }); // the ADD is before the trained layer

  const ga = graphA();
  assert.throws(() => parseFloatScheme("last:0"), /unknown scheme/);
  assert.throws(() => parseFloatScheme("top"), /use bias, last:K/);
  assert.throws(() => createFloatTrainer(ga, { kind: "last", k: 4 }, { lr: 0.1 }), /only 3 weighted layers/);
  assert.throws(() => createFloatTrainer(ga, { kind: "sparse", biasFrom: 0, weights: [{ layer: 3, ratio: 0.5 }] }, { lr: 0.1 }), /layer 3 does not exist/);
  assert.throws(() => createFloatTrainer(ga, { kind: "sparse", biasFrom: 0, weights: [{ layer: 0, ratio: 0 }] }, { lr: 0.1 }), /ratio 0 is not in/);
  assert.throws(() => createFloatTrainer(ga, { kind: "full" }, { lr: 0 }), /learning rate/);
  const wild = createFloatTrainer(ga, { kind: "full" }, { lr: 1e30 });
  assert.throws(() => { for (let k = 0; k < 50; k++) wild.step(inputOf(ga, k), k % 4); },
    (e: Error) => e instanceof FloatTrainDivergedError && /training diverged; lower the learning rate/.test(e.message));
});

const resnet = modelPath("pretrainedResnet_float");
test("pretrainedResnet_float: last:1 gradients match finite differences; every scheme steps", { skip: !existsSync(resnet) && "shared models not found" }, () => {
  const g = importTflite(readFileSync(resnet));
  assert.deepEqual(weightedLayers(g).map((l) => l.op.type).join(","), "CONV_2D,".repeat(9) + "FULLY_CONNECTED");
  const r = rng(9);
  const x = Float32Array.from({ length: 32 * 32 * 3 }, () => 127.5 + 127 * r());
  checkGradients(g, { kind: "last", k: 1 }, x, 4, 8);
  // Raw 0..255 pixels make the first layer's gradients ~1e4 times its weights: full needs a small step.
  for (const [s, lr] of [["bias", 1e-5], ["last:3", 1e-5], ["full", 1e-6]] as const) {
    const t = createFloatTrainer(g, parseFloatScheme(s), { lr });
    const l0 = t.loss(x, 4).loss;
    t.step(x, 4);
    assert.ok(t.loss(x, 4).loss < l0, s);
  }
});
