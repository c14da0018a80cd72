// One fine-tuning run: compile the model for the scheme, stream labeled samples to the
// target (host engine or board), evaluate on the held-out test split with the trained
// parameters, and hand back the trained state (for --out) and the figures (--json).
import { basename } from "node:path";
import { importTflite } from "../import/tflite.ts";
import type { Graph } from "../graph/graph.ts";
import { readTlm } from "../format/tlm.ts";
import { realValues, topClass } from "../stream/tensor.ts";
import { compileTraining, type TrainingMeta, type TrainPrecision } from "./compile-training.ts";
import { exportTrainedTflite } from "./export-tflite.ts";
import { describeScheme, type Scheme } from "./scheme.ts";
import { epochOrder, firstIndices, fitToInput, sampleAt, type Dataset, type Split } from "./dataset.ts";
import { TrainingResumed, type TrainTarget } from "./targets.ts";
import { scheduledLr, type LrSchedule } from "./schedule.ts";

export interface TrainRunOptions {
  scheme: Scheme;
  epochs: number;
  /** Base learning rate; the schedule scales it step by step (default constant). */
  lr: number;
  schedule?: LrSchedule;
  momentum: number;
  /** Learning-rate factor of the classifier (default 1). */
  headLr?: number;
  /** How errors and saved activations are stored (default int8). */
  precision?: TrainPrecision;
  seed: number;
  /** Training sample indices (into the train split) in epoch-0 order. */
  trainIndices: Uint32Array;
  /** Test-split samples evaluated (default all). */
  testLimit?: number;
  /** Evaluate on these samples instead of the test split (the sparse search's held-out slice). */
  evaluate?: { split: Split; indices: Uint32Array };
  /** Save a checkpoint every this many steps (boards; 0 = never). */
  checkpointEvery: number;
  onStep?: (p: StepProgress) => void;
  onEval?: (done: number, total: number) => void;
}

export interface StepProgress { step: number; total: number; epoch: number; loss: number; runningLoss: number; runningAccuracy: number; resumedFrom?: number }

export interface TrainRunResult {
  scheme: string;
  board: string;
  /** Held-out (test split) accuracy after training, 0..1. */
  accuracy: number;
  /** Mean cross-entropy on the same samples: a smoother figure than accuracy to compare runs by. */
  evalLoss: number;
  testSamples: number;
  /** Training steps taken (samples x epochs). */
  samples: number;
  /** Base learning rate and its schedule over the steps. */
  lr: number;
  schedule: LrSchedule;
  epochs: number;
  /** Mean loss and accuracy over the last epoch's steps. */
  trainLoss: number;
  trainAccuracy: number;
  /** Planned training-step arena (persistent state included) and what the engine measured. */
  trainPeakBytes: number;
  measuredPeakBytes: number;
  stateBytes: number;
  seconds: number;
  training: TrainingMeta;
  /** The fine-tuned model (the source .tflite with the trained parameters). */
  tflite: Uint8Array;
}

export async function trainModel(modelBytes: Uint8Array, modelFile: string, ds: Dataset, target: (blob: Uint8Array) => TrainTarget, o: TrainRunOptions): Promise<TrainRunResult> {
  const t0 = performance.now();
  const graph = importTflite(modelBytes, modelFile);
  const compiled = compileTraining(graph, basename(modelFile), modelBytes, o.scheme, { momentum: o.momentum > 0, headLr: o.headLr, precision: o.precision });
  const meta = readTlm(compiled.blob);
  const input = meta.tensors.find((t) => t.index === meta.inputs[0])!;
  const output = meta.tensors.find((t) => t.index === meta.outputs[0])!;
  const fit = (split: Split, i: number) => {
    const s = sampleAt(ds, split, i);
    return { input: fitToInput(s, input), label: s.label };
  };

  const run = target(compiled.blob);
  try {
    const n = o.trainIndices.length, total = n * o.epochs;
    const rateAt = (step: number) => scheduledLr(o.lr, o.schedule ?? { kind: "constant" }, step, total);
    let rate = rateAt(0); // the rate the target has now
    await run.start(rate, o.momentum);
    let lossSum = 0, correct = 0, seen = 0, resumedFrom: number | undefined;
    let order = o.trainIndices, orderEpoch = 0; // this epoch's sample order, shuffled once per epoch
    for (let step = 0; step < total;) {
      const epoch = Math.floor(step / n);
      if (step % n === 0) { lossSum = 0; correct = 0; seen = 0; }
      if (epoch !== orderEpoch) { order = epochOrder(o.trainIndices, o.seed, epoch); orderEpoch = epoch; }
      const { input: x, label } = fit(ds.train, order[step % n]);
      if (rateAt(step) !== rate) { rate = rateAt(step); await run.configure(rate, o.momentum); }
      let r: { loss: number; output: Uint8Array };
      try {
        r = await run.step(x, label);
      } catch (e) {
        if (!(e instanceof TrainingResumed)) throw e;
        // The board reset: continue right after its last checkpoint.
        resumedFrom = step = e.step;
        rate = NaN; // the resumed step gets its scheduled rate, whatever the board restarted with
        continue;
      }
      step++;
      lossSum += r.loss; seen++;
      if (topClass(r.output, output).index === label) correct++;
      if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0) await run.checkpoint(step);
      o.onStep?.({ step, total, epoch, loss: r.loss, runningLoss: lossSum / seen, runningAccuracy: correct / seen, resumedFrom });
      resumedFrom = undefined;
    }
    const evalSplit = o.evaluate?.split ?? ds.test;
    const testIdx = o.evaluate?.indices ?? firstIndices(ds.test.count, o.testLimit);
    let right = 0, evalLossSum = 0;
    const probabilities = endsInSoftmax(graph);
    for (let k = 0; k < testIdx.length; k++) {
      const { input: x, label } = fit(evalSplit, testIdx[k]);
      const y = await run.infer(x);
      if (topClass(y, output).index === label) right++;
      evalLossSum += crossEntropy(realValues(y, output), label, probabilities, output.scale[0] ?? 0);
      o.onEval?.(k + 1, testIdx.length);
    }
    const state = await run.state();
    return {
      scheme: describeScheme(o.scheme), board: run.name,
      accuracy: testIdx.length ? right / testIdx.length : 0, evalLoss: testIdx.length ? evalLossSum / testIdx.length : 0, testSamples: testIdx.length,
      samples: total, lr: o.lr, schedule: o.schedule ?? { kind: "constant" }, epochs: o.epochs, trainLoss: seen ? lossSum / seen : 0, trainAccuracy: seen ? correct / seen : 0,
      trainPeakBytes: compiled.training.arenaBytes, measuredPeakBytes: await run.peakBytes(), stateBytes: compiled.training.stateBytes,
      seconds: (performance.now() - t0) / 1000, training: compiled.training,
      tflite: exportTrainedTflite(modelBytes, graph, compiled.training, state),
    };
  } finally {
    await run.close();
  }
}

function endsInSoftmax(g: Graph): boolean {
  const last = g.ops[g.ops.length - 1];
  return last?.type === "SOFTMAX" && last.outputs[0] === g.outputs[0];
}

/**
 * -ln p(label): `values` are probabilities (a SOFTMAX output) or scores turned into them. A
 * quantized probability of 0 only says p < half a step, so it counts as half a step.
 */
export function crossEntropy(values: number[], label: number, probabilities: boolean, step: number): number {
  if (probabilities) return -Math.log(Math.max(values[label], step > 0 ? step / 2 : 1e-7));
  const max = Math.max(...values);
  const sum = values.reduce((a, v) => a + Math.exp(v - max), 0);
  return Math.log(sum) - (values[label] - max);
}
