// Row-streamed stages: patch-based inference with patches of full-width rows (MCUNetV2's idea,
// without recomputation). A run of spatial ops (convolutions, depthwise, pooling, ADD) is
// executed one output row at a time, pulling rows through the chain on demand, so the tensors
// between them live in rings of a few rows instead of whole. The stage's output may be written
// over its input as the input's rows are used up (in place, shifted by `delta` bytes). The host
// plans every step here; the engine only replays them (see "Stages" in host/format/spec.ts).
import type { Graph } from "../graph/graph.ts";
import type { Lowered, LoweredOp } from "./lower.ts";
import { align, tileShape, type TileShape, type PlacedPlan } from "./plan.ts";
import type { OpName } from "../format/spec.ts";
import type { EncodedOp, EncodedStage } from "../format/tlm.ts";

export const CONV_LIKE: readonly OpName[] = ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D_SPARSE", "AVERAGE_POOL_2D", "MAX_POOL_2D"];
const WEIGHTED: readonly OpName[] = ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D_SPARSE"];

/** Most ops one stage chains. */
export const MAX_STAGE_OPS = 6;

/** Row layout of an NHWC int8 tensor with batch 1. */
interface Rows { rows: number; rowBytes: number }

/** Where a stage keeps a tensor: whole (its planned buffer) or in a ring of `slots` rows (+ `dup` mirrored rows). */
export interface StageTensor extends Rows {
  ring?: { slots: number; dup: number; offset: number };
}

/** One step: a sub-op computing output rows [row, row + rows), or the copy of ring rows into their mirror slots. */
export type StageStep = { sub: number; row: number; rows: number } | { copyOf: number; row: number; rows: number };

/** How finely a stage streams: output rows per step, and the byte budget of its weight tile. */
export interface StageGrain { rowsPerStep: number; tileBytes: number }
export const FINEST: StageGrain = { rowsPerStep: 1, tileBytes: 2048 };

export interface Stage {
  /** The lowered ops the stage replaces, in order. */
  subs: LoweredOp[];
  tensors: Map<number, StageTensor>;
  steps: StageStep[];
  /** Each weighted sub's weight tile; the tiles share the scratch after the rings. */
  tiles: Map<number, TileShape>;
  ringBytes: number;
  scratchBytes: number;
  inputs: number[];
  outputs: number[];
  grain: StageGrain;
}

/** The input rows [lo, hi] that output rows [y, y + n) of `op` read (the same rows of each input). */
function window(op: LoweredOp, y: number, n = 1): [number, number] {
  const f = op.fields as Record<string, number>;
  if (op.kind === "ADD") return [y, y + n - 1];
  const first = y * f.strideH - f.padH, last = (y + n - 1) * f.strideH - f.padH + (f.kH - 1) * (f.dilH ?? 1);
  return [Math.max(0, first), Math.min(f.inH - 1, last)];
}

function rowsOf(g: Graph, t: number): Rows | undefined {
  const s = g.tensors[t].shape;
  if (s.length !== 4 || s[0] !== 1 || g.tensors[t].dtype !== "int8") return undefined;
  return { rows: s[1], rowBytes: s[2] * s[3] };
}

/** Whether `op` can run row by row: a spatial op on batch-1 NHWC int8 tensors (ADD: same shapes, no broadcast). */
export function streamable(g: Graph, op: LoweredOp): boolean {
  if (![...CONV_LIKE, "ADD"].includes(op.kind)) return false;
  if (![...op.reads, ...op.writes].every((t) => rowsOf(g, t))) return false;
  const f = op.fields as Record<string, number>;
  if (op.kind === "ADD") {
    const dense = [f.d1 * f.d2 * f.d3, f.d2 * f.d3, f.d3, 1];
    return f.d0 === 1 && [0, 1, 2, 3].every((i) => f[`s1_${i}`] === dense[i] && f[`s2_${i}`] === dense[i]);
  }
  const out = rowsOf(g, op.writes[0])!;
  for (let y = 0; y < out.rows; y++) { const [lo, hi] = window(op, y); if (hi < lo) return false; }
  return true;
}

/**
 * Builds the stage that runs `subs` (consecutive lowered ops, all streamable) row by row, or
 * undefined when it would not stream (a tensor aliased by a RESHAPE, or nothing to keep in a ring
 * or write in place). `readLater` says whether a tensor is read after the stage (or is a model output).
 */
export function buildStage(g: Graph, lowered: Lowered, subs: LoweredOp[], readLater: (t: number) => boolean, grain: StageGrain = FINEST): Stage | undefined {
  if (!subs.length || !subs.every((op) => streamable(g, op))) return undefined;
  const aliased = new Set([...lowered.aliases.keys(), ...lowered.aliases.values()]);
  const written = new Set(subs.flatMap((op) => op.writes));
  const touched = [...new Set(subs.flatMap((op) => [...op.reads, ...op.writes]))];
  if (touched.some((t) => aliased.has(t))) return undefined;
  const readInside = new Set(subs.flatMap((op) => op.reads));
  const inputs = touched.filter((t) => !written.has(t));
  const outputs = touched.filter((t) => written.has(t) && (readLater(t) || !readInside.has(t)));
  const producer = new Map(subs.map((op, j) => [op.writes[0], j]));
  const rowsOfT = (t: number) => rowsOf(g, t)!;

  // Demand-driven order: each stage output advances a few rows at a time (several outputs in
  // step), and rows are computed only once the input rows they read exist.
  const produced = new Map<number, number>();
  const steps: StageStep[] = [];
  const k = grain.rowsPerStep;
  const ensure = (t: number, row: number): void => {
    const j = producer.get(t);
    if (j === undefined) return;
    while ((produced.get(t) ?? 0) <= row) {
      const y = produced.get(t) ?? 0, n = Math.min(k, rowsOfT(t).rows - y);
      subs[j].reads.forEach((input) => ensure(input, window(subs[j], y, n)[1]));
      steps.push({ sub: j, row: y, rows: n });
      produced.set(t, y + n);
    }
  };
  const longest = Math.max(...outputs.map((t) => rowsOfT(t).rows));
  for (let i = 1; i <= longest; i++) {
    for (const t of outputs) ensure(t, Math.ceil((i * rowsOfT(t).rows) / longest) - 1);
  }

  // Ring sizes from each internal row's lifetime: row r's slot is reused by row r + slots,
  // which must be computed only after the last step reading row r. Steps write whole blocks of
  // k rows, so the ring holds a whole number of blocks and a block never wraps.
  const tensors = new Map<number, StageTensor>(touched.map((t) => [t, { ...rowsOfT(t) }]));
  let ringBytes = 0;
  for (const t of touched) {
    if (inputs.includes(t) || outputs.includes(t)) continue;
    const { rows, rowBytes } = rowsOfT(t);
    const producedAt = new Array<number>(rows).fill(-1), lastRead = new Array<number>(rows).fill(-1);
    let widest = 1;
    steps.forEach((s, i) => {
      if (!("sub" in s)) return;
      const op = subs[s.sub];
      if (op.writes[0] === t) for (let r = s.row; r < s.row + s.rows; r++) producedAt[r] = i;
      if (!op.reads.includes(t)) return;
      const [lo, hi] = window(op, s.row, s.rows);
      widest = Math.max(widest, hi - lo + 1);
      for (let r = lo; r <= hi; r++) lastRead[r] = i;
    });
    let slots = Math.ceil(widest / k) * k;
    while (slots < rows && !lastRead.every((u, r) => r + slots >= rows || producedAt[r + slots] > u)) slots += k;
    const dup = slots < rows ? widest - 1 : 0;
    const ring = { slots: Math.min(slots, rows), dup, offset: ringBytes };
    tensors.get(t)!.ring = ring;
    ringBytes += align((ring.slots + dup) * rowBytes);
  }
  if (ringBytes === 0 && subs.length > 1) return undefined;

  // Rows written into ring slots below `dup` are copied into their mirror slots at once, so any
  // window of rows is contiguous in the ring.
  const withCopies: StageStep[] = [];
  for (const s of steps) {
    withCopies.push(s);
    if (!("sub" in s)) continue;
    const out = subs[s.sub].writes[0], ring = tensors.get(out)!.ring;
    const slot = ring ? s.row % ring.slots : 0;
    if (ring && slot < ring.dup) withCopies.push({ copyOf: out, row: s.row, rows: Math.min(s.rows, ring.dup - slot) });
  }

  const { tiles, tileBytes } = stageTiles(subs, grain);
  return { subs, tensors, steps: withCopies, tiles, ringBytes, scratchBytes: ringBytes + tileBytes, inputs, outputs, grain };
}

/** The weight tile of each weighted sub (sharing one buffer), about grain.tileBytes each. */
export function stageTiles(subs: LoweredOp[], grain: StageGrain): { tiles: Map<number, TileShape>; tileBytes: number } {
  const tiles = new Map<number, TileShape>();
  let tileBytes = 0;
  subs.forEach((op, j) => {
    if (!WEIGHTED.includes(op.kind) || !op.channels) return;
    // Whole blocks of 4 channels, what the kernels block over (a remainder takes the slow loop).
    const perChannel = tileShape(op, 0).bytes, fit = Math.floor(Math.max(grain.tileBytes, 0) / perChannel);
    const channels = Math.min(op.channels.outC, Math.max(4, fit >= op.channels.outC ? fit : fit - (fit % 4)));
    const tile = tileShape(op, channels * perChannel);
    tiles.set(j, tile);
    tileBytes = Math.max(tileBytes, align(tile.bytes));
  });
  return { tiles, tileBytes };
}

/**
 * The least `delta` (bytes, multiple of 4) such that `output`, placed `delta` bytes below
 * `input`, never overwrites input rows a later step (or the writing step itself) still reads.
 * An ADD reading the input row at the same position it writes may overlap it exactly: it
 * reads each element before writing the one at the same address.
 */
export function inPlaceDelta(stage: Stage, input: number, output: number): number {
  const X = stage.tensors.get(input)!, Y = stage.tensors.get(output)!;
  const reads: { step: number; lo: number; hi: number; sameRowAdd: boolean }[] = [];
  const writes: { step: number; row: number }[] = [];
  stage.steps.forEach((s, i) => {
    if (!("sub" in s)) return;
    const op = stage.subs[s.sub];
    if (op.writes[0] === output) writes.push({ step: i, row: s.row + s.rows - 1 });
    if (op.reads.includes(input)) {
      const [lo, hi] = window(op, s.row, s.rows);
      reads.push({ step: i, lo, hi, sameRowAdd: op.kind === "ADD" && op.writes[0] === output && X.rowBytes === Y.rowBytes });
    }
  });
  // Lowest input row read at or after each step.
  const laterLow = new Array<number>(stage.steps.length + 1).fill(Infinity);
  const lowAt = new Array<number>(stage.steps.length).fill(Infinity);
  for (const r of reads) if (!r.sameRowAdd) lowAt[r.step] = Math.min(lowAt[r.step], r.lo);
  for (let i = stage.steps.length - 1; i >= 0; i--) laterLow[i] = Math.min(laterLow[i + 1], lowAt[i]);
  let delta = 0;
  for (const w of writes) {
    const end = (w.row + 1) * Y.rowBytes;
    const sameRow = reads.find((r) => r.step === w.step && r.sameRowAdd);
    if (sameRow) delta = Math.max(delta, end - (sameRow.hi + 1) * X.rowBytes);
    // Steps after this one read from laterLow[step + 1]; this step's other reads from lowAt.
    const low = Math.min(laterLow[w.step + 1], lowAt[w.step]);
    if (low !== Infinity) delta = Math.max(delta, end - low * X.rowBytes);
  }
  return align(delta);
}

/** The STAGE op that replaces `stage.subs` in the op list; `shift` writes an output over a dying input. */
export function stageOp(stage: Stage, shift?: { input: number; output: number; delta: number }): LoweredOp {
  return {
    kind: "STAGE", source: stage.subs[0].source, sourceType: `STAGE(${stage.subs.map((op) => op.sourceType).join("+")})`,
    fields: {}, reads: stage.inputs, writes: stage.outputs, macs: stage.subs.reduce((s, op) => s + op.macs, 0),
    stage, scratchBytes: stage.scratchBytes, shift,
  };
}

/** Encodes one lowered op given where its tensors, scratch and tile are: `encode` is compile.ts's. */
export type OpEncoder = (op: LoweredOp, tensorOffset: (t: number) => number, scratchOffset: number | undefined, tile: TileShape | undefined) => EncodedOp;

/** The STAGE record's content: its subs (plus a COPY for ring mirrors) and every step's patches. */
export function encodeStageSteps(stage: Stage, tensorOffset: (t: number) => number, scratchOffset: number, encode: OpEncoder): EncodedStage {
  const place = (t: number) => {
    const ring = stage.tensors.get(t)!.ring;
    return ring ? scratchOffset + ring.offset : tensorOffset(t);
  };
  const at = (t: number, row: number) => {
    const { ring, rowBytes } = stage.tensors.get(t)!;
    return place(t) + (ring ? row % ring.slots : row) * rowBytes;
  };
  const tileBuf = scratchOffset + stage.ringBytes;
  const subs = stage.subs.map((op, j) => encode(op, place, tileBuf, stage.tiles.get(j)));
  const copy = subs.length;
  subs.push({ kind: "COPY", params: { input: tileBuf, output: tileBuf, bytes: 0 } });
  const steps = stage.steps.map((s) => {
    if (!("sub" in s)) {
      const { ring, rowBytes } = stage.tensors.get(s.copyOf)!;
      const slot = s.row % ring!.slots;
      const patches: [string, number][] = [["input", at(s.copyOf, s.row)], ["output", place(s.copyOf) + (ring!.slots + slot) * rowBytes], ["bytes", s.rows * rowBytes]];
      return { sub: copy, patches };
    }
    const op = stage.subs[s.sub], out = op.writes[0];
    if (op.kind === "ADD") {
      const patches: [string, number][] = [["input1", at(op.reads[0], s.row)], ["input2", at(op.reads[1], s.row)], ["output", at(out, s.row)], ["d1", s.rows]];
      return { sub: s.sub, patches };
    }
    const f = op.fields as Record<string, number>;
    const [lo, hi] = window(op, s.row, s.rows);
    const patches: [string, number][] = [
      ["input", at(op.reads[0], lo)], ["inH", hi - lo + 1], ["padH", lo - (s.row * f.strideH - f.padH)],
      ["output", at(out, s.row)], ["outH", s.rows],
    ];
    return { sub: s.sub, patches };
  });
  return { subs, steps };
}

/** What an op list costs: its arena, the op where it peaks, and the highest byte in use during each op. */
export type ArenaOf = (lowered: Lowered) => Pick<PlacedPlan, "arenaBytes" | "peakOp" | "highWater">;

/**
 * Replaces runs of ops by stages while that shrinks the arena: greedily, each round trying every
 * run of up to MAX_STAGE_OPS ops through the op where the arena currently peaks, as one stage or
 * split into two back-to-back stages (one long stage can need more rings than two short ones).
 * A round keeps the candidate with the least memory during the ops it replaces (not the least
 * arena overall: the next round lowers the next peak), provided the arena does not grow. Stops
 * early once the arena is `enough` (an arena budget: stages cost instructions).
 */
export function chooseStages(g: Graph, lowered: Lowered, arenaOf: ArenaOf, enough = 0): Lowered {
  let current = lowered, best = arenaOf(lowered);
  for (;;) {
    if (best.arenaBytes <= enough) return current; // within the budget: no more stages than needed
    let found: (ReturnType<ArenaOf> & { lowered: Lowered; local: number }) | undefined;
    const peakEnd = best.highWater[best.peakOp];
    for (const ranges of candidateRanges(best.peakOp, current.ops.length)) {
      let candidate: Lowered | undefined = current;
      for (const [a, b] of ranges) candidate = candidate && withStage(g, candidate, a, b); // right to left: indices hold
      if (!candidate) continue;
      let cost;
      try { cost = arenaOf(candidate); } catch { continue; } // a link the planner cannot honour
      const a = ranges[ranges.length - 1][0], b = a + candidate.ops.length - current.ops.length + (ranges[0][1] - a);
      const local = Math.max(...cost.highWater.slice(a, b + 1));
      if (local >= peakEnd || cost.arenaBytes > best.arenaBytes) continue;
      if (!found || local < found.local || (local === found.local && cost.arenaBytes < found.arenaBytes)) found = { lowered: candidate, local, ...cost };
    }
    if (!found) return current;
    current = found.lowered;
    best = found;
  }
}

/** Runs [a, b] through op `peak`, whole or split at m into [a, m] and [m + 1, b] (listed right to left). */
function* candidateRanges(peak: number, n: number): Generator<[number, number][]> {
  for (let a = Math.max(0, peak - MAX_STAGE_OPS + 1); a <= peak; a++) {
    for (let b = peak; b < Math.min(n, a + MAX_STAGE_OPS); b++) {
      yield [[a, b]];
      for (let m = a; m < b; m++) yield [[m + 1, b], [a, m]];
    }
  }
}

/** `lowered` with ops a..b run as one stage, writing over its input where that saves bytes; undefined if they cannot be. */
export function withStage(g: Graph, lowered: Lowered, a: number, b: number, grain: StageGrain = FINEST): Lowered | undefined {
  const ops = lowered.ops;
  if (ops.slice(a, b + 1).some((op) => op.stage)) return undefined;
  const readLater = (t: number) => g.outputs.includes(t) || ops.slice(b + 1).some((op) => op.reads.includes(t));
  const stage = buildStage(g, lowered, ops.slice(a, b + 1), readLater, grain);
  if (!stage) return undefined;
  let shift: { input: number; output: number; delta: number } | undefined, saved = 0;
  for (const x of stage.inputs) {
    if (readLater(x)) continue;
    for (const y of stage.outputs) {
      const delta = inPlaceDelta(stage, x, y);
      const bx = align(stage.tensors.get(x)!.rows * stage.tensors.get(x)!.rowBytes);
      const by = align(stage.tensors.get(y)!.rows * stage.tensors.get(y)!.rowBytes);
      const saving = bx + by - Math.max(delta + bx, by);
      if (saving > saved) { saved = saving; shift = { input: x, output: y, delta }; }
    }
  }
  if (!shift && stage.ringBytes === 0) return undefined; // nothing to gain
  return { ops: [...ops.slice(0, a), stageOp(stage, shift), ...ops.slice(b + 1)], aliases: lowered.aliases };
}

/**
 * Coarsens each stage (more rows per step, bigger weight tiles: fewer kernel calls and weight
 * reads) as far as the arena stays within `arenaBytes`: speed at no cost in memory.
 */
export function coarsenStages(g: Graph, lowered: Lowered, arenaOf: ArenaOf, arenaBytes: number): Lowered {
  let current = lowered;
  for (let i = 0; i < current.ops.length; i++) {
    const stage = current.ops[i].stage;
    if (!stage) continue;
    const plain: Lowered = { ops: [...current.ops.slice(0, i), ...stage.subs, ...current.ops.slice(i + 1)], aliases: current.aliases };
    const rows = Math.max(...stage.outputs.map((t) => stage.tensors.get(t)!.rows));
    const grains: StageGrain[] = [];
    for (let k = 1; k < rows * 2; k *= 2) for (const tileBytes of [FINEST.tileBytes, 8192, Infinity]) grains.push({ rowsPerStep: Math.min(k, rows), tileBytes });
    for (const grain of grains.reverse()) { // coarsest first
      const candidate = withStage(g, plain, i, i + stage.subs.length - 1, grain);
      if (!candidate) continue;
      let cost;
      try { cost = arenaOf(candidate); } catch { continue; }
      if (cost.arenaBytes <= arenaBytes) { current = candidate; break; }
    }
  }
  return current;
}
