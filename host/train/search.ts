// Finding a sparse update scheme under a memory budget, by contribution analysis (as in
// "On-Device Training Under 256KB Memory"): every candidate — biases from layer k on, or the
// first ratio r of layer l's output channels — is fine-tuned alone (with the classifier, which
// always trains) on a few samples and scored on a held-out slice of the train split; its
// contribution is how far its held-out loss falls below the classifier alone's (the loss rather
// than accuracy: on a few hundred samples it ranks candidates with far less noise, where accuracy
// gains are a handful of right answers). Contributions are then combined greedily, best first, keeping every combination whose planned training memory
// fits the budget; the few combinations with the largest summed contributions are trained as
// they are, and the one with the lowest held-out loss wins.
import { importTflite } from "../import/tflite.ts";
import { compileTraining, type TrainPrecision } from "./compile-training.ts";
import { describeScheme, SchemeError, type Scheme } from "./scheme.ts";
import { trainModel } from "./run-training.ts";
import { HostTarget } from "./targets.ts";
import type { Dataset } from "./dataset.ts";
import type { LrSchedule } from "./schedule.ts";

export interface SearchOptions {
  /** Planned training memory allowed (default: a fifth of the full update's). */
  budgetBytes?: number;
  /** Samples each candidate trains on, and the held-out slice it is scored on (train-split indices). */
  train: Uint32Array;
  heldOut: Uint32Array;
  lr: number;
  /** The schedule of the run the scheme is for (default constant): candidates train with it too. */
  schedule?: LrSchedule;
  /** Learning-rate factor of the classifier (default 1). */
  headLr?: number;
  /** The run's precision (default int8): candidates train, and their memory is planned, with it. */
  precision?: TrainPrecision;
  seed: number;
  /** How many of the last weighted layers (before the classifier) are candidates (default 6). */
  depth?: number;
  /** Output-channel fractions tried per layer (default RATIOS). */
  ratios?: number[];
  /** How many of the best greedy combinations are trained to pick the winner (default 3). */
  verify?: number;
  log?: (line: string) => void;
}

/** A candidate's held-out accuracy and loss; `gain` is the loss it saves over the classifier alone. */
export interface Contribution { scheme: string; accuracy: number; loss: number; gain: number; trainPeakBytes: number }

export interface SearchResult {
  scheme: Scheme;
  trainPeakBytes: number;
  budgetBytes: number;
  baseAccuracy: number;
  baseLoss: number;
  contributions: Contribution[];
  /** The best greedy combinations, each trained as a whole (empty when there was only one). */
  combinations: Contribution[];
}

type WeightPick = { layer: number; ratio: number };

/** Output-channel fractions tried per layer: fine steps, since near the budget an eighth of a layer decides what fits. */
export const RATIOS = [0.125, 0.25, 0.375, 0.5, 0.75, 1];

export async function searchSparseScheme(bytes: Uint8Array, file: string, ds: Dataset, o: SearchOptions): Promise<SearchResult> {
  const graph = importTflite(bytes, file);
  const peaks = new Map<string, number>();
  const peakOf = (s: Scheme): number => {
    const key = describeScheme(s);
    if (!peaks.has(key)) peaks.set(key, compileTraining(graph, file, bytes, s, { precision: o.precision }).training.arenaBytes);
    return peaks.get(key)!;
  };
  const layers = compileTraining(graph, file, bytes, { kind: "full" }).training.layers.length;
  const budget = o.budgetBytes ?? Math.floor(peakOf({ kind: "full" }) / 5);
  const classifier = layers - 1;
  const scheme = (biasFrom: number, weights: WeightPick[]): Scheme => ({ kind: "sparse", biasFrom, weights: [...weights, { layer: classifier, ratio: 1 }] });
  const score = async (s: Scheme): Promise<{ accuracy: number; loss: number }> => {
    const r = await trainModel(bytes, file, ds, (blob) => new HostTarget(blob), {
      scheme: s, epochs: 1, lr: o.lr, schedule: o.schedule, headLr: o.headLr, precision: o.precision, momentum: 0, seed: o.seed, trainIndices: o.train, checkpointEvery: 0,
      evaluate: { split: ds.train, indices: o.heldOut },
    });
    return { accuracy: r.accuracy, loss: r.evalLoss };
  };
  const pct = (a: number) => `${(100 * a).toFixed(1)}%`;

  const base = scheme(classifier, []);
  if (peakOf(base) > budget) {
    throw new SchemeError(`a sparse scheme within ${budget} B is impossible: training the classifier alone needs ${peakOf(base)} B; give a larger budget (sparse:BYTES) or use --scheme bias`);
  }
  const { accuracy: baseAccuracy, loss: baseLoss } = await score(base);
  o.log?.(`  classifier only: loss ${baseLoss.toFixed(3)}, ${pct(baseAccuracy)} (${peakOf(base)} B)`);
  const contributions: Contribution[] = [];
  const first = Math.max(0, classifier - (o.depth ?? 6));
  const biasGain = new Map<number, number>([[classifier, 0]]);
  const weightGain: { pick: WeightPick; gain: number }[] = [];
  const consider = async (s: Scheme, record: (gain: number) => void) => {
    const peak = peakOf(s);
    if (peak > budget) return; // cannot be part of any scheme within the budget
    const { accuracy, loss } = await score(s);
    const gain = baseLoss - loss;
    contributions.push({ scheme: describeScheme(s), accuracy, loss, gain, trainPeakBytes: peak });
    o.log?.(`  ${describeScheme(s)}: loss ${loss.toFixed(3)} (gain ${gain.toFixed(3)}), ${pct(accuracy)}, ${peak} B`);
    record(gain);
  };
  for (let k = first; k < classifier; k++) await consider(scheme(k, []), (g) => biasGain.set(k, g));
  for (let l = first; l < classifier; l++) {
    for (const ratio of o.ratios ?? RATIOS) await consider(scheme(classifier, [{ layer: l, ratio }]), (g) => weightGain.push({ pick: { layer: l, ratio }, gain: g }));
  }

  // Greedy combination per bias depth: add the best-contributing weight picks (one ratio per layer) that still fit.
  const combos = new Map<string, { scheme: Scheme; total: number }>();
  const picks = weightGain.filter((w) => w.gain > 0).sort((a, b) => b.gain - a.gain);
  for (const [k, bias] of biasGain) {
    let chosen: WeightPick[] = [];
    let total = bias;
    if (peakOf(scheme(k, chosen)) > budget) continue;
    for (const w of picks) {
      if (chosen.some((c) => c.layer === w.pick.layer)) continue;
      const trial = [...chosen, w.pick];
      if (peakOf(scheme(k, trial)) <= budget) { chosen = trial; total += w.gain; }
    }
    if (total > 0) combos.set(describeScheme(scheme(k, chosen)), { scheme: scheme(k, chosen), total });
  }
  // Contributions do not simply add up (two layers may learn the same thing): the few best
  // combinations are trained as they are, and the lowest measured loss wins.
  const ranked = [...combos.values()].sort((a, b) => b.total - a.total).slice(0, o.verify ?? 3);
  const combinations: Contribution[] = [];
  let best = { scheme: ranked[0]?.scheme ?? base, loss: Infinity };
  if (ranked.length > 1) {
    for (const c of ranked) {
      const { accuracy, loss } = await score(c.scheme);
      combinations.push({ scheme: describeScheme(c.scheme), accuracy, loss, gain: baseLoss - loss, trainPeakBytes: peakOf(c.scheme) });
      o.log?.(`  combined ${describeScheme(c.scheme)}: loss ${loss.toFixed(3)} (summed gains ${c.total.toFixed(3)}), ${pct(accuracy)}, ${peakOf(c.scheme)} B`);
      if (loss < best.loss) best = { scheme: c.scheme, loss };
    }
  }
  return { scheme: best.scheme, trainPeakBytes: peakOf(best.scheme), budgetBytes: budget, baseAccuracy, baseLoss, contributions, combinations };
}
