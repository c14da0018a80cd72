// On-device training on the host: the int8 engine's gradients against the float32 reference
// trainer, loss going down, planned against measured training memory, the fine-tuned .tflite,
// the scheme search and the train CLI's errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { modelPath, REPO, INT8_MODELS } from "./shared.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { compileGraph, compileTflite } from "../../host/compile.ts";
import { compileTraining, UnsupportedError, type TrainPrecision } from "../../host/train/compile-training.ts";
import { exportTrainedTflite } from "../../host/train/export-tflite.ts";
import { weightsAt } from "../../host/train/overlay-layout.ts";
import { parseScheme, layerUpdates, describeScheme, SchemeError, type Scheme } from "../../host/train/scheme.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { createFloatTrainer } from "../../host/train/float-train.ts";
import { loadDataset, sampleAt, fitToInput, fitToFloatInput, FASHION_MNIST_DIR, type Dataset } from "../../host/train/dataset.ts";
import { searchSparseScheme } from "../../host/train/search.ts";
import { trainModel } from "../../host/train/run-training.ts";
import { BoardTarget, HostTarget } from "../../host/train/targets.ts";
import { scheduledLr, SEGMENTS, type LrSchedule } from "../../host/train/schedule.ts";
import { buildSynthetic } from "./synthetic-models.ts";

const QUANT = modelPath("pretrainedResnet_quant"), FLOAT = modelPath("pretrainedResnet_float");
const qBytes = new Uint8Array(readFileSync(QUANT)), fBytes = new Uint8Array(readFileSync(FLOAT));
const qGraph = importTflite(qBytes, QUANT), fGraph = importTflite(fBytes, FLOAT);

let dataset: Dataset | undefined;
async function fashion(): Promise<Dataset> {
  assert.ok(existsSync(FASHION_MNIST_DIR), `Fashion-MNIST is missing (${FASHION_MNIST_DIR}); npm test installs it with scripts/system-deps.sh`);
  dataset ??= await loadDataset("fashion-mnist", { classes: 10 });
  return dataset;
}

const f32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getFloat32(at, true);
const cosine = (a: number[], b: ArrayLike<number>) => {
  let d = 0, na = 0, nb = 0;
  a.forEach((v, i) => { d += v * b[i]; na += v * v; nb += b[i] * b[i]; });
  return d / Math.sqrt(na * nb);
};

test("int8 and hybrid fp8 engine gradients point where the float32 reference's do, layer by layer (bias and weights)", async () => {
  const ds = await fashion();
  const s = sampleAt(ds, ds.train, 5);
  const x = fitToInput(s, qGraph.tensors[qGraph.inputs[0]]);
  const grads = createFloatTrainer(fGraph, { kind: "full" }, { lr: 0.01 }).gradients(fitToFloatInput(s, fGraph.tensors[fGraph.inputs[0]].shape), s.label).grads;
  // Large enough that weight steps show above the residual's 1/256 resolution, small enough to stay linear.
  const lr = 0.001;
  /** One step of `scheme` at `lr`; checks each trained layer's gradients against the float32 ones. */
  const check = (scheme: Scheme, lr: number, weightsOnly: boolean, precision: TrainPrecision = "int8") => {
    const c = compileTraining(qGraph, "ic", qBytes, scheme, { precision });
    const e = NodeEngine.load(c.blob);
    e.trainInit();
    e.trainConfig(lr);
    const before = e.trainState();
    e.trainStep(x, s.label);
    const after = e.trainState();
    for (const l of c.training.layers) {
      const op = qGraph.ops[l.source], fop = fGraph.ops[l.source];
      const sx = qGraph.tensors[op.inputs[0]].scale[0], sw = qGraph.tensors[op.inputs[1]].scale;
      const scaleOf = (oc: number) => (sw.length > 1 ? sw[oc] : sw[0]);
      if (!weightsOnly) {
        // The master moved by -lr * g / s (QAS), so the engine's real-valued gradient is -delta * s / lr.
        const bias = Array.from({ length: l.outC }, (_, oc) => {
          const at = l.master + Math.ceil(l.trainChannels * l.perChannel / 4) * 4 + 4 * oc;
          return -(f32(after, at) - f32(before, at)) * sx * scaleOf(oc) / lr;
        });
        assert.ok(cosine(bias, grads.get(fop.inputs[2])!) > 0.95, `${precision} layer ${l.layer} bias gradient: ${cosine(bias, grads.get(fop.inputs[2])!)}`);
      }
      // The first layer reads raw 0..255 pixels: its weight step is lr / 255^2 (compile-training.ts inputLrScale).
      const weightLr = l.layer === 0 ? lr / 255 ** 2 : lr;
      if (weightLr < 1e-4) continue; // below the residual's resolution: checked in a run of its own
      // Weights: the trained value is overlay weight + residual / 256 (see spec.ts "Training").
      const value = (st: Uint8Array, oc: number, k: number) =>
        ((st[weightsAt(l, oc) + k] << 24) >> 24) + ((st[l.master + oc * l.perChannel + k] << 24) >> 24) / 256;
      const w = Array.from({ length: l.outC * l.perChannel }, (_, k) => {
        const oc = Math.floor(k / l.perChannel);
        return -(value(after, oc, k % l.perChannel) - value(before, oc, k % l.perChannel)) * scaleOf(oc) / (sx * weightLr);
      });
      // Float conv filters are [outC][kH][kW][inC] like the engine's; the FC is [outC][inC].
      // The int8 and float32 models differ most in the first layer, whose real inputs are raw 0..255 pixels
      // (measured: cosine 0.67 there, 0.95-0.998 everywhere else); its bias gradients still agree to 0.96.
      assert.ok(cosine(w, grads.get(fop.inputs[1])!) > (l.layer === 0 ? 0.6 : 0.9), `${precision} layer ${l.layer} weight gradient: ${cosine(w, grads.get(fop.inputs[1])!)}`);
    }
  };
  check({ kind: "full" }, lr, false);
  check({ kind: "sparse", biasFrom: 10, weights: [{ layer: 0, ratio: 1 }] }, lr * 255 ** 2, true);
  check({ kind: "full" }, lr, false, "fp8");
  check({ kind: "sparse", biasFrom: 10, weights: [{ layer: 0, ratio: 1 }] }, lr * 255 ** 2, true, "fp8");
});

/** One training step of a compiled program at `lr`: each trained layer's parameter changes (classifier first). */
function stepDeltas(c: ReturnType<typeof compileTraining>, x: Uint8Array, label: number, lr: number) {
  const e = NodeEngine.load(c.blob);
  e.trainInit();
  e.trainConfig(lr);
  const before = e.trainState();
  e.trainStep(x, label);
  const after = e.trainState();
  return c.training.layers.map((l) => {
    // weights: int8 overlay value + residual / 256; biases: f32 masters (see spec.ts "Training")
    const value = (st: Uint8Array, k: number) => {
      const oc = Math.floor(k / l.perChannel);
      return ((st[weightsAt(l, oc) + k % l.perChannel] << 24) >> 24) + ((st[l.master + k] << 24) >> 24) / 256;
    };
    const w = Array.from({ length: l.trainChannels * l.perChannel }, (_, k) => value(after, k) - value(before, k));
    const b = Array.from({ length: l.trainBias ? l.outC : 0 }, (_, oc) => {
      const at = l.master + Math.ceil(l.trainChannels * l.perChannel / 4) * 4 + 4 * oc;
      return f32(after, at) - f32(before, at);
    });
    return { layer: l.layer, w, b };
  });
}

test("--head-lr scales the classifier's steps and nothing else", async () => {
  const ds = await fashion();
  const s = sampleAt(ds, ds.train, 2);
  const x = fitToInput(s, qGraph.tensors[qGraph.inputs[0]]);
  // bias steps of the classifier and of the layer before it
  const deltas = (headLr: number) => stepDeltas(compileTraining(qGraph, "ic", qBytes, { kind: "last", k: 2 }, { headLr }), x, s.label, 0.01).map((l) => l.b);
  const one = deltas(1), three = deltas(3);
  // layers are listed classifier first (backward order)
  one[0].forEach((d, i) => assert.ok(Math.abs(three[0][i] - 3 * d) <= 0.01 * Math.abs(3 * d) + 1e-3, `classifier bias ${i}: ${d} vs ${three[0][i]}`));
  assert.ok(one[0].some((d) => Math.abs(d) > 0.5), "the classifier's biases moved");
  assert.deepEqual(three[1], one[1]);
});

test("the loss goes down on a fixed seed (last layer, 120 steps)", async () => {
  const ds = await fashion();
  const c = compileTraining(qGraph, "ic", qBytes, { kind: "last", k: 1 });
  const e = NodeEngine.load(c.blob);
  e.trainInit();
  e.trainConfig(0.05);
  const losses: number[] = [];
  for (let i = 0; i < 120; i++) {
    const s = sampleAt(ds, ds.train, i % 40);
    losses.push(e.trainStep(fitToInput(s, qGraph.tensors[qGraph.inputs[0]]), s.label).loss);
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(losses.slice(80)) < 0.7 * mean(losses.slice(0, 40)), `loss ${mean(losses.slice(0, 40))} -> ${mean(losses.slice(80))}`);
});

/** Two steps of a compiled program: the engine's high-water mark is the plan (within a word's alignment). */
function expectTightPlan(c: ReturnType<typeof compileTraining>, x: Uint8Array, name: string) {
  const e = NodeEngine.load(c.blob);
  e.trainInit();
  e.trainStep(x, 1);
  e.trainStep(x, 2);
  assert.ok(e.peakBytes <= c.training.arenaBytes, `${name}: measured ${e.peakBytes} > planned ${c.training.arenaBytes}`);
  assert.ok(e.peakBytes >= c.training.arenaBytes - 8, `${name}: plan ${c.training.arenaBytes} is loose (measured ${e.peakBytes})`);
}

test("planned training memory bounds the measured high-water mark, tightly, for every scheme", async () => {
  const ds = await fashion();
  const x = fitToInput(sampleAt(ds, ds.train, 0), qGraph.tensors[qGraph.inputs[0]]);
  const peaks: Record<string, number> = {};
  const schemes: Scheme[] = [{ kind: "bias" }, { kind: "last", k: 1 }, { kind: "last", k: 2 }, { kind: "full" },
    { kind: "sparse", biasFrom: 7, weights: [{ layer: 8, ratio: 0.5 }, { layer: 9, ratio: 1 }] }];
  for (const scheme of schemes) {
    const c = compileTraining(qGraph, "ic", qBytes, scheme);
    expectTightPlan(c, x, scheme.kind);
    peaks[JSON.stringify(scheme)] = c.training.arenaBytes;
  }
  const sparse = peaks[JSON.stringify(schemes[4])], full = peaks[JSON.stringify(schemes[3])];
  assert.ok(sparse * 5 <= full, `sparse ${sparse} B is not 5x below full ${full} B`);
});

test("the fine-tuned .tflite: untouched bytes without training; after training it runs exactly like the trained engine", async () => {
  const ds = await fashion();
  const input = qGraph.tensors[qGraph.inputs[0]];
  for (const scheme of [{ kind: "full" }, { kind: "bias" }, { kind: "sparse", biasFrom: 3, weights: [{ layer: 4, ratio: 0.25 }] }] as Scheme[]) {
    const c = compileTraining(qGraph, "ic", qBytes, scheme);
    const e = NodeEngine.load(c.blob);
    e.trainInit();
    assert.deepEqual(exportTrainedTflite(qBytes, qGraph, c.training, e.trainState()), qBytes, `${scheme.kind}: export before training`);
    e.trainConfig(0.02);
    for (let i = 0; i < 8; i++) { const s = sampleAt(ds, ds.train, i); e.trainStep(fitToInput(s, input), s.label); }
    const tuned = exportTrainedTflite(qBytes, qGraph, c.training, e.trainState());
    assert.notDeepEqual(tuned, qBytes, `${scheme.kind}: training changed nothing`);
    const plain = NodeEngine.load(compileGraph(importTflite(tuned, "tuned"), "tuned", tuned).blob);
    for (let i = 0; i < 5; i++) {
      const x = fitToInput(sampleAt(ds, ds.test, i), input);
      e.setInput(x); e.invoke();
      plain.setInput(x); plain.invoke();
      assert.deepEqual(plain.output(), e.output(), `${scheme.kind}: test sample ${i}`);
    }
  }
});

test("schemes: parsing, layer updates and clear errors", () => {
  assert.deepEqual(parseScheme("last:2"), { kind: "last", k: 2 });
  assert.deepEqual(parseScheme("sparse:64k"), { kind: "sparse-search", budgetBytes: 65536 });
  assert.throws(() => parseScheme("last:0"), SchemeError);
  assert.throws(() => parseScheme("everything"), /not a scheme/);
  assert.deepEqual(layerUpdates({ kind: "sparse", biasFrom: 1, weights: [{ layer: 2, ratio: 0.3 }] }, [8, 8, 10]),
    [{ trainChannels: 0, trainBias: false }, { trainChannels: 0, trainBias: true }, { trainChannels: 3, trainBias: true }]);
  assert.throws(() => layerUpdates({ kind: "last", k: 4 }, [8, 8, 10]), /more layers/);
  assert.throws(() => compileTraining(qGraph, "ic", qBytes, { kind: "sparse", biasFrom: 10, weights: [{ layer: 12, ratio: 1 }] }), /layers 0\.\.9/);
});

test("an op the backward pass cannot go through is named, with what to do", () => {
  // A synthetic model with MUL between its layers: training the layer before it must fail clearly.
  const { bytes } = buildSynthetic({
    name: "mul_between_layers", about: "CONV_2D, x*x, FULLY_CONNECTED, SOFTMAX", seed: 7,
    input: { shape: [1, 4, 4, 2], dtype: "int8", quant: { scale: 0.05, zp: 0 } },
    layers: [
      { op: "CONV_2D", name: "c", in: "input", outC: 3, k: [1, 1], padding: "VALID" },
      { op: "MUL", name: "m", in: ["c", "c"] },
      { op: "RESHAPE", shape: [1, 48] },
      { op: "FULLY_CONNECTED", outC: 4, perChannel: true },
      { op: "SOFTMAX", beta: 1 },
    ],
  });
  const g = importTflite(bytes, "mul.tflite");
  assert.throws(() => compileTraining(g, "mul.tflite", bytes, { kind: "full" }), (e: Error) => e instanceof UnsupportedError && /MUL/.test(e.message) && /last:K/.test(e.message));
});

test("sparse search: the chosen scheme fits the budget and reports each candidate's contribution", async () => {
  const ds = await fashion();
  const budget = 60_000;
  const r = await searchSparseScheme(qBytes, QUANT, ds, {
    budgetBytes: budget, train: Uint32Array.from({ length: 30 }, (_, i) => i), heldOut: Uint32Array.from({ length: 20 }, (_, i) => 1000 + i),
    lr: 0.02, seed: 1, depth: 2, ratios: [0.5],
  });
  assert.ok(r.trainPeakBytes <= budget);
  assert.equal(r.scheme.kind, "sparse");
  assert.ok(r.contributions.length >= 1);
  for (const c of [...r.contributions, ...r.combinations]) assert.ok(c.trainPeakBytes <= budget && c.accuracy >= 0 && c.accuracy <= 1 && c.loss > 0);
  // The winner is the measured best of the combinations tried, when there were several.
  if (r.combinations.length > 1) assert.equal(describeScheme(r.scheme), r.combinations.reduce((a, b) => (b.loss < a.loss ? b : a)).scheme);
});

test("lr schedules: constant, cosine decaying to ~0 in at most SEGMENTS rates, linear warmup over whole segments", () => {
  const total = 5000, lr = 0.002, segment = total / SEGMENTS;
  const rates = (s: LrSchedule, n = total) => Array.from({ length: n }, (_, i) => scheduledLr(lr, s, i, n));
  assert.ok(rates({ kind: "constant" }).every((r) => r === lr));
  const cos = rates({ kind: "cosine" });
  assert.equal(cos[0], lr);
  assert.ok(cos.every((r, i) => i === 0 || (r <= cos[i - 1] && r > 0)), "cosine never rises and stays positive");
  assert.ok(cos[total - 1] < 0.001 * lr, `last rate ${cos[total - 1]}`);
  assert.ok(Math.abs(cos[total / 2] - lr / 2) < 0.02 * lr, `half-way rate ${cos[total / 2]}`);
  assert.ok(cos.every((r, i) => i % segment === 0 || r === cos[i - 1]), "the rate changes only at a segment's start");
  assert.equal(new Set(cos).size, SEGMENTS);
  // 5% warmup = 250 steps = 5 segments rising linearly, then cosine from lr.
  const warm = rates({ kind: "cosine", warmup: 0.05 });
  [0, 50, 100, 150, 200, 250].forEach((i, k) => assert.ok(Math.abs(warm[i] - lr * (k + 1) / 6) < 1e-12, `warmup step ${i}: ${warm[i]}`));
  assert.ok(warm.every((r) => r <= lr));
  // A short run: one step per segment, so every step gets its own rate.
  assert.deepEqual(rates({ kind: "constant", warmup: 0.25 }, 12).slice(0, 5), [lr / 4, lr / 2, 3 * lr / 4, lr, lr]);
});

test("a scheduled run: the target gets each step's scheduled rate, and only when it changes", async () => {
  const ds = await fashion();
  const schedule: LrSchedule = { kind: "cosine", warmup: 0.1 };
  const total = 250, lr = 0.02, seen: number[] = [];
  let configs = 0, current = NaN;
  await trainModel(qBytes, QUANT, ds, (b) => {
    const t = new HostTarget(b);
    const [start, configure, step] = [t.start.bind(t), t.configure.bind(t), t.step.bind(t)];
    t.start = async (r, m) => { current = r; return start(r, m); };
    t.configure = async (r, m) => { current = r; configs++; return configure(r, m); };
    t.step = async (x, label) => { seen.push(current); return step(x, label); };
    return t;
  }, { scheme: { kind: "last", k: 1 }, epochs: 1, lr, schedule, momentum: 0, seed: 1, trainIndices: Uint32Array.from({ length: total }, (_, i) => i), testLimit: 1, checkpointEvery: 0 });
  assert.deepEqual(seen, Array.from({ length: total }, (_, i) => scheduledLr(lr, schedule, i, total)));
  assert.equal(configs, new Set(seen).size - 1);
});

const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(REPO, "host/cli/main.ts"), ...args], { encoding: "utf8", cwd: REPO });

test("tinyloop train --board host --json: accuracy, samples, planned and measured memory; --out writes a model run accepts", async () => {
  await fashion();
  const dir = mkdtempSync(join(tmpdir(), "tl-train-"));
  const out = join(dir, "tuned.tflite");
  const r = cli("train", QUANT, "--board", "host", "--data", "fashion-mnist", "--scheme", "last:1", "--limit", "40", "--test-limit", "20", "--lr", "0.05", "--json", "--out", out);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.samples, 40);
  assert.equal(j.testSamples, 20);
  assert.deepEqual([j.lr, j.lrSchedule, j.warmup], [0.05, "cosine", 0.05], "the default schedule");
  assert.ok(j.accuracy >= 0 && j.accuracy <= 1);
  assert.ok(j.trainPeakBytes > 0 && j.hostPeakBytes <= j.trainPeakBytes);
  assert.ok(existsSync(out));
  const inspect = cli("inspect", out);
  assert.equal(inspect.status, 0, inspect.stderr);
});

test("tinyloop train: bad flags and data are usage errors (exit 2) that say what to pass", () => {
  for (const [args, msg] of [
    [["--scheme", "most"], /not a scheme/],
    [["--epochs", "0"], /--epochs/],
    [["--lr", "-1"], /--lr/],
    [["--lr-schedule", "linear"], /--lr-schedule must be one of constant, cosine, not "linear"/],
    [["--warmup", "1.5"], /--warmup must be a number in \[0, 1\)/],
    [["--data", "/nonexistent/data"], /not found/],
    [["--scheme", "sparse:1000"], /sparse scheme within 1000 B is impossible/],
  ] as [string[], RegExp][]) {
    const r = cli("train", QUANT, "--board", "host", "--data", "fashion-mnist", ...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  const r = cli("train", modelPath("vww_96_int8"), "--board", "host", "--data", "fashion-mnist", "--scheme", "bias");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /label 9 is out of range: the model has 2 classes/);
});

test("training on qemu-m4 gives the host's fine-tuned model byte for byte, with a warmup and cosine schedule, and survives a board reset mid-run", { timeout: 900_000 }, async () => {
  const ds = await fashion();
  // 12 steps: every step has its own scheduled rate (3 warming up, then cosine).
  const opts = { scheme: { kind: "last", k: 2 } as Scheme, epochs: 1, lr: 0.05, schedule: { kind: "cosine", warmup: 0.25 } as LrSchedule, momentum: 0.5, seed: 3,
    trainIndices: Uint32Array.from({ length: 12 }, (_, i) => i), testLimit: 6, checkpointEvery: 3 };
  const host = await trainModel(qBytes, QUANT, ds, (b) => new HostTarget(b), opts);
  // The board forgets its model at the 8th step, when it had step 7's rate; training resumes from the
  // checkpoint after step 6, which must get step 6's rate again, and must end the same.
  let steps = 0, resumed: number | undefined;
  const board = await trainModel(qBytes, QUANT, ds, (b) => {
    const t = new BoardTarget("qemu-m4", b, {});
    const step = t.step.bind(t);
    t.step = async (x, label) => {
      if (++steps === 8) await t.board.rawCall("RESET", {}); // behind the session's back, as a watchdog or power glitch would
      return step(x, label);
    };
    return t;
  }, { ...opts, onStep: (p) => { if (p.resumedFrom !== undefined) resumed = p.resumedFrom; } });
  assert.equal(resumed, 6, "resumed after the checkpoint of step 6");
  assert.deepEqual(board.tflite, host.tflite);
  assert.equal(board.accuracy, host.accuracy);
  assert.ok(board.measuredPeakBytes <= board.trainPeakBytes);
});

test("hybrid fp8: one step's updates point where int8's do, layer by layer, and are not int8's", async () => {
  const ds = await fashion();
  const s = sampleAt(ds, ds.train, 5);
  const x = fitToInput(s, qGraph.tensors[qGraph.inputs[0]]);
  const deltas = (precision: TrainPrecision) => stepDeltas(compileTraining(qGraph, "ic", qBytes, { kind: "full" }, { precision }), x, s.label, 0.001);
  const int8 = deltas("int8"), fp8 = deltas("fp8");
  assert.equal(fp8.length, int8.length);
  fp8.forEach((l, i) => {
    // E5M2 keeps 2 mantissa bits, E4M3 3: each gradient element is off by up to ~12%, the direction hardly
    assert.ok(cosine(l.b, int8[i].b) > 0.97, `layer ${l.layer} bias: cosine ${cosine(l.b, int8[i].b)}`);
    if (l.layer > 0) assert.ok(cosine(l.w, int8[i].w) > 0.9, `layer ${l.layer} weights: cosine ${cosine(l.w, int8[i].w)}`);
  });
  assert.notDeepEqual(fp8.map((l) => l.b), int8.map((l) => l.b), "fp8 rounding changed nothing");
});

test("hybrid fp8: planned memory bounds the measured high-water mark, and is below int8's where the backward pass sets the peak", async () => {
  const ds = await fashion();
  const x = fitToInput(sampleAt(ds, ds.train, 0), qGraph.tensors[qGraph.inputs[0]]);
  for (const scheme of [{ kind: "bias" }, { kind: "last", k: 2 }, { kind: "full" },
    { kind: "sparse", biasFrom: 6, weights: [{ layer: 6, ratio: 0.5 }, { layer: 9, ratio: 1 }] }] as Scheme[]) {
    const c = compileTraining(qGraph, "ic", qBytes, scheme, { precision: "fp8" });
    const int8 = compileTraining(qGraph, "ic", qBytes, scheme).training;
    assert.equal(c.training.precision, "fp8");
    assert.equal(c.training.stateBytes, int8.stateBytes, `${scheme.kind}: the trained parameters' state is the same`);
    expectTightPlan(c, x, scheme.kind);
    assert.ok(c.training.arenaBytes <= int8.arenaBytes, `${scheme.kind}: fp8 ${c.training.arenaBytes} B > int8 ${int8.arenaBytes} B`);
    // Where the backward pass sets the peak (full, bias: errors reach the first layers) fp8 must be well below int8.
    if (scheme.kind === "full" || scheme.kind === "bias") assert.ok(c.training.arenaBytes < 0.85 * int8.arenaBytes, `${scheme.kind}: fp8 ${c.training.arenaBytes} B vs int8 ${int8.arenaBytes} B`);
  }
});

test("tinyloop train --precision fp8 on the host and on qemu-m4: the same fine-tuned model byte for byte; a wrong --precision is a usage error", { timeout: 900_000 }, async () => {
  await fashion();
  const dir = mkdtempSync(join(tmpdir(), "tl-train-fp8-"));
  const args = ["--data", "fashion-mnist", "--scheme", 'sparse:{"biasFrom":7,"weights":[{"layer":6,"ratio":0.25},{"layer":9,"ratio":1}]}',
    "--limit", "8", "--test-limit", "4", "--lr", "0.01", "--precision", "fp8", "--checkpoint-every", "4", "--json"];
  const host = cli("train", QUANT, "--board", "host", ...args, "--out", join(dir, "host.tflite"));
  assert.equal(host.status, 0, host.stderr);
  const board = cli("train", QUANT, "--board", "qemu-m4", ...args, "--out", join(dir, "board.tflite"));
  assert.equal(board.status, 0, board.stderr);
  const [h, b] = [JSON.parse(host.stdout), JSON.parse(board.stdout)];
  assert.equal(h.precision, "fp8");
  assert.equal(b.precision, "fp8");
  assert.deepEqual(readFileSync(join(dir, "board.tflite")), readFileSync(join(dir, "host.tflite")));
  assert.notDeepEqual(readFileSync(join(dir, "host.tflite")), qBytes, "training changed nothing");
  assert.equal(b.accuracy, h.accuracy);
  assert.equal(b.trainPeakBytes, h.trainPeakBytes);
  assert.ok(b.measuredPeakBytes <= b.trainPeakBytes);
  const wrong = cli("train", QUANT, "--board", "host", "--data", "fashion-mnist", "--scheme", "last:1", "--precision", "fp16");
  assert.equal(wrong.status, 2, wrong.stderr);
  assert.match(wrong.stderr, /--precision must be one of int8, fp8, not "fp16"/);
});

test("every shared model compiles for training, and its training .tlm infers exactly like the plain one", async () => {
  for (const name of INT8_MODELS) {
    const bytes = new Uint8Array(readFileSync(modelPath(name)));
    const c = compileTraining(importTflite(bytes, name), name, bytes, { kind: "last", k: 1 });
    const e = NodeEngine.load(c.blob), plain = NodeEngine.load(compileTflite(bytes, name).blob);
    const x = new Uint8Array(e.inputBytes()).map((_, i) => (i * 13 + 7) & 255);
    e.setInput(x); e.invoke();
    plain.setInput(x); plain.invoke();
    assert.deepEqual(e.output(), plain.output(), name);
    e.trainInit();
    e.trainStep(x, 0);
    assert.ok(e.peakBytes <= c.training.arenaBytes, `${name}: measured ${e.peakBytes} > planned ${c.training.arenaBytes}`);
  }
});
