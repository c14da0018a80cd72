// `--precision auto`: which weighted layers get fp8 weights and which int8, chosen by
// the error measured on the calibration set, under a flash and SRAM budget (by default
// the int8 build's weight flash and arena, so auto never costs more memory than int8).
//
// Measuring beats predicting here: how much a layer's weight error hurts depends on
// everything after it, and fp8's f32 bias and requantization differ from int8's too.
// So: build the int8 model and, for each weighted layer, the int8 model with that one
// layer in fp8; a layer is a candidate when it lifts the calibration SQNR by MIN_GAIN_DB.
// Candidates are added best first, each kept only if the combination fits the budget and
// measures at least MIN_STEP_DB better. Finally the all-fp8 build competes too when it
// fits. The winner is, on the calibration set, at least as close to float as both int8
// and fp8. The margins keep auto from fitting the calibration set's noise: a gain of a
// tenth of a dB on 32 inputs is as likely to be a loss on the next 32.
import type { Graph } from "../graph/graph.ts";
import { ptqOpIndex, type Sample } from "./ptq.ts";
import type { Compiled } from "../compile.ts";
import type { TlmMeta } from "../format/tlm.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { runFloat } from "../float/interpreter.ts";
import { sqnrDb } from "../float/sqnr.ts";

export const WEIGHTED_OPS = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"];

/** Calibration SQNR gain (dB) a layer must show alone in fp8 to be a candidate. */
export const MIN_GAIN_DB = 0.25;
/** Gain (dB) each further fp8 layer must add to the combination. */
export const MIN_STEP_DB = 0.1;

export interface AutoBudget {
  /** Weight bytes in the .tlm (flash on a board); default: the int8 build's. */
  flashBytes?: number;
  /** Planned arena (SRAM); default: the int8 build's. */
  arenaBytes?: number;
}

export interface LayerChoice {
  /** Op index in the float model (= TFLite op index). */
  op: number;
  type: string;
  precision: "int8" | "fp8";
  /** Calibration SQNR (dB) of the int8 build with only this layer in fp8. */
  sqnrAloneFp8Db: number;
  /** Weight bytes in flash as int8 and as fp8. */
  flashInt8: number;
  flashFp8: number;
}

/** What `auto` chose and why; kept in the .tlm's metadata. */
export interface AutoReport {
  budget: { flashBytes: number; arenaBytes: number };
  /** Output SQNR (dB) against float on the calibration set. */
  calibrationSqnrDb: { int8: number; fp8: number; auto: number };
  /** The all-fp8 build's weight flash and arena (it only competes within the budget). */
  fp8Build: { flashBytes: number; arenaBytes: number };
  layers: LayerChoice[];
}

/** Builds the model with these float-graph ops in fp8 (the rest int8). */
export type BuildWith = (fp8Ops: Set<number>) => Compiled;

/** Output SQNR (dB, all outputs pooled) of a float-in/float-out compiled model against float reference outputs. */
export function calibrationSqnr(c: Compiled, samples: Sample[], want: Float32Array[][]): number {
  const engine = NodeEngine.load(c.blob);
  const got: Float32Array[] = [];
  for (const s of samples) {
    s.forEach((v, i) => engine.setInput(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), i));
    engine.invoke();
    for (let o = 0; o < engine.numOutputs; o++) got.push(new Float32Array(engine.output(o).slice().buffer));
  }
  return sqnrDb(want.flat(), got);
}

/** Weight flash of one float-graph op in a build (0 if it has no weights). */
function opFlash(g: Graph, meta: TlmMeta, op: number): number {
  return meta.ops.filter((o) => o.source === ptqOpIndex(g, op)).reduce((s, o) => s + (o.flashBytes ?? 0), 0);
}

export function chooseAuto(g: Graph, samples: Sample[], build: BuildWith, budget: AutoBudget = {}): { compiled: Compiled; report: AutoReport } {
  const want = samples.map((s) => runFloat(g, s).outputs);
  const measure = (c: Compiled) => calibrationSqnr(c, samples, want);
  const weighted = g.ops.filter((op) => WEIGHTED_OPS.includes(op.type)).map((op) => op.index);
  const int8 = build(new Set());
  const limit = { flashBytes: budget.flashBytes ?? int8.meta.weightBytes, arenaBytes: budget.arenaBytes ?? int8.meta.plan.arenaBytes };
  const fits = (c: Compiled) => c.meta.weightBytes <= limit.flashBytes && c.meta.plan.arenaBytes <= limit.arenaBytes;
  const fp8 = build(new Set(weighted));
  const sqnr8 = measure(int8), sqnrF = measure(fp8);

  const alone = weighted.map((op) => {
    const c = build(new Set([op]));
    return { op, sqnr: measure(c), flashFp8: opFlash(g, c.meta, op) };
  });
  let best = { compiled: int8, sqnr: sqnr8, ops: new Set<number>() };
  if (!fits(int8)) best.sqnr = -Infinity; // a budget below int8's: anything that fits wins
  for (const cand of alone.filter((a) => a.sqnr >= sqnr8 + MIN_GAIN_DB).sort((a, b) => b.sqnr - a.sqnr)) {
    const ops = new Set([...best.ops, cand.op]);
    const c = build(ops);
    if (!fits(c)) continue;
    const s = measure(c);
    if (s >= best.sqnr + MIN_STEP_DB) best = { compiled: c, sqnr: s, ops };
  }
  if (fits(fp8) && sqnrF > best.sqnr) best = { compiled: fp8, sqnr: sqnrF, ops: new Set(weighted) };

  const layers = alone.map(({ op, sqnr, flashFp8 }): LayerChoice => ({
    op, type: g.ops[op].type, precision: best.ops.has(op) ? "fp8" : "int8",
    sqnrAloneFp8Db: sqnr, flashInt8: opFlash(g, int8.meta, op), flashFp8,
  }));
  return {
    compiled: best.compiled,
    report: {
      budget: limit,
      calibrationSqnrDb: { int8: sqnr8, fp8: sqnrF, auto: best.sqnr },
      fp8Build: { flashBytes: fp8.meta.weightBytes, arenaBytes: fp8.meta.plan.arenaBytes },
      layers,
    },
  };
}
