// Weight codings for --compress auto: run-length, zero-value and (canonical, length-limited)
// Huffman coding of a layer's int8 weights, decoded by the engine tile by tile
// (assembly/decode.ts; formats in "Weight codings", host/format/spec.ts). Per layer the compiler
// takes the smallest form; layers are coded, most flash saved per decode instruction first, while
// the decode work stays within a budget of the model's instructions.
import { HUFFMAN_MAX_BITS, WEIGHT_CODINGS } from "../format/spec.ts";
import type { Channels } from "../format/tlm.ts";
import type { Lowered, LoweredOp } from "./lower.ts";

export type Coding = "rle" | "zvc" | "huffman";
export const CODING_IDS: Record<Coding, number> = { rle: WEIGHT_CODINGS.RLE, zvc: WEIGHT_CODINGS.ZVC, huffman: WEIGHT_CODINGS.HUFFMAN };

/**
 * Engine instructions per decoded weight byte on qemu-m4, rounded up from measurements (every
 * CONV_2D and DEPTHWISE_CONV_2D of the IC and KWS models forced to one coding, per-op instructions
 * against raw tiles: RLE 4.6-4.8, ZVC 21.4-21.5, Huffman 32-47; docs/memory.md).
 */
export const DECODE_COST: Record<Coding, number> = { rle: 6, zvc: 23, huffman: 45 };
/** Instructions of a kernel per MAC, for estimating the model's instructions from its MACs. */
const INSTRUCTIONS_PER_MAC = 3;
/**
 * Decode work allowed by default (--decode-budget), in percent of the model's estimated
 * instructions: VWW's run-length layers (9.9 KB saved for ~0.28 M instructions) fit, the IC
 * model's one Huffman candidate (2.8 KB for ~1.7 M) does not.
 */
export const DECODE_BUDGET_PERCENT = 2;

/** A layer's chosen coding: its kind and (Huffman) code. */
export interface WeightCoding { kind: Coding; huffman?: HuffmanCode }

// ---- run-length: [zeros u8][literals u8][literal bytes] ----

export function encodeRle(w: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < w.length) {
    let zeros = 0;
    while (i < w.length && w[i] === 0 && zeros < 255) { zeros++; i++; }
    const start = i;
    // Literals up to the next run of 3+ zeros (a shorter run costs less as literals).
    while (i < w.length && i - start < 255 && !(w[i] === 0 && w[i + 1] === 0 && w[i + 2] === 0)) i++;
    out.push(zeros, i - start, ...w.subarray(start, i));
  }
  return Uint8Array.from(out);
}

// ---- zero-value: per 8 weights a bitmap byte, then the non-zero ones ----

export function encodeZvc(w: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < w.length; i += 8) {
    let map = 0;
    const values: number[] = [];
    for (let j = i; j < Math.min(w.length, i + 8); j++) if (w[j] !== 0) { map |= 1 << (j - i); values.push(w[j]); }
    out.push(map, ...values);
  }
  return Uint8Array.from(out);
}

// ---- Huffman ----

export interface HuffmanCode {
  /** Code length per byte value (0: absent). */
  lengths: Uint8Array;
  /** Canonical code per byte value. */
  codes: Uint32Array;
  /** The table the engine reads: HUFFMAN_MAX_BITS u16 counts, then the symbols in code order. */
  table: Uint8Array;
}

/** Huffman code lengths for byte counts, at most `limit` bits (longer codes shortened, Kraft sum restored). */
function codeLengths(counts: number[], limit: number): Uint8Array {
  const lengths = new Uint8Array(256);
  const present = counts.map((c, s) => ({ c, s })).filter((x) => x.c > 0);
  if (present.length === 1) { lengths[present[0].s] = 1; return lengths; }
  type Node = { c: number; syms: number[] };
  let nodes: Node[] = present.map((x) => ({ c: x.c, syms: [x.s] }));
  while (nodes.length > 1) {
    nodes.sort((a, b) => a.c - b.c || a.syms[0] - b.syms[0]);
    const [a, b] = nodes;
    for (const s of [...a.syms, ...b.syms]) lengths[s]++;
    nodes = [{ c: a.c + b.c, syms: [...a.syms, ...b.syms] }, ...nodes.slice(2)];
  }
  for (const x of present) lengths[x.s] = Math.min(lengths[x.s], limit);
  const kraft = () => present.reduce((k, x) => k + 2 ** -lengths[x.s], 0);
  // Over-full after clamping: lengthen the rarest codes that can still grow until it fits.
  const rarestFirst = [...present].sort((a, b) => a.c - b.c);
  while (kraft() > 1) {
    const x = rarestFirst.find((y) => lengths[y.s] < limit)!;
    lengths[x.s]++;
  }
  return lengths;
}

export function huffmanCode(w: Uint8Array): HuffmanCode {
  const counts = new Array<number>(256).fill(0);
  for (const b of w) counts[b]++;
  const lengths = codeLengths(counts, HUFFMAN_MAX_BITS);
  const order = [...lengths.keys()].filter((s) => lengths[s] > 0).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const codes = new Uint32Array(256);
  const perLength = new Array<number>(HUFFMAN_MAX_BITS + 1).fill(0);
  for (const s of order) perLength[lengths[s]]++;
  let code = 0, prev = 0;
  for (const s of order) {
    code <<= lengths[s] - prev;
    prev = lengths[s];
    codes[s] = code++;
  }
  const table = new Uint8Array(2 * HUFFMAN_MAX_BITS + order.length);
  for (let L = 1; L <= HUFFMAN_MAX_BITS; L++) new DataView(table.buffer).setUint16(2 * (L - 1), perLength[L], true);
  table.set(order, 2 * HUFFMAN_MAX_BITS);
  return { lengths, codes, table };
}

export function encodeHuffman(w: Uint8Array, code: HuffmanCode): Uint8Array {
  const out: number[] = [];
  let acc = 0, n = 0;
  for (const b of w) {
    const L = code.lengths[b];
    if (!L) throw new Error(`byte ${b} has no Huffman code`);
    acc = (acc << L) | code.codes[b];
    n += L;
    while (n >= 8) { out.push((acc >>> (n - 8)) & 0xff); n -= 8; }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out.push((acc << (8 - n)) & 0xff);
  return Uint8Array.from(out);
}

/** A layer's weight bytes coded as `coding` (its own Huffman code when none is given). */
export function encodeWeights(w: Uint8Array, coding: WeightCoding): Uint8Array {
  if (coding.kind === "rle") return encodeRle(w);
  if (coding.kind === "zvc") return encodeZvc(w);
  return encodeHuffman(w, coding.huffman ?? huffmanCode(w));
}

const bytesOf = (w: Int8Array) => new Uint8Array(w.buffer, w.byteOffset, w.length);

/** Tiles of `tileCh` channels: [u32 tile bytes][channel data][coded weights], each padded to 4 bytes. */
export function encodeCodedTiles(ch: Channels, tileCh: number, coding: WeightCoding): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let c0 = 0; c0 < ch.outC; c0 += tileCh) {
    const n = Math.min(tileCh, ch.outC - c0);
    const data = ch.channelData(c0, n);
    const coded = encodeWeights(bytesOf(ch.weights.subarray(c0 * ch.perChannel, (c0 + n) * ch.perChannel)), coding);
    const bytes = Math.ceil((4 + data.length + coded.length) / 4) * 4;
    const tile = new Uint8Array(bytes);
    new DataView(tile.buffer).setUint32(0, bytes, true);
    tile.set(data, 4);
    tile.set(coded, 4 + data.length);
    parts.push(tile);
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Estimated instructions decoding `coding` over `weightBytes` bytes costs per inference (each tile is read once). */
export function decodeInstructions(coding: WeightCoding, weightBytes: number): number {
  return DECODE_COST[coding.kind] * weightBytes;
}

/** Ops whose weights may be coded: int8 CONV_2D and DEPTHWISE_CONV_2D outside stages. */
function codable(op: LoweredOp): boolean {
  return (op.kind === "CONV_2D" || op.kind === "DEPTHWISE_CONV_2D") && !!op.channels && !op.channels.sparse;
}

/** The smallest coding of a layer's weights, and its size; undefined when raw is smallest. */
export function smallestCoding(w: Int8Array): { coding: WeightCoding; bytes: number } | undefined {
  const raw = bytesOf(w);
  const huffman = huffmanCode(raw);
  const options: { coding: WeightCoding; bytes: number }[] = [
    { coding: { kind: "rle" }, bytes: encodeRle(raw).length },
    { coding: { kind: "zvc" }, bytes: encodeZvc(raw).length },
    { coding: { kind: "huffman", huffman }, bytes: encodeHuffman(raw, huffman).length + huffman.table.length },
  ];
  const best = options.reduce((a, b) => (b.bytes < a.bytes ? b : a));
  return best.bytes < raw.length ? best : undefined;
}

/**
 * `lowered` with the layers worth coding coded: each codable layer's smallest coding, taken in
 * order of flash saved per decode instruction while the decode work stays within
 * DECODE_BUDGET_PERCENT of the model's estimated instructions. Returns the same list when nothing is coded.
 */
export function codeWeights(lowered: Lowered, budgetPercent = DECODE_BUDGET_PERCENT): Lowered {
  const macs = lowered.ops.reduce((s, op) => s + op.macs, 0);
  let budget = (macs * INSTRUCTIONS_PER_MAC * budgetPercent) / 100;
  const candidates = lowered.ops.flatMap((op, i) => {
    if (!codable(op)) return [];
    const best = smallestCoding(op.channels!.weights);
    if (!best) return [];
    const cost = decodeInstructions(best.coding, op.channels!.weights.length);
    return [{ i, ...best, saved: op.channels!.weights.length - best.bytes, cost }];
  });
  candidates.sort((a, b) => b.saved / b.cost - a.saved / a.cost);
  const chosen = new Map<number, WeightCoding>();
  for (const c of candidates) {
    if (c.cost > budget) continue;
    budget -= c.cost;
    chosen.set(c.i, c.coding);
  }
  if (!chosen.size) return lowered;
  return {
    ops: lowered.ops.map((op, i) => (chosen.has(i) ? { ...op, channels: { ...op.channels!, coding: chosen.get(i) } } : op)),
    aliases: lowered.aliases,
  };
}

/** `lowered` with every codable layer coded as `kind` (each its own Huffman code): for tests and measurements. */
export function forceCoding(lowered: Lowered, kind: Coding): Lowered {
  return {
    ops: lowered.ops.map((op) => {
      if (!codable(op)) return op;
      const coding: WeightCoding = kind === "huffman" ? { kind, huffman: huffmanCode(bytesOf(op.channels!.weights)) } : { kind };
      return { ...op, channels: { ...op.channels!, coding } };
    }),
    aliases: lowered.aliases,
  };
}
