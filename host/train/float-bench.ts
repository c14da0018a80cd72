// Float32 reference figures for the training benchmark: fine-tunes a float model (default pretrainedResnet_float)
// on a data set (default Fashion-MNIST, 28x28 gray padded to 32x32x3) with each scheme, one epoch, and prints test
// accuracy and seconds. Run: node --import tsx host/train/float-bench.ts [--samples 2000] [--test 1000]
//   [--schemes bias:LR,last:1:LR,full:LR:norm] [--momentum 0.9] [--seed 1] [--model PATH] [--data SPEC]
// A scheme ending in ":norm" trains the first layer's weights as if the model took 0..1 pixels (lrScale 1/255^2
// on them; see FloatTrainOptions.lrScale).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { importTflite } from "../import/tflite.ts";
import type { Graph } from "../graph/graph.ts";
import { modelPath } from "../util/shared-models.ts";
import { loadDataset, sampleAt, fitToFloatInput, planTrain, firstIndices, type Dataset } from "./dataset.ts";
import { scheduledLr, type LrSchedule } from "./schedule.ts";
import { createFloatTrainer, evaluate, parseFloatScheme, weightedLayers, FloatTrainDivergedError, type FloatScheme } from "./float-train.ts";

export interface FloatBenchRow { scheme: string; lr: number; norm: boolean; momentum: number; trainSamples: number; testSamples: number; accuracy: number; seconds: number; meanLoss: number }

export interface FloatBenchOptions {
  samples: number; test: number; seed: number; momentum: number;
  /** Learning-rate factor of the classifier, the last weighted layer (as `train --head-lr`). */
  headLr?: number;
  /** The rate's schedule over the run (as `train --lr-schedule`; default constant). */
  schedule?: LrSchedule;
}

/** Test inputs (float, fitted to the model) of the first `n` test samples. */
export function testSet(ds: Dataset, shape: number[], n: number): { input: Float32Array; label: number }[] {
  return Array.from(firstIndices(ds.test.count, n), (i) => {
    const s = sampleAt(ds, ds.test, i);
    return { input: fitToFloatInput(s, shape), label: s.label };
  });
}

/** Trains one scheme from the pretrained weights for one epoch over `samples` training samples; evaluates on the test set. */
export function benchScheme(g: Graph, ds: Dataset, name: string, scheme: FloatScheme, lr: number, norm: boolean, opts: FloatBenchOptions,
  test: { input: Float32Array; label: number }[]): FloatBenchRow {
  const shape = g.tensors[g.inputs[0]].shape;
  const t0 = performance.now();
  const head = weightedLayers(g).length - 1;
  const lrScale = (p: { layer: number; kind: string }) =>
    (norm && p.layer === 0 && p.kind === "weights" ? 1 / 255 ** 2 : 1) * (p.layer === head ? opts.headLr ?? 1 : 1);
  const trainer = createFloatTrainer(g, scheme, { lr, momentum: opts.momentum, lrScale });
  const plan = planTrain(ds.train.count, { seed: opts.seed, limit: opts.samples });
  let lossSum = 0;
  for (const [step, i] of plan.train.entries()) {
    if (opts.schedule) trainer.setLr(scheduledLr(lr, opts.schedule, step, plan.train.length));
    const s = sampleAt(ds, ds.train, i);
    lossSum += trainer.step(fitToFloatInput(s, shape), s.label).loss;
  }
  const accuracy = evaluate(trainer, test);
  return { scheme: name, lr, norm, momentum: opts.momentum, trainSamples: plan.train.length, testSamples: test.length, accuracy,
    seconds: (performance.now() - t0) / 1000, meanLoss: lossSum / plan.train.length };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, dflt: string) => {
    const k = argv.indexOf(`--${name}`);
    return k >= 0 ? argv[k + 1] : dflt;
  };
  const opts: FloatBenchOptions = { samples: Number(arg("samples", "2000")), test: Number(arg("test", "1000")), seed: Number(arg("seed", "1")), momentum: Number(arg("momentum", "0")) };
  const g = importTflite(readFileSync(arg("model", modelPath("pretrainedResnet_float"))));
  const ds = await loadDataset(arg("data", "fashion-mnist"));
  const test = testSet(ds, g.tensors[g.inputs[0]].shape, opts.test);
  const t0 = performance.now();
  const base = evaluate(createFloatTrainer(g, { kind: "bias" }, { lr: 1 }), test);
  console.log(`untrained: ${(base * 100).toFixed(1)}% on ${test.length} test samples (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  console.log("scheme\tlr\tmomentum\ttrain\ttest\taccuracy\tseconds\tmean loss");
  for (const spec of arg("schemes", "bias:0.001,last:1:0.001,last:3:0.0001,full:0.0001").split(",")) {
    const norm = spec.endsWith(":norm");
    const body = norm ? spec.slice(0, -5) : spec;
    const cut = body.lastIndexOf(":");
    const name = body.slice(0, cut), lr = Number(body.slice(cut + 1));
    let r: FloatBenchRow;
    try {
      r = benchScheme(g, ds, name, parseFloatScheme(name), lr, norm, opts, test);
    } catch (e) {
      if (!(e instanceof FloatTrainDivergedError)) throw e;
      console.log(`${name}${norm ? " (norm)" : ""}\t${lr}\t${opts.momentum}\tdiverged`);
      continue;
    }
    console.log(`${r.scheme}${norm ? " (norm)" : ""}\t${r.lr}\t${r.momentum}\t${r.trainSamples}\t${r.testSamples}\t${(r.accuracy * 100).toFixed(1)}%\t${r.seconds.toFixed(1)}\t${r.meanLoss.toFixed(3)}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main(process.argv.slice(2));
