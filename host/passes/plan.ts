// The static memory plan: every activation and scratch buffer gets a fixed arena
// offset for the whole run. Buffers whose lifetimes overlap never overlap in
// memory; RESHAPE outputs alias their input; an op that allows it writes its
// output over an input that dies there. Placement is first-fit (lowest free
// offset) in several orders — largest first as in TFLM's greedy planner,
// execution order, and others — keeping whichever gives the smallest arena.
import { type Graph, tensorBytes } from "../graph/graph.ts";
import { sparseTileBytes, sparseBlockBytes } from "../format/tlm.ts";
import type { Lowered, LoweredOp } from "./lower.ts";
import { CHUNKED_OPS } from "../format/spec.ts";

const ALIGN = 4;
export const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export interface Buffer {
  id: string; // "t<index>" for a tensor group (its root), "s<op>" for an op's scratch
  bytes: number;
  first: number; // first op index (in lowered order) at which it is live
  last: number; // last op index at which it is live
  offset: number;
}

export interface Plan {
  buffers: Buffer[];
  /** Arena offset of every activation tensor (aliases included). */
  tensorOffset: Map<number, number>;
  /** Arena offset and size of each op's scratch (weight tile) buffer. */
  scratch: Map<number, { offset: number; bytes: number }>;
  /** The weight tile of each weighted op. */
  tiles: Map<number, TileShape>;
  arenaBytes: number;
  /** The op at which the arena's highest byte is in use. */
  peakOp: number;
  /** Bytes live during each op. */
  timeline: number[];
}

/** A plan the planner placed itself: it also knows the highest arena byte in use during each op. */
export interface PlacedPlan extends Plan {
  highWater: number[];
}

export interface PlanOptions {
  /** Weight tiles start at no less than this many bytes (default: the least that works). */
  minTileBytes?: number;
  /** Arena the build may use: weight tiles grow up to it (fewer, longer kernel calls), not only under the smallest peak. */
  arenaBudget?: number;
}

/**
 * How a weighted op streams its weights: `tileCh` channels at a time, or (FC) one channel in
 * `inChunk`-byte pieces; `grouped` (FC): in groups of four channels, a group in `inChunk`-input pieces.
 */
export interface TileShape { tileCh: number; inChunk: number; bytes: number; grouped?: boolean }

/** Output channels the convolution kernels compute together (register blocking). */
const BLOCK_CHANNELS = 4;

/** Channels per group of a grouped fully connected op (assembly/kernels/int8/fully_connected_grouped.ts). */
export const GROUP_CHANNELS = 4;

/** Smallest weight piece a chunked fully connected op reads at once. */
const MIN_CHUNK = 32;

/** Follows RESHAPE aliases to the tensor that owns the bytes. */
export function rootOf(aliases: Map<number, number>, t: number): number {
  while (aliases.has(t)) t = aliases.get(t)!;
  return t;
}

/** The tile a byte budget buys: whole channels when one fits, else (fully connected only) a chunk of one. */
export function tileShape(op: LoweredOp, budget: number): TileShape {
  const ch = op.channels!;
  if (ch.sparse) return sparseTileShape(op, budget);
  if (ch.grouped) {
    const grouped = groupedTileShape(op, budget);
    if (grouped) return grouped;
  }
  const perChannel = ch.channelBytes + ch.perChannel;
  if (CHUNKED_OPS.includes(op.kind) && budget < perChannel) {
    const overhead = ch.channelBytes + 4 * (op.fields.batches as number);
    const inChunk = Math.max(MIN_CHUNK, Math.floor((budget - overhead) / 4) * 4);
    if (inChunk < ch.perChannel) return { tileCh: 1, inChunk, bytes: overhead + inChunk };
  }
  let tileCh = Math.max(1, Math.min(ch.outC, Math.floor(budget / perChannel)));
  // Whole blocks of the kernels' register blocking: a tile of 5 would run its fifth channel alone, slower.
  if (tileCh > BLOCK_CHANNELS && tileCh < ch.outC) tileCh -= tileCh % BLOCK_CHANNELS;
  return { tileCh, inChunk: ch.perChannel, bytes: tileCh * perChannel };
}

/** Inputs a grouped fully connected op reads at least at once (below that, channel rows are cheaper). */
const MIN_GROUP_CHUNK = 16;

/**
 * Fully connected in groups of four channels (weightLayout 1): whole groups when one fits the
 * budget, else one group in pieces of inChunk inputs; undefined when not even MIN_GROUP_CHUNK fit.
 */
function groupedTileShape(op: LoweredOp, budget: number): TileShape | undefined {
  const ch = op.channels!;
  const perChannel = ch.channelBytes + ch.perChannel;
  const groups = Math.floor(budget / (GROUP_CHANNELS * perChannel));
  if (groups >= 1) {
    const tileCh = Math.min(ch.outC, groups * GROUP_CHANNELS);
    return { tileCh, inChunk: ch.perChannel, bytes: tileCh * perChannel, grouped: true };
  }
  const overhead = GROUP_CHANNELS * (ch.channelBytes + 4); // channel data and an i32 sum per channel
  const inChunk = Math.floor((budget - overhead) / (4 * GROUP_CHANNELS)) * 4;
  if (inChunk < MIN_GROUP_CHUNK) return undefined;
  return { tileCh: GROUP_CHANNELS, inChunk, bytes: overhead + GROUP_CHANNELS * inChunk, grouped: true };
}

/** Sparse tiles vary in length: the most channels per tile whose longest tile fits the budget. */
const sparseBlocks = new WeakMap<LoweredOp, number[]>();
function sparseTileShape(op: LoweredOp, budget: number): TileShape {
  const ch = op.channels!;
  if (!sparseBlocks.has(op)) sparseBlocks.set(op, Array.from({ length: ch.outC }, (_, c) => sparseBlockBytes(ch, c)));
  const blocks = sparseBlocks.get(op)!;
  const longest = (n: number) => Math.max(...sparseTileBytes(ch, n, blocks));
  let lo = 1, hi = ch.outC;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (longest(mid) <= budget) lo = mid; else hi = mid - 1;
  }
  return { tileCh: lo, inChunk: ch.perChannel, bytes: longest(lo) };
}

/** Largest tile a weighted op can have: every channel at once. */
function wholeLayerBytes(op: LoweredOp): number {
  const ch = op.channels!;
  return ch.sparse ? tileShape(op, Infinity).bytes : ch.outC * (ch.channelBytes + ch.perChannel);
}

/** Each weighted op's smallest weight tile budget. */
function floorBudgets(lowered: Lowered, options: PlanOptions): Map<number, number> {
  const budget = new Map<number, number>();
  lowered.ops.forEach((op, i) => {
    if (!op.channels) return;
    // Convolutions start at BLOCK_CHANNELS channels per tile, what their kernels block over;
    // fully connected layers start at their smallest chunk (their weights are used once).
    const floor = CHUNKED_OPS.includes(op.kind) ? 0 : tileShape(op, 0).bytes * Math.min(BLOCK_CHANNELS, op.channels.outC);
    budget.set(i, Math.max(options.minTileBytes ?? 0, floor));
  });
  return budget;
}

/** The plan with every weight tile at its smallest: a quick lower bound on the arena for comparing op lists. */
export function planSmallestTiles(g: Graph, lowered: Lowered, options: PlanOptions = {}): PlacedPlan {
  return place(g, lowered, new Map([...floorBudgets(lowered, options)].map(([i, b]) => [i, tileShape(lowered.ops[i], b)])));
}

export function planMemory(g: Graph, lowered: Lowered, options: PlanOptions = {}): PlacedPlan {
  const budget = floorBudgets(lowered, options);
  const shapes = () => new Map([...budget].map(([i, b]) => [i, tileShape(lowered.ops[i], b)]));
  let best = place(g, lowered, shapes());
  // Grow each op's weight tile as far as it fits under the peak set by everything else:
  // bigger tiles mean fewer reads and longer inner loops, at no cost in memory.
  for (const [i] of budget) {
    const op = lowered.ops[i];
    let lo = tileShape(op, budget.get(i)!).bytes, hi = wholeLayerBytes(op);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      budget.set(i, mid);
      const trial = place(g, lowered, shapes());
      if (trial.arenaBytes <= Math.max(best.arenaBytes, options.arenaBudget ?? 0)) { lo = mid; best = trial; } else hi = mid - 1;
    }
    budget.set(i, lo);
  }
  return place(g, lowered, shapes());
}

type Order = (a: Buffer, b: Buffer) => number;
const PLACEMENT_ORDERS: Order[] = [
  (a, b) => b.bytes - a.bytes || a.first - b.first, // largest first (TFLM's greedy planner)
  (a, b) => a.first - b.first || b.bytes - a.bytes, // in execution order
  (a, b) => b.bytes * (b.last - b.first + 1) - a.bytes * (a.last - a.first + 1) || b.bytes - a.bytes, // most byte-ops first
  (a, b) => b.last - b.first - (a.last - a.first) || b.bytes - a.bytes, // longest-lived first
];

/** `lower` sits `delta` bytes below `upper` (a stage writing its output over its input). */
export interface Link { upper: string; lower: string; delta: number }

/** Buffers placed together at fixed distances (linked), each member with its own lifetime. */
interface Unit { members: { buffer: Buffer; rel: number }[]; key: Buffer }

function unitsOf(buffers: Buffer[], links: Link[]): Unit[] {
  const rel = new Map<string, number>(), unitOf = new Map<string, Buffer[]>();
  const byId = new Map(buffers.map((b) => [b.id, b]));
  for (const b of buffers) {
    if (rel.has(b.id)) continue;
    // Walk the links from b, giving each reached buffer its offset relative to b.
    rel.set(b.id, 0);
    const group = [b], queue = [b.id];
    while (queue.length) {
      const id = queue.pop()!;
      for (const l of links) {
        const [other, at] = l.upper === id ? [l.lower, rel.get(id)! - l.delta] : l.lower === id ? [l.upper, rel.get(id)! + l.delta] : [undefined, 0];
        if (other === undefined) continue;
        if (rel.has(other)) {
          if (rel.get(other) !== at) throw new Error(`inconsistent in-place links around buffer ${other}`);
          continue;
        }
        rel.set(other, at); group.push(byId.get(other)!); queue.push(other);
      }
    }
    unitOf.set(b.id, group);
  }
  return [...unitOf.values()].map((group) => {
    const low = Math.min(...group.map((m) => rel.get(m.id)!));
    const members = group.map((buffer) => ({ buffer, rel: rel.get(buffer.id)! - low }));
    const key: Buffer = {
      id: group[0].id, offset: -1,
      bytes: Math.max(...members.map((m) => m.rel + m.buffer.bytes)),
      first: Math.min(...group.map((m) => m.first)), last: Math.max(...group.map((m) => m.last)),
    };
    return { members, key };
  });
}

/** First-fit: each unit at the lowest offset where no member overlaps a placed buffer live at the same time. */
function placeInOrder(order: Unit[]): number {
  const placed: Buffer[] = [];
  let end = 0;
  for (const unit of order) {
    const clashes = unit.members.map(({ buffer: b }) => placed.filter((p) => p.first <= b.last && b.first <= p.last));
    const fits = (at: number) => unit.members.every(({ buffer: b, rel }, k) =>
      clashes[k].every((p) => at + rel + b.bytes <= p.offset || p.offset + p.bytes <= at + rel));
    let offset = 0;
    if (!fits(0)) {
      const candidates = unit.members.flatMap(({ rel }, k) => clashes[k].map((p) => p.offset + p.bytes - rel)).filter((c) => c > 0).sort((a, b) => a - b);
      offset = candidates.find(fits)!;
    }
    for (const { buffer, rel } of unit.members) {
      buffer.offset = offset + rel;
      placed.push(buffer);
      end = Math.max(end, buffer.offset + buffer.bytes);
    }
  }
  return end;
}

/** Sets every buffer's offset (first-fit in several orders, keeping the smallest); returns the arena end. */
export function placeBuffers(buffers: Buffer[], links: Link[] = []): number {
  const units = unitsOf(buffers, links);
  let bestEnd = Infinity, bestOffsets: number[] = [];
  for (const order of PLACEMENT_ORDERS) {
    const end = placeInOrder([...units].sort((a, b) => order(a.key, b.key)));
    if (end < bestEnd) { bestEnd = end; bestOffsets = buffers.map((b) => b.offset); }
  }
  buffers.forEach((b, i) => { b.offset = bestOffsets[i]; });
  return buffers.length ? bestEnd : 0;
}

/** Bytes covered by the union of the buffers' ranges. */
function coveredBytes(buffers: Buffer[]): number {
  let covered = 0, reach = 0;
  for (const b of [...buffers].sort((x, y) => x.offset - y.offset)) {
    const start = Math.max(b.offset, reach), end = b.offset + b.bytes;
    if (end > start) { covered += end - start; reach = end; }
  }
  return covered;
}

function place(g: Graph, lowered: Lowered, tiles: Map<number, TileShape>): PlacedPlan {
  const n = lowered.ops.length;
  const groupOf = new Map<number, number>(); // tensor -> group root
  const union = (a: number, b: number) => groupOf.set(find(b), find(a));
  const find = (t: number): number => {
    let r = t;
    while (groupOf.has(r) && groupOf.get(r) !== r) r = groupOf.get(r)!;
    return r;
  };
  for (const [out, inp] of lowered.aliases) union(inp, out);

  // Lifetimes of tensor groups.
  const first = new Map<number, number>(), last = new Map<number, number>();
  const use = (t: number, i: number) => {
    const r = find(t);
    first.set(r, Math.min(first.get(r) ?? i, i));
    last.set(r, Math.max(last.get(r) ?? i, i));
  };
  for (const t of g.inputs) use(t, 0);
  lowered.ops.forEach((op, i) => { op.reads.forEach((t) => use(t, i)); op.writes.forEach((t) => use(t, i)); });
  for (const t of g.outputs) use(t, Math.max(n - 1, 0));

  // In place: the output takes over an input whose group dies at this op.
  const pinned = new Set([...g.inputs, ...g.outputs].map(find));
  lowered.ops.forEach((op, i) => {
    if (op.inPlaceInput === undefined) return;
    const inRoot = find(op.inPlaceInput), outRoot = find(op.writes[0]);
    if (inRoot === outRoot || pinned.has(inRoot) || pinned.has(outRoot)) return;
    if (last.get(inRoot) !== i || first.get(outRoot) !== i) return;
    if (tensorBytes(g.tensors[inRoot]) !== tensorBytes(g.tensors[outRoot])) return;
    union(inRoot, outRoot);
    first.set(inRoot, first.get(inRoot)!);
    last.set(inRoot, Math.max(last.get(inRoot)!, last.get(outRoot)!));
    first.delete(outRoot); last.delete(outRoot);
  });

  const buffers: Buffer[] = [];
  for (const [root, f] of first) {
    buffers.push({ id: `t${root}`, bytes: align(tensorBytes(g.tensors[root])), first: f, last: last.get(root)!, offset: -1 });
  }
  for (const [i, tile] of tiles) {
    buffers.push({ id: `s${i}`, bytes: align(tile.bytes), first: i, last: i, offset: -1 });
  }
  lowered.ops.forEach((op, i) => {
    if (op.scratchBytes) buffers.push({ id: `s${i}`, bytes: align(op.scratchBytes), first: i, last: i, offset: -1 });
  });

  // A stage writing over its input: the output's buffer sits `delta` below the input's.
  const links: Link[] = [];
  lowered.ops.forEach((op, i) => {
    if (!op.shift) return;
    const x = find(op.shift.input), y = find(op.shift.output);
    if (x === y || last.get(x) !== i || first.get(y) !== i || g.outputs.some((t) => find(t) === x)) {
      throw new Error(`op ${i} cannot write tensor ${op.shift.output} over tensor ${op.shift.input}`);
    }
    links.push({ upper: `t${x}`, lower: `t${y}`, delta: op.shift.delta });
  });
  placeBuffers(buffers, links);

  const tensorOffset = new Map<number, number>();
  const byId = new Map(buffers.map((b) => [b.id, b]));
  const allTensors = new Set<number>([...g.inputs, ...g.outputs, ...lowered.aliases.keys()]);
  lowered.ops.forEach((op) => [...op.reads, ...op.writes].forEach((t) => allTensors.add(t)));
  for (const t of allTensors) tensorOffset.set(t, byId.get(`t${find(t)}`)!.offset);
  const scratch = new Map<number, { offset: number; bytes: number }>();
  for (const b of buffers) if (b.id.startsWith("s")) scratch.set(Number(b.id.slice(1)), { offset: b.offset, bytes: b.bytes });

  const arenaBytes = buffers.reduce((m, b) => Math.max(m, b.offset + b.bytes), 0);
  const timeline: number[] = [], highWater: number[] = [];
  let peakOp = 0;
  for (let i = 0; i < Math.max(n, 1); i++) {
    const live = buffers.filter((b) => b.first <= i && i <= b.last);
    timeline.push(coveredBytes(live)); // buffers written over one another count once
    highWater.push(live.reduce((m, b) => Math.max(m, b.offset + b.bytes), 0));
    if (highWater[i] > highWater[peakOp]) peakOp = i;
  }
  return { buffers, tensorOffset, scratch, tiles, arenaBytes, peakOp, timeline, highWater };
}
