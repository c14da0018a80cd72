// From model bytes to a runnable .tlm blob: import, lower, plan, encode.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { importTflite, FormatError } from "./import/tflite.ts";
import { type Graph, tensorBytes } from "./graph/graph.ts";
import { firstFloatTensor, isFloatGraph } from "./float/interpreter.ts";
import { quantizeGraph, calibrate, type Sample, type PtqResult } from "./passes/ptq.ts";
import { chooseAuto, WEIGHTED_OPS, type AutoBudget, type AutoReport } from "./passes/auto-precision.ts";
import { defaultCalibration, readCalibration } from "./float/calibration.ts";
import { lower, UnsupportedError, type Lowered, type LoweredOp, type CompressMode, type ChannelWeights } from "./passes/lower.ts";
export { COMPRESS_MODES, type CompressMode } from "./passes/lower.ts";
import { planMemory, planSmallestTiles, rootOf, type Plan, type PlanOptions, type TileShape } from "./passes/plan.ts";
import { chooseStages, coarsenStages, encodeStageSteps } from "./passes/stages.ts";
import { codeWeights, encodeCodedTiles, decodeInstructions, CODING_IDS } from "./passes/weight-coding.ts";
export { DECODE_BUDGET_PERCENT } from "./passes/weight-coding.ts";
import { withPatchStage, encodePatchStage, patchChainProblem, overheadPercent, type PatchGrid, type PatchStage } from "./passes/patches.ts";
import { FP8_OPS, CHUNKED_OPS } from "./format/spec.ts";
import { writeTlm, rewriteMeta, encodeTiles, encodeSparseTiles, encodeGroupedTiles, readTlm, isTlm, weightSectionBytes, TlmFormatError, type TlmMeta, type EncodedOp, type OpMeta } from "./format/tlm.ts";

export { FormatError, UnsupportedError, TlmFormatError };

/** The model cannot be planned within --arena-budget. */
export class BudgetError extends Error {}

/** `c`, or a BudgetError naming the arena it needs when that is above --arena-budget. */
function withinBudget<C extends Compiled>(c: C, file: string, options: CompileOptions): C {
  if (options.arenaBudget === undefined || c.meta.plan.arenaBytes <= options.arenaBudget) return c;
  const how = options.patch === "off" ? " one op at a time (--patch auto may need less)" : "";
  throw new BudgetError(`${basename(file)} needs an arena of at least ${c.meta.plan.arenaBytes} B${how}; --arena-budget is ${options.arenaBudget} B`);
}

export interface Compiled {
  blob: Uint8Array;
  meta: TlmMeta;
}

/**
 * `--patch`: auto runs stages of ops row by row where that shrinks the arena (or the first ops in
 * 2-D patches, when that needs less within --max-overhead); off, never; RxC, the first ops in an
 * R x C grid of patches (host/passes/patches.ts), the rest op by op.
 */
export type PatchMode = "auto" | "off" | PatchGrid;
export const PATCH_MODES = ["auto", "off", "RxC"] as const;
/** `--max-overhead` default: the MACs 2-D patches may recompute, in percent of the model's. */
export const DEFAULT_MAX_OVERHEAD = 10;

/** Parses --patch: auto, off, or RxC (e.g. 2x2); undefined when it is none of them. */
export function parsePatch(text: string): PatchMode | undefined {
  if (text === "auto" || text === "off") return text;
  const m = /^([1-9]\d*)x([1-9]\d*)$/.exec(text);
  return m ? { rows: Number(m[1]), cols: Number(m[2]) } : undefined;
}

/**
 * The arena when no `--arena-budget` is given: `min`, the smallest the planner finds; `auto` (the
 * CLI's default, like STM32Cube.AI's "balanced"), that rounded up to a power of two, the size a
 * user reserves, with the difference spent on speed (bigger weight tiles, fewer and coarser
 * row-streamed stages).
 */
export type ArenaPolicy = "min" | "auto";
export const ARENA_POLICIES: readonly ArenaPolicy[] = ["min", "auto"];

export interface CompileOptions extends PlanOptions {
  patch?: PatchMode;
  /** Most MACs 2-D patches may add, in percent of the model's (default DEFAULT_MAX_OVERHEAD). */
  maxOverhead?: number;
  /** Most decode work weight codings may add, in percent of the model's instructions (default DECODE_BUDGET_PERCENT). */
  decodeBudget?: number;
  compress?: CompressMode;
  /** Used when arenaBudget is not given; default `min` here, `auto` in loadModel (the CLI's entry). */
  arena?: ArenaPolicy;
}

/** The smallest power of two at least n. */
function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function compileTflite(bytes: Uint8Array, file = "model.tflite", options: CompileOptions = {}): Compiled {
  const graph = importTflite(bytes, file);
  const float = firstFloatTensor(graph);
  if (float) {
    throw new UnsupportedError(`${basename(file)} is a float32 model (tensor ${float.index} "${float.name}" is float32); compile it with --precision int8, fp8 or auto (and --calibration FILES... of raw float32 inputs)`);
  }
  return withinBudget(compileGraph(graph, file, bytes, options), file, options);
}

/** Lowers, plans and encodes an already imported (or quantized) Graph; `bytes` are the source model's, for its hash. */
export function compileGraph(graph: Graph, file: string, bytes: Uint8Array, options: CompileOptions = {}): Compiled {
  if (options.arenaBudget === undefined && options.arena === "auto") {
    const smallest = compileGraph(graph, file, bytes, { ...options, arena: "min" }).meta.plan.arenaBytes;
    const c = compileGraph(graph, file, bytes, { ...options, arena: "min", arenaBudget: powerOfTwoAtLeast(smallest) });
    c.meta.plan.smallestArenaBytes = smallest;
    return { blob: rewriteMeta(c.blob, c.meta), meta: c.meta };
  }
  const plain = lower(graph, { compress: options.compress, groupFullyConnected: true });
  // Row-streamed stages where they shrink the arena (--patch auto, the default), or a patch grid.
  const staged = options.patch === "off" ? plain : typeof options.patch === "object" ? withPatchGrid(graph, plain, options.patch, options)
    : leastArena(graph, [streamInStages(graph, plain, options), bestPatchStage(graph, plain, options)], options);
  // Weight codings where they save flash within the decode budget (--compress auto).
  const lowered = options.compress === "off" ? staged : codeWeights(staged, options.decodeBudget);
  const c = compileLowered(graph, lowered, file, bytes, options);
  if (staged !== plain) {
    const one = planMemory(graph, plain, options);
    c.meta.plan.withoutStages = { arenaBytes: one.arenaBytes, timeline: one.timeline, tfliteOps: plain.ops.map((op) => op.source) };
  }
  return { blob: rewriteMeta(c.blob, c.meta), meta: c.meta };
}

/** Plans and encodes a lowered op list (stages included) as it is. */
export function compileLowered(graph: Graph, lowered: Lowered, file: string, bytes: Uint8Array, options: PlanOptions = {}): Compiled {
  const plan = planMemory(graph, lowered, options);
  const meta = describe(graph, lowered, plan, file, bytes);
  const ops: EncodedOp[] = lowered.ops.map((op, i) => {
    const offset = (t: number) => plan.tensorOffset.get(t)!;
    if (op.stage) return { kind: op.kind, params: {}, stage: encodeStageSteps(op.stage, offset, plan.scratch.get(i)?.offset ?? 0, encodeOp) };
    if (op.patchStage) return { kind: op.kind, params: {}, stage: encodePatchStage(op.patchStage, offset, plan.scratch.get(i)?.offset ?? 0, encodeOp) };
    return encodeOp(op, offset, plan.scratch.get(i)?.offset, plan.tiles.get(i));
  });
  ops.forEach((op, i) => { if (weightSectionBytes(op) > 0) meta.ops[i].flashBytes = weightSectionBytes(op); });
  const io = (ts: number[]) => ts.map((t): [number, number] => [plan.tensorOffset.get(t)!, tensorBytes(graph.tensors[t])]);
  const blob = writeTlm(ops, plan.arenaBytes, { inputs: io(graph.inputs), outputs: io(graph.outputs) }, meta);
  return { blob, meta };
}

/**
 * The op list with stages where they shrink the arena (down to the budget, when one is given),
 * each as coarse as that arena allows.
 */
function streamInStages(graph: Graph, plain: Lowered, options: PlanOptions): Lowered {
  const arenaOf = (l: Lowered) => planSmallestTiles(graph, l, options);
  const budget = options.arenaBudget ?? 0;
  const staged = chooseStages(graph, plain, arenaOf, budget);
  return staged === plain ? plain : coarsenStages(graph, staged, arenaOf, Math.max(arenaOf(staged).arenaBytes, budget));
}

const modelMacs = (l: Lowered) => l.ops.reduce((sum, op) => sum + op.macs, 0);

/** The MACs a patch stage may compute again: --max-overhead percent of the model's. */
function macLimit(plain: Lowered, options: CompileOptions): number {
  return (modelMacs(plain) * (options.maxOverhead ?? DEFAULT_MAX_OVERHEAD)) / 100;
}

/** The op lists' plan with the smallest arena (the first of equals: fewer recomputed MACs come first). */
function leastArena(graph: Graph, candidates: (Lowered | undefined)[], options: PlanOptions): Lowered {
  let best: Lowered | undefined, bestBytes = Infinity;
  for (const l of candidates) {
    if (!l) continue;
    const bytes = planSmallestTiles(graph, l, options).arenaBytes;
    if (bytes < bestBytes) { best = l; bestBytes = bytes; }
  }
  return best!;
}

/** Split points of a patch stage: 1..MAX_PATCH_OPS first ops that form a chain. */
const MAX_PATCH_OPS = 8;
/** Grids --patch auto tries (MCUNetV2 uses square grids). */
const AUTO_GRIDS: PatchGrid[] = [2, 3, 4].map((k) => ({ rows: k, cols: k }));

/** The first ops on `grid`, split where the arena is smallest within --max-overhead, then op by op. */
function withPatchGrid(graph: Graph, plain: Lowered, grid: PatchGrid, options: CompileOptions): Lowered {
  const fits = patchCandidates(graph, plain, [grid]);
  if (!fits.length) throw new UnsupportedError(`--patch ${grid.rows}x${grid.cols}: ${patchChainProblem(graph, plain, 1) ?? "the grid does not fit the first ops' outputs"}`);
  const limit = macLimit(plain, options);
  const within = fits.filter((l) => l.ops[0].patchStage!.extraMacs <= limit);
  if (!within.length) {
    const least = Math.min(...fits.map((l) => l.ops[0].patchStage!.extraMacs));
    const pct = overheadPercent(least, modelMacs(plain)).toFixed(1);
    throw new UnsupportedError(`--patch ${grid.rows}x${grid.cols} recomputes at least ${pct}% of the model's MACs, over --max-overhead ${options.maxOverhead ?? DEFAULT_MAX_OVERHEAD}%; raise --max-overhead or use a coarser grid`);
  }
  return leastArena(graph, within, options);
}

/** --patch auto's 2-D candidate: the patch stage with the smallest arena within --max-overhead, if any. */
function bestPatchStage(graph: Graph, plain: Lowered, options: CompileOptions): Lowered | undefined {
  const limit = macLimit(plain, options);
  const within = patchCandidates(graph, plain, AUTO_GRIDS).filter((l) => l.ops[0].patchStage!.extraMacs <= limit);
  return within.length ? leastArena(graph, within, options) : undefined;
}

/** Every split point's op list with a patch stage on each grid that fits. */
function patchCandidates(graph: Graph, plain: Lowered, grids: PatchGrid[]): Lowered[] {
  const out: Lowered[] = [];
  for (let n = 1; n <= Math.min(MAX_PATCH_OPS, plain.ops.length); n++) {
    if (patchChainProblem(graph, plain, n)) break;
    for (const grid of grids) {
      try { out.push(withPatchStage(graph, plain, n, grid)); } catch { /* the grid does not fit this split */ }
    }
  }
  return out;
}

/** One op's record: tensor fields at their arena offsets, its scratch, and its weights cut into `tile`s. */
function encodeOp(op: LoweredOp, tensorOffset: (t: number) => number, scratchOffset: number | undefined, tile: TileShape | undefined): EncodedOp {
  const params: Record<string, number> = {};
  for (const [k, v] of Object.entries(op.fields)) {
    if (typeof v === "number") params[k] = v;
    else if ("tensor" in v) params[k] = tensorOffset(v.tensor);
    else if ("scratch" in v) params[k] = scratchOffset!;
  }
  if (tile) params.tileCh = tile.tileCh;
  if (tile && CHUNKED_OPS.includes(op.kind)) params.inChunk = tile.inChunk;
  if (tile?.grouped) params.weightLayout = 1;
  const coding = op.channels?.coding;
  if (coding) params.weightCoding = CODING_IDS[coding.kind];
  const tail = op.tail?.map((v) => (typeof v === "number" ? v : tensorOffset((v as { tensor: number }).tensor)));
  const blobs = coding?.huffman ? { codeTable: coding.huffman.table } : undefined;
  return { kind: op.kind, params, tail, tiles: tile && encodeWeightTiles(op.channels!, tile), blobs };
}

/** A weighted op's tiles in the layout its tile shape names. */
function encodeWeightTiles(ch: ChannelWeights, tile: TileShape): Uint8Array {
  if (ch.sparse) return encodeSparseTiles(ch, tile.tileCh);
  if (ch.coding) return encodeCodedTiles(ch, tile.tileCh, ch.coding);
  return tile.grouped ? encodeGroupedTiles(ch, ch.grouped!, tile.tileCh) : encodeTiles(ch, tile.tileCh);
}

/** A patch stage as the metadata describes it: its ops, grid, and the MACs it computes again. */
function patchMeta(p: PatchStage, modelMacs: number): NonNullable<OpMeta["stage"]> {
  return {
    ops: p.subs.map((sub) => sub.kind), tfliteOps: p.subs.map((sub) => sub.source), rowsPerStep: 0,
    steps: p.regions.length, ringBytes: 0, overInput: false,
    patches: { grid: [p.grid.rows, p.grid.cols], extraMacs: p.extraMacs, overheadPercent: overheadPercent(p.extraMacs, modelMacs) },
  };
}

export function describe(g: Graph, lowered: Lowered, plan: Plan, file: string, bytes: Uint8Array): TlmMeta {
  const macs = lowered.ops.reduce((s, op) => s + (op.patchStage?.plainMacs ?? op.macs), 0);
  // Tensors become ready after the op that writes their root buffer; aliases ride along.
  const aliasesOf = (t: number) => [...lowered.aliases.keys()].filter((a) => rootOf(lowered.aliases, a) === t);
  const withAliases = (ts: number[]) => ts.flatMap((t) => [t, ...aliasesOf(t)]);
  const tensors = [...plan.tensorOffset.entries()].sort((a, b) => a[0] - b[0]).map(([index, offset]) => {
    const t = g.tensors[index];
    return { index, name: t.name, shape: t.shape, dtype: t.dtype, scale: t.scale, zeroPoint: t.zeroPoint, offset, bytes: tensorBytes(t) };
  });
  return {
    formatVersion: 1,
    source: { file: basename(file), sha256: createHash("sha256").update(bytes).digest("hex") },
    tensors,
    inputs: g.inputs,
    outputs: g.outputs,
    ops: lowered.ops.map((op, i) => ({
      kind: op.kind, source: op.source, sourceType: op.sourceType, macs: op.macs,
      stage: op.stage ? {
        ops: op.stage.subs.map((sub) => sub.kind), tfliteOps: op.stage.subs.map((sub) => sub.source),
        rowsPerStep: op.stage.grain.rowsPerStep, steps: op.stage.steps.length, ringBytes: op.stage.ringBytes, overInput: op.shift !== undefined,
      } : op.patchStage && patchMeta(op.patchStage, macs),
      weightBytes: (op.stage?.subs ?? op.patchStage?.subs ?? [op]).reduce((sum, o) => sum + (o.channels ? o.channels.weights.length + o.channels.outC * 4 : 0), 0), // weights and bias, as in the .tflite
      precision: op.channels ? (FP8_OPS.includes(op.kind) ? "fp8" : "int8") : undefined,
      storage: op.channels ? (op.channels.sparse ? "sparse" : op.channels.coding?.kind ?? "dense") : undefined,
      decodeInstructions: op.channels?.coding ? decodeInstructions(op.channels.coding, op.channels.weights.length) : undefined,
      weightLayout: plan.tiles.get(i)?.grouped ? "grouped" : undefined,
      tileCh: plan.tiles.get(i)?.tileCh, inChunk: plan.tiles.get(i)?.inChunk, inputs: op.reads, outputs: op.writes,
      readyAfter: withAliases(op.writes),
    })),
    readyBeforeOps: withAliases(g.inputs),
    plan: {
      arenaBytes: plan.arenaBytes, peakOp: plan.peakOp, timeline: plan.timeline,
      buffers: plan.buffers.map(({ id, offset, bytes, first, last }) => ({ id, offset, bytes, first, last })),
    },
    weightBytes: 0,
    tfliteWeightBytes: g.tensors.reduce((s, t) => s + (t.data ? t.data.length : 0), 0),
    macs,
  };
}

/** Precision a float model is compiled at: int8 weights, fp8 (E4M3) weights, or chosen per layer. */
export type Precision = "int8" | "fp8" | "auto";
export const PRECISIONS: readonly Precision[] = ["int8", "fp8", "auto"];

export interface QuantizeOptions extends CompileOptions {
  /** Weight precision of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (default int8); activations are int8. */
  precision?: Precision;
  /** With `auto`: the weight flash and arena it must fit (default: the int8 build's). */
  budget?: AutoBudget;
  /** Calibration samples (a float32 array per model input). */
  calibration?: Sample[];
  /** Without calibration: the range the generated inputs span (default [0, 1]). */
  inputRange?: [number, number];
  /** Told when generated calibration inputs are used. */
  warn?: (message: string) => void;
}

/**
 * Quantizes a float32 .tflite (post-training, calibrated; weights int8, fp8 or chosen per layer
 * by `auto`) and compiles it: the result takes and returns float32.
 */
export function compileFloatTflite(bytes: Uint8Array, file = "model.tflite", options: QuantizeOptions = {}): Compiled & { ptq: PtqResult; float: Graph; auto?: AutoReport } {
  const graph = importTflite(bytes, file);
  if (!isFloatGraph(graph)) throw new UnsupportedError(`${basename(file)} is not a float32 model; it needs no --precision`);
  let samples = options.calibration;
  if (!samples) {
    const range = options.inputRange ?? [0, 1];
    samples = defaultCalibration(graph, range);
    options.warn?.(`no --calibration given: calibrating ${basename(file)} on ${samples.length} generated smooth random inputs in [${range.join(", ")}]; ` +
      `the int8 ranges are only as good as that guess, so pass --calibration with real float32 inputs`);
  }
  const ranges = calibrate(graph, samples);
  const precision = options.precision ?? "int8";
  const results = new Map<Compiled, PtqResult>();
  const build = (fp8Ops: Set<number>): Compiled => {
    const ptq = quantizeGraph(graph, samples, { ranges, fp8Ops });
    const c = compileGraph(ptq.graph, file, bytes, options);
    results.set(c, ptq);
    return c;
  };
  const weighted = new Set(graph.ops.filter((op) => WEIGHTED_OPS.includes(op.type)).map((op) => op.index));
  if (precision !== "auto") {
    const c = withinBudget(build(precision === "fp8" ? weighted : new Set()), file, options);
    return { ...c, ptq: results.get(c)!, float: graph };
  }
  const { compiled, report } = chooseAuto(graph, samples, build, options.budget);
  // The choice travels in the .tlm's metadata, so `inspect` can show it later.
  const meta = { ...compiled.meta, auto: report };
  return { blob: rewriteMeta(compiled.blob, meta), meta, ptq: results.get(compiled)!, float: graph, auto: report };
}

export interface LoadOptions extends CompileOptions {
  /** Compile a float32 .tflite at this precision (required for float models). */
  precision?: Precision;
  /** With precision `auto`: the budget it must fit. */
  budget?: AutoBudget;
  /** Raw float32 input files to calibrate a float model on. */
  calibrationFiles?: string[];
  inputRange?: [number, number];
  warn?: (message: string) => void;
}

/** Loads a .tflite (compiled on the fly, quantized first if it is float32 and `precision` is given) or a .tlm from disk. */
export function loadModel(path: string, loadOptions: LoadOptions = {}): Compiled {
  const options: LoadOptions = { arena: "auto", ...loadOptions };
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new FormatError(`cannot read model ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (isTlm(bytes)) {
    if (options.precision) options.warn?.(`${basename(path)} is already compiled; --precision is ignored`);
    return { blob: bytes, meta: readTlm(bytes, path) };
  }
  if (options.precision) {
    const graph = importTflite(bytes, path);
    if (isFloatGraph(graph)) {
      const calibration = options.calibrationFiles?.length ? readCalibration(graph, options.calibrationFiles) : undefined;
      const { blob, meta } = compileFloatTflite(bytes, path, { ...options, calibration });
      return { blob, meta };
    }
    if (options.calibrationFiles?.length || options.inputRange) options.warn?.(`${basename(path)} is already quantized; calibration is ignored`);
  }
  return compileTflite(bytes, path, options);
}
