// `tinyloop train MODEL --board B --data DATASET --scheme S --epochs N`: on-device fine-tuning.
// Labeled samples stream to the target (the engine in Node for --board host, else a board over
// serial) with a live loss / running-accuracy line; the held-out test split is then evaluated
// with the trained parameters, and --out writes the fine-tuned model as a .tflite.
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import cliProgress from "cli-progress";
import { importTflite } from "../import/tflite.ts";
import { loadDataset, planTrain, DatasetError, type Dataset } from "../train/dataset.ts";
import { parseScheme, SchemeError, type Scheme } from "../train/scheme.ts";
import { searchSparseScheme } from "../train/search.ts";
import { trainModel, type TrainRunResult } from "../train/run-training.ts";
import type { TrainPrecision } from "../train/compile-training.ts";
import { BoardTarget, HostTarget } from "../train/targets.ts";
import type { OpenOptions } from "../board/session.ts";
import { describeSchedule, type LrScheduleKind } from "../train/schedule.ts";
import { UsageError } from "./errors.ts";

export interface TrainFlags {
  data: string;
  scheme: string;
  epochs: number;
  limit?: number;
  testLimit?: number;
  lr: number;
  lrSchedule: LrScheduleKind;
  /** Fraction of the steps warming up linearly at the start of the run. */
  warmup: number;
  momentum: number;
  headLr: number;
  precision: TrainPrecision;
  seed: number;
  json?: boolean;
  out?: string;
  checkpointEvery: number;
  searchSamples: number;
  searchHeldOut: number;
}

/** Reads the model and the data set. */
async function inputs(model: string, flags: TrainFlags): Promise<{ bytes: Uint8Array; ds: Dataset; classes: number }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(model));
  } catch (e) {
    throw new UsageError(`cannot read model ${model}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const g = importTflite(bytes, model);
  const out = g.tensors[g.outputs[0]];
  const classes = out.shape.reduce((a, b) => a * b, 1);
  return { bytes, ds: await loadDataset(flags.data, { classes }), classes };
}

/** Runs `train`; data that cannot be used and schemes that cannot be met are usage errors (exit 2). */
export async function trainCommand(model: string, board: string, flags: TrainFlags, open: OpenOptions): Promise<TrainRunResult> {
  try {
    return await train(model, board, flags, open);
  } catch (e) {
    if (e instanceof DatasetError || e instanceof SchemeError) throw new UsageError(e.message);
    throw e;
  }
}

async function train(model: string, board: string, flags: TrainFlags, open: OpenOptions): Promise<TrainRunResult> {
  const request = parseScheme(flags.scheme);
  const { bytes, ds } = await inputs(model, flags);
  const log = (s: string) => { if (!flags.json) console.error(s); };
  const plan = planTrain(ds.train.count, { seed: flags.seed, limit: flags.limit, heldOut: request.kind === "sparse-search" ? flags.searchHeldOut : 0 });
  let scheme: Scheme;
  if (request.kind === "sparse-search") {
    log(`searching a sparse update scheme${request.budgetBytes ? ` within ${request.budgetBytes} B` : ""} (contribution analysis on ${plan.heldOut.length} held-out samples)...`);
    const found = await searchSparseScheme(bytes, model, ds, {
      budgetBytes: request.budgetBytes, train: plan.train.subarray(0, flags.searchSamples), heldOut: plan.heldOut,
      lr: flags.lr, schedule: { kind: flags.lrSchedule, warmup: flags.warmup }, headLr: flags.headLr, precision: flags.precision, seed: flags.seed, log,
    });
    scheme = found.scheme;
    log(`sparse scheme: ${JSON.stringify(found.scheme)} (${found.trainPeakBytes} B planned, budget ${found.budgetBytes} B)`);
  } else {
    scheme = request;
  }

  const bar = flags.json ? undefined : new cliProgress.SingleBar({
    format: "train {bar} {value}/{total} · epoch {epoch} · loss {loss} · running acc {acc}{note}",
    stream: process.stderr, hideCursor: false, clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  const evalBar = flags.json ? undefined : new cliProgress.SingleBar({ format: "eval  {bar} {value}/{total}", stream: process.stderr, hideCursor: false }, cliProgress.Presets.shades_classic);
  let started = false, evalStarted = false;
  const result = await trainModel(bytes, basename(model), ds,
    (blob) => (board === "host" ? new HostTarget(blob) : new BoardTarget(board, blob, open)), {
      scheme, epochs: flags.epochs, lr: flags.lr, schedule: { kind: flags.lrSchedule, warmup: flags.warmup }, momentum: flags.momentum, headLr: flags.headLr, precision: flags.precision, seed: flags.seed, trainIndices: plan.train,
      testLimit: flags.testLimit, checkpointEvery: board === "host" ? 0 : flags.checkpointEvery,
      onStep: (p) => {
        if (!bar) return;
        const payload = { epoch: p.epoch + 1, loss: p.runningLoss.toFixed(3), acc: `${(100 * p.runningAccuracy).toFixed(1)}%`, note: p.resumedFrom !== undefined ? ` · board reset, resumed at step ${p.resumedFrom}` : "" };
        if (!started) { bar.start(p.total, 0, payload); started = true; }
        bar.update(p.step, payload);
      },
      onEval: (done, total) => {
        if (!evalBar) return;
        if (!evalStarted) { bar?.stop(); evalBar.start(total, 0); evalStarted = true; }
        evalBar.update(done);
      },
    });
  bar?.stop();
  evalBar?.stop();
  if (flags.out) {
    try {
      writeFileSync(flags.out, result.tflite);
    } catch (e) {
      throw new UsageError(`cannot write ${flags.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return result;
}

export function printTrainResult(r: TrainRunResult, out?: string): void {
  console.log(`scheme ${r.scheme} (${r.training.precision}) on ${r.board}: ${r.samples} training steps (${r.epochs} epoch${r.epochs === 1 ? "" : "s"}) in ${r.seconds.toFixed(1)} s, lr ${r.lr} (${describeSchedule(r.schedule)})`);
  console.log(`  last epoch: loss ${r.trainLoss.toFixed(3)}, running accuracy ${(100 * r.trainAccuracy).toFixed(1)}%`);
  console.log(`  held-out accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.testSamples} test samples`);
  console.log(`  training memory: planned ${r.trainPeakBytes} B (state ${r.stateBytes} B), measured high-water ${r.measuredPeakBytes} B`);
  if (out) console.log(`  wrote the fine-tuned model to ${out}`);
}

/** The --json object: the figures the issue asks for, plus the scheme and timing. */
export function trainJson(r: TrainRunResult): Record<string, unknown> {
  return {
    scheme: r.scheme, precision: r.training.precision, board: r.board, accuracy: r.accuracy, testLoss: r.evalLoss, testSamples: r.testSamples, samples: r.samples, epochs: r.epochs,
    lr: r.lr, lrSchedule: r.schedule.kind, warmup: r.schedule.warmup ?? 0,
    trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy, trainPeakBytes: r.trainPeakBytes,
    measuredPeakBytes: r.board === "host" ? undefined : r.measuredPeakBytes, hostPeakBytes: r.board === "host" ? r.measuredPeakBytes : undefined,
    stateBytes: r.stateBytes, seconds: r.seconds,
    layers: r.training.layers.map((l) => ({ layer: l.layer, kind: l.kind, trainChannels: l.trainChannels, outC: l.outC, trainBias: l.trainBias })),
  };
}
