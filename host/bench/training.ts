// The training benchmark (part of `npm run bench`): the MLPerf Tiny IC model (ResNet-8, CIFAR-10)
// fine-tuned to Fashion-MNIST's 10 classes with each update scheme — bias-only, last layer, sparse
// (found by the contribution-analysis search under a fifth of the full update's memory) and full —
// in int8 on the engine (host runner: the numerics are the board's, see test/host/board-train.test.ts),
// next to the same schemes in float32 on the host as the reference. Then the sparse scheme trains on
// qemu-m4 for a few steps to measure its SRAM on the device. Writes bench/training.json and the
// table in docs/training.md.
// Every run (rate trials, search candidates, final runs, float32 reference) uses the default schedule
// (cosine with warmup); each scheme's rate is the one with the lowest held-out loss after a trial.
// Sizes: TINYLOOP_TRAIN_SAMPLES (default 5000 training samples), TINYLOOP_TRAIN_TEST (1000 test samples).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../util/shared-models.ts";
import { importTflite } from "../import/tflite.ts";
import { compileTraining } from "../train/compile-training.ts";
import { searchSparseScheme } from "../train/search.ts";
import { trainModel, type TrainRunResult } from "../train/run-training.ts";
import { HostTarget } from "../train/targets.ts";
import { describeScheme, type Scheme } from "../train/scheme.ts";
import { describeSchedule } from "../train/schedule.ts";
import { benchScheme, testSet } from "../train/float-bench.ts";
import { SAMPLES, TEST, HELD_OUT, SEED, SCHEDULE, QUANT, FLOAT, trainingSetup, deviceMemory } from "./training-setup.ts";

/**
 * Training samples per learning-rate trial and per sparse-search candidate. Trials run the final
 * run's schedule (its warmup and decay scale with the length), so a rate that only looks good
 * while it is still high early on does not win.
 */
const TRIAL = Math.min(SAMPLES, 2000);
/** Learning rates tried per scheme (SGD, batch 1, no momentum); each scheme takes the best on the held-out slice. */
const LR_GRID = [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1];
/** Classifier factors tried (--head-lr) where a scheme trains convolutions as well as the classifier. */
const HEAD_GRID = [1, 30, 100];

interface Rate { lr: number; headLr: number }

const { qBytes, qGraph, ds, plan } = await trainingSetup();
const fGraph = importTflite(new Uint8Array(readFileSync(FLOAT)), FLOAT);
const log = (s: string) => console.error(s);

/** Held-out loss and accuracy of `scheme` trained on the first TRIAL training samples at `rate`. */
const heldOut = async (scheme: Scheme, rate: Rate) => {
  const r = await trainModel(qBytes, QUANT, ds, (b) => new HostTarget(b), {
    scheme, epochs: 1, ...rate, schedule: SCHEDULE, momentum: 0, seed: SEED, trainIndices: plan.train.subarray(0, TRIAL), checkpointEvery: 0,
    evaluate: { split: ds.train, indices: plan.heldOut },
  });
  return { loss: r.evalLoss, accuracy: r.accuracy };
};
/**
 * The learning rate (and classifier factor) with the lowest held-out loss (never the test split):
 * on the same samples the loss separates close rates that accuracy, counting right answers, leaves to chance.
 */
async function pickRate(scheme: Scheme, heads = HEAD_GRID): Promise<Rate> {
  let best: Rate = { lr: LR_GRID[0], headLr: 1 }, bestLoss = Infinity;
  for (const headLr of heads) {
    for (const lr of LR_GRID) {
      const { loss, accuracy } = await heldOut(scheme, { lr, headLr });
      log(`  ${describeScheme(scheme)} lr ${lr} head x${headLr}: held-out loss ${loss.toFixed(3)}, ${(100 * accuracy).toFixed(1)}%`);
      if (loss < bestLoss) { best = { lr, headLr }; bestLoss = loss; }
    }
  }
  return best;
}

const fullPeak = compileTraining(qGraph, QUANT, qBytes, { kind: "full" }).training.arenaBytes;
const fullRate = await pickRate({ kind: "full" });
log(`search: sparse scheme within ${Math.floor(fullPeak / 5)} B (a fifth of full's ${fullPeak} B), candidates at ${JSON.stringify(fullRate)}`);
const search = await searchSparseScheme(qBytes, QUANT, ds, { train: plan.train.subarray(0, TRIAL), heldOut: plan.heldOut, ...fullRate, schedule: SCHEDULE, seed: SEED, log });

const schemes: [string, Scheme][] = [["bias", { kind: "bias" }], ["last", { kind: "last", k: 1 }], ["sparse", search.scheme], ["full", { kind: "full" }]];
const rows: (TrainRunResult & { name: string; lr: number; headLr: number; floatAccuracy: number })[] = [];
const floatTest = testSet(ds, fGraph.tensors[fGraph.inputs[0]].shape, TEST);
const rates: Record<string, Rate> = {};
for (const [name, scheme] of schemes) {
  // Last-layer training: the classifier factor would only rescale lr. (Bias-only trains every layer's bias: it does not.)
  const rate = name === "full" ? fullRate : await pickRate(scheme, name === "last" ? [1] : HEAD_GRID);
  rates[name] = rate;
  const { lr, headLr } = rate;
  log(`int8 ${name}: ${describeScheme(scheme)}, lr ${lr}, head x${headLr}, ${plan.train.length} samples`);
  const r = await trainModel(qBytes, QUANT, ds, (b) => new HostTarget(b), {
    scheme, epochs: 1, lr, schedule: SCHEDULE, headLr, momentum: 0, seed: SEED, trainIndices: plan.train, testLimit: TEST, checkpointEvery: 0,
  });
  log(`  ${(100 * r.accuracy).toFixed(2)}% (${r.seconds.toFixed(0)} s), training peak ${r.trainPeakBytes} B`);
  // The same algorithm in float32: the first layer's weight steps scaled like the engine's (inputLrScale).
  const f = benchScheme(fGraph, ds, name, scheme, lr, true, { samples: SAMPLES, test: TEST, seed: SEED, momentum: 0, headLr, schedule: SCHEDULE }, floatTest);
  log(`  float32 reference ${(100 * f.accuracy).toFixed(2)}%`);
  rows.push({ ...r, name, lr, headLr, floatAccuracy: f.accuracy });
}

// The sparse scheme on the virtual board: a few steps, then the device's own memory figures.
const sparse = rows.find((r) => r.name === "sparse")!;
const device = await deviceMemory(compileTraining(qGraph, QUANT, qBytes, search.scheme, { headLr: rates.sparse.headLr }).blob,
  ds, plan.train, qGraph.tensors[qGraph.inputs[0]], rates.sparse.lr);
log(`qemu-m4 sparse: ${JSON.stringify(device)}`);

const result = {
  model: "pretrainedResnet_quant.tflite", data: "Fashion-MNIST (28x28 gray padded to 32x32x3)", trainSamples: plan.train.length, testSamples: TEST, seed: SEED,
  fullPeakBytes: fullPeak, search: { budgetBytes: search.budgetBytes, baseAccuracy: search.baseAccuracy, baseLoss: search.baseLoss, contributions: search.contributions, combinations: search.combinations },
  schedule: SCHEDULE, trialSamples: TRIAL, heldOutSamples: HELD_OUT, lrGrid: LR_GRID, headGrid: HEAD_GRID,
  rows: rows.map((r) => ({ scheme: r.name, spec: r.scheme, lr: r.lr, headLr: r.headLr, accuracy: r.accuracy, floatAccuracy: r.floatAccuracy, trainPeakBytes: r.trainPeakBytes, stateBytes: r.stateBytes, seconds: r.seconds })),
  qemuM4Sparse: device,
};
mkdirSync(join(REPO, "bench"), { recursive: true });
writeFileSync(join(REPO, "bench", "training.json"), JSON.stringify(result, null, 1) + "\n");

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const table = [
  "| scheme | what is trained | lr (classifier factor) | int8 accuracy (tinyloop) | float32 reference | training peak (planned) | of which persistent state |",
  "|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.name} | \`${r.scheme}\` | ${r.lr}${r.headLr !== 1 ? ` (x${r.headLr})` : ""} | ${(100 * r.accuracy).toFixed(2)}% | ${(100 * r.floatAccuracy).toFixed(2)}% | ${kb(r.trainPeakBytes)} | ${kb(r.stateBytes)} |`),
].join("\n");
const doc = join(REPO, "docs", "training.md");
const text = readFileSync(doc, "utf8");
const begin = "<!-- training-table:begin -->", end = "<!-- training-table:end -->";
const body = `${begin}\n${table}\n\n${plan.train.length} training samples (one epoch, batch 1, SGD, ${describeSchedule(SCHEDULE)} schedule), ${TEST} test samples, seed ${SEED}; sparse scheme searched within ${kb(search.budgetBytes)}; learning rates picked by held-out loss after ${TRIAL}-sample trials with the same schedule. ` +
  `On qemu-m4 the sparse scheme measured ${kb(device.totalSramBytes)} of SRAM in all (static ${kb(device.staticRamBytes)} + engine data ${kb(device.engineDataBytes)} + arena ${kb(device.measuredPeakBytes)} + stack ${kb(device.stackBytes)}). ` +
  `Full update needs ${(rows.find((r) => r.name === "full")!.trainPeakBytes / sparse.trainPeakBytes).toFixed(1)}x the sparse scheme's memory. Regenerate with \`npm run bench\`.\n${end}`;
writeFileSync(doc, text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), body));
console.log(table);
