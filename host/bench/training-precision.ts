// Hybrid fp8 against int8 training on the training benchmark (part of `npm run bench`, after
// training.ts; or alone: `tsx host/bench/training-precision.ts`). For the schemes of
// bench/training.json (bias, last, the searched sparse scheme, full; TINYLOOP_TRAIN_SCHEMES=sparse,full
// selects rows) at the rates training.ts picked for them, it trains the same samples twice on the
// host engine: `--precision int8` (f32 errors, int8 saved activations, QAS) and `--precision fp8`
// (E5M2 errors, E4M3 saved activations, the same QAS updates). Then the sparse search runs again in
// fp8 within the int8 search's budget (cheaper errors may reach deeper layers; TINYLOOP_TRAIN_FP8_SEARCH=0
// skips it), and the fp8 sparse scheme runs a few steps on qemu-m4 for its device memory. Adds `precision` to bench/training.json and writes the
// table between the training-precision markers in docs/training.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../util/shared-models.ts";
import { compileTraining, TRAIN_PRECISIONS, type TrainPrecision } from "../train/compile-training.ts";
import { trainModel, type TrainRunResult } from "../train/run-training.ts";
import { HostTarget } from "../train/targets.ts";
import { parseScheme, describeScheme, type Scheme } from "../train/scheme.ts";
import { searchSparseScheme } from "../train/search.ts";
import { describeSchedule } from "../train/schedule.ts";
import { TEST, SEED, SCHEDULE, QUANT, trainingSetup, deviceMemory, type DeviceMemory } from "./training-setup.ts";

interface BenchRow { scheme: string; spec: string; lr: number; headLr: number }
const JSON_FILE = join(REPO, "bench", "training.json");
const bench = JSON.parse(readFileSync(JSON_FILE, "utf8")) as { rows: BenchRow[]; search: { budgetBytes: number }; trialSamples: number; precision?: unknown };
const wanted = process.env.TINYLOOP_TRAIN_SCHEMES?.split(",").filter(Boolean) ?? bench.rows.map((r) => r.scheme);
const selected = wanted.map((name) => {
  const row = bench.rows.find((r) => r.scheme === name);
  if (!row) throw new Error(`bench/training.json has no "${name}" row (it has ${bench.rows.map((r) => r.scheme).join(", ")}); run host/bench/training.ts first`);
  return row;
});

const { qBytes, qGraph, ds, plan } = await trainingSetup();
const log = (s: string) => console.error(s);

type Figures = Pick<TrainRunResult, "accuracy" | "evalLoss" | "trainPeakBytes" | "measuredPeakBytes" | "stateBytes" | "seconds">;
const rows: (BenchRow & Record<TrainPrecision, Figures>)[] = [];
for (const row of selected) {
  const scheme = parseScheme(row.spec) as Scheme;
  const figures = {} as Record<TrainPrecision, Figures>;
  for (const precision of TRAIN_PRECISIONS) {
    const r = await trainModel(qBytes, QUANT, ds, (b) => new HostTarget(b), {
      scheme, epochs: 1, lr: row.lr, headLr: row.headLr, schedule: SCHEDULE, precision, momentum: 0, seed: SEED,
      trainIndices: plan.train, testLimit: TEST, checkpointEvery: 0,
    });
    figures[precision] = { accuracy: r.accuracy, evalLoss: r.evalLoss, trainPeakBytes: r.trainPeakBytes, measuredPeakBytes: r.measuredPeakBytes, stateBytes: r.stateBytes, seconds: r.seconds };
    log(`${row.scheme} ${precision}: ${(100 * r.accuracy).toFixed(2)}%, test loss ${r.evalLoss.toFixed(3)}, training peak ${r.trainPeakBytes} B (${r.seconds.toFixed(0)} s)`);
  }
  rows.push({ ...row, ...figures });
}

/** The sparse search in fp8 under the int8 search's budget, with training.ts's search settings (candidates at full's rate). */
async function fp8Search() {
  const full = bench.rows.find((r) => r.scheme === "full"), sparse = bench.rows.find((r) => r.scheme === "sparse");
  if (process.env.TINYLOOP_TRAIN_FP8_SEARCH === "0" || !full || !sparse) return undefined;
  const found = await searchSparseScheme(qBytes, QUANT, ds, {
    budgetBytes: bench.search.budgetBytes, train: plan.train.subarray(0, bench.trialSamples), heldOut: plan.heldOut,
    lr: full.lr, headLr: full.headLr, schedule: SCHEDULE, precision: "fp8", seed: SEED, log,
  });
  // trained at the int8 sparse scheme's rate (no rate search of its own)
  const r = await trainModel(qBytes, QUANT, ds, (b) => new HostTarget(b), {
    scheme: found.scheme, epochs: 1, lr: sparse.lr, headLr: sparse.headLr, schedule: SCHEDULE, precision: "fp8", momentum: 0, seed: SEED,
    trainIndices: plan.train, testLimit: TEST, checkpointEvery: 0,
  });
  log(`fp8-searched sparse ${describeScheme(found.scheme)}: ${(100 * r.accuracy).toFixed(2)}%, training peak ${r.trainPeakBytes} B`);
  return {
    spec: describeScheme(found.scheme), budgetBytes: found.budgetBytes, lr: sparse.lr, headLr: sparse.headLr,
    accuracy: r.accuracy, evalLoss: r.evalLoss, trainPeakBytes: r.trainPeakBytes, stateBytes: r.stateBytes, seconds: r.seconds,
    contributions: found.contributions, combinations: found.combinations,
  };
}
const searched = await fp8Search();

let device: DeviceMemory | undefined;
const sparse = rows.find((r) => r.scheme === "sparse");
if (sparse) {
  const blob = compileTraining(qGraph, QUANT, qBytes, parseScheme(sparse.spec) as Scheme, { headLr: sparse.headLr, precision: "fp8" }).blob;
  device = await deviceMemory(blob, ds, plan.train, qGraph.tensors[qGraph.inputs[0]], sparse.lr);
  log(`qemu-m4 fp8 sparse: ${JSON.stringify(device)}`);
}

const result = { trainSamples: plan.train.length, testSamples: TEST, seed: SEED, schedule: SCHEDULE, rows, fp8SearchedSparse: searched, qemuM4Fp8Sparse: device };
writeFileSync(JSON_FILE, JSON.stringify({ ...bench, precision: result }, null, 1) + "\n");

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const pct = (a: number) => `${(100 * a).toFixed(2)}%`;
const table = [
  "| scheme | lr (classifier factor) | int8 accuracy | hybrid fp8 accuracy | int8 test loss | fp8 test loss | int8 training peak | fp8 training peak | fp8 / int8 |",
  "|---|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.scheme} | ${r.lr}${r.headLr !== 1 ? ` (x${r.headLr})` : ""} | ${pct(r.int8.accuracy)} | ${pct(r.fp8.accuracy)} | ${r.int8.evalLoss.toFixed(3)} | ${r.fp8.evalLoss.toFixed(3)} | ${kb(r.int8.trainPeakBytes)} | ${kb(r.fp8.trainPeakBytes)} | ${(r.fp8.trainPeakBytes / r.int8.trainPeakBytes).toFixed(2)} |`),
].join("\n");
const doc = join(REPO, "docs", "training.md");
const begin = "<!-- training-precision:begin -->", end = "<!-- training-precision:end -->";
const note = `${plan.train.length} training samples (one epoch, batch 1, SGD, ${describeSchedule(SCHEDULE)} schedule), ${TEST} test samples, seed ${SEED}, both precisions on the same samples at the rates of the table above.` +
  (searched ? ` The sparse search run again in fp8 within the same ${kb(searched.budgetBytes)} picked \`${searched.spec}\`: ${pct(searched.accuracy)} (test loss ${searched.evalLoss.toFixed(3)}) at the sparse row's rate, ${kb(searched.trainPeakBytes)} planned.` : "") +
  (device ? ` On qemu-m4 the fp8 sparse scheme measured an arena high-water mark of ${kb(device.measuredPeakBytes)}, ${kb(device.totalSramBytes)} of SRAM in all (static ${kb(device.staticRamBytes)} + engine data ${kb(device.engineDataBytes)} + stack ${kb(device.stackBytes)}).` : "") +
  " Regenerate with `npm run bench` (or this table alone: `npx tsx host/bench/training-precision.ts`).";
const text = readFileSync(doc, "utf8");
if (!text.includes(begin)) throw new Error(`docs/training.md has no ${begin} marker`);
writeFileSync(doc, text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${table}\n\n${note}\n${end}`));
console.log(table);
