// Writes and reads .tlm model blobs: [header][op records][weight tiles][metadata JSON].
// The engine reads the header, records and tiles; the JSON is for the host only
// (names, shapes, quantization and the plan, for inspect, run --dump and hil).
import {
  TLM_MAGIC, TLM_VERSION, HEADER_FIELDS, HEADER_BYTES, MAX_IO, MAX_RECORD_BYTES, MAX_STAGE_PATCHES, CHANNEL_DATA_BYTES,
  OPCODES, OP_RECORD, RECORDS, fp8ChannelDataBytes, TRAIN_OVERLAY_WORDS, type OpName,
} from "./spec.ts";
import type { AutoReport } from "../passes/auto-precision.ts";
import type { TrainingMeta } from "../train/compile-training.ts";

/** Host-side description carried in the blob. */
export interface TlmMeta {
  formatVersion: number;
  source: { file: string; sha256: string };
  tensors: TensorMeta[];
  inputs: number[];
  outputs: number[];
  ops: OpMeta[];
  /** Tensors whose bytes are ready before the first op (model inputs and their aliases). */
  readyBeforeOps: number[];
  /** withoutStages: the plan one op at a time (--patch off) when stages (--patch auto) made the arena smaller. */
  /** smallestArenaBytes: the smallest arena, when the plan was given more (--arena-budget auto). */
  plan: { arenaBytes: number; peakOp: number; timeline: number[]; buffers: PlanBuffer[]; withoutStages?: WithoutStages; smallestArenaBytes?: number };
  weightBytes: number; // weight bytes as stored in the blob (tiles incl. channel data)
  tfliteWeightBytes: number; // constant tensor bytes in the source model
  macs: number;
  /** `--precision auto`: the per-layer choice and the figures it rests on. */
  auto?: AutoReport;
  /** Present in a training .tlm. */
  training?: TrainingMeta;
}
/** The arena and bytes live after each op of the plain op list (whose ops come from `tfliteOps`). */
export interface WithoutStages { arenaBytes: number; timeline: number[]; tfliteOps: number[] }
/** One planned arena buffer: a tensor (or a group sharing bytes) or an op's weight tile. */
export interface PlanBuffer { id: string; offset: number; bytes: number; first: number; last: number }

export interface TensorMeta {
  index: number; name: string; shape: number[]; dtype: string; scale: number[]; zeroPoint: number[];
  offset: number; bytes: number;
}
export interface OpMeta {
  kind: OpName; source: number; sourceType: string; macs: number; weightBytes: number; tileCh?: number; inChunk?: number;
  /** Weighted ops: bytes of its weight section in the blob (flash on a board), and the weights' precision. */
  flashBytes?: number;
  precision?: "int8" | "fp8";
  /** How the weights are stored: dense tiles, or sparse blocks of the non-zero weights (--compress auto). */
  storage?: "dense" | "sparse" | "rle" | "zvc" | "huffman";
  /** Coded weights: the engine's estimated decode instructions per inference (weight bytes x DECODE_COST). */
  decodeInstructions?: number;
  /** Fully connected weights in groups of four channels (weightLayout 1 in spec.ts); absent: channel rows. */
  weightLayout?: "grouped";
  inputs: number[]; outputs: number[];
  /** Tensors whose final bytes are ready once this op has run (its outputs and their aliases). */
  readyAfter: number[];
  /** A STAGE: the ops it runs row by row (their kinds and TFLite op indices), and how. */
  stage?: {
    ops: string[]; tfliteOps: number[]; rowsPerStep: number; steps: number; ringBytes: number; overInput: boolean;
    /** A 2-D patch stage (rowsPerStep 0, steps = patches): its grid and the MACs it computes again. */
    patches?: { grid: [number, number]; extraMacs: number; overheadPercent: number };
  };
}

/** One op ready to encode: its record words and its weight tiles. */
export interface EncodedOp {
  kind: OpName;
  params: Record<string, number>; // every field of the op's params struct, except `weights` and `blobs` fields
  tail?: number[];
  tiles?: Uint8Array; // weight section; `weights` is set to its blob offset
  /** Training records: `weights` is the blob offset of this inference op's tiles instead. */
  weightsFrom?: number;
  /** Other constant data the record points at (field name -> bytes), e.g. a layer's weight scales. */
  blobs?: Record<string, Uint8Array>;
  /** STAGE: its sub-ops (records stored in the blob) and the steps that replay them. */
  stage?: EncodedStage;
}

/** A STAGE's content (see "Stages" in spec.ts): step k runs subs[steps[k].sub] with its words patched. */
export interface EncodedStage {
  subs: EncodedOp[];
  steps: { sub: number; patches: [field: string, value: number][] }[];
}

/** The training part of a training .tlm (see "Training" in spec.ts). */
export interface TrainSection {
  ops: EncodedOp[];
  stateBytes: number;
  /** Arena copies of blob ranges: `bytes` bytes at byte `start` of inference op `op`'s tiles. */
  overlays: { op: number; start: number; bytes: number; arenaOffset: number }[];
}

export function writeTlm(ops: EncodedOp[], arenaBytes: number, io: { inputs: [number, number][]; outputs: [number, number][] }, meta: TlmMeta, train?: TrainSection): Uint8Array {
  if (io.inputs.length > MAX_IO || io.outputs.length > MAX_IO) throw new Error(`tinyloop supports at most ${MAX_IO} inputs and ${MAX_IO} outputs`);
  const trainOps = train?.ops ?? [];
  const recordBytesOf = (list: EncodedOp[]) => list.map((op) => 8 + 4 * (RECORDS[OP_RECORD[op.kind]].length + (op.tail?.length ?? 0)));
  const recordBytes = recordBytesOf(ops), trainRecordBytes = recordBytesOf(trainOps);
  const maxRecord = Math.max(0, ...recordBytes, ...trainRecordBytes);
  if (maxRecord > MAX_RECORD_BYTES) throw new Error(`an op record needs ${maxRecord} bytes; the engine holds ${MAX_RECORD_BYTES}`);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const opsOffset = HEADER_BYTES, opsBytes = sum(recordBytes);
  const trainOpsOffset = train ? opsOffset + opsBytes : 0, trainOpsBytes = sum(trainRecordBytes);
  let cursor = opsOffset + opsBytes + trainOpsBytes;
  const place = (bytes: Uint8Array) => { const at = cursor; cursor += Math.ceil(bytes.length / 4) * 4; return at; };
  const weightOffsets = ops.map((op) => (op.tiles ? place(op.tiles) : 0));
  const stageChunks = ops.map((op) => (op.stage ? encodeStage(op.stage, place) : undefined));
  const placeBlobs = (op: EncodedOp): Record<string, number> => Object.fromEntries(Object.entries(op.blobs ?? {}).map(([f, b]) => [f, place(b)]));
  const opBlobOffsets = ops.map(placeBlobs);
  const blobOffsets = trainOps.map(placeBlobs);
  const overlays = train?.overlays ?? [];
  const overlayOffset = train ? cursor : 0;
  cursor += overlays.length * 4 * TRAIN_OVERLAY_WORDS;
  const metaOffset = cursor;
  meta.weightBytes = ops.reduce((s, op) => s + weightSectionBytes(op), 0);
  const metaJson = new TextEncoder().encode(JSON.stringify(meta));
  const blob = new Uint8Array(metaOffset + metaJson.length);
  const dv = new DataView(blob.buffer);

  const header: Record<(typeof HEADER_FIELDS)[number], number> = {
    magic: TLM_MAGIC, version: TLM_VERSION, blobBytes: blob.length, arenaBytes, opCount: ops.length,
    opsOffset, opsBytes, metaOffset, metaBytes: metaJson.length, maxRecordBytes: maxRecord,
    numInputs: io.inputs.length, numOutputs: io.outputs.length,
    trainOpsOffset, trainOpsBytes, trainOpCount: trainOps.length, trainStateBytes: train?.stateBytes ?? 0,
    overlayOffset, overlayCount: overlays.length,
  };
  HEADER_FIELDS.forEach((f, i) => dv.setUint32(4 * i, header[f] >>> 0, true));
  [...io.inputs, ...io.outputs].forEach(([offset, bytes], i) => {
    dv.setUint32(4 * HEADER_FIELDS.length + 8 * i, offset, true);
    dv.setUint32(4 * HEADER_FIELDS.length + 8 * i + 4, bytes, true);
  });

  const writeRecords = (list: EncodedOp[], sizes: number[], at: number, fieldOffset: (i: number, f: string) => number | undefined) => {
    list.forEach((op, i) => {
      recordWords(op, (f) => fieldOffset(i, f)).forEach((w, k) => dv.setInt32(at + 4 * k, w | 0, true));
      at += sizes[i];
    });
  };
  writeRecords(ops, recordBytes, opsOffset, (i, f) => (f === "weights" ? weightOffsets[i] : stageChunks[i]?.fields[f] ?? opBlobOffsets[i][f]));
  writeRecords(trainOps, trainRecordBytes, trainOpsOffset, (i, f) => {
    if (f === "weights" && trainOps[i].weightsFrom !== undefined) return weightOffsets[trainOps[i].weightsFrom!];
    return blobOffsets[i][f];
  });
  ops.forEach((op, i) => { if (op.tiles) blob.set(op.tiles, weightOffsets[i]); });
  for (const chunk of stageChunks) chunk?.chunks.forEach(([at, bytes]) => blob.set(bytes, at));
  const writeBlobs = (list: EncodedOp[], offsets: Record<string, number>[]) =>
    list.forEach((op, i) => Object.entries(op.blobs ?? {}).forEach(([f, b]) => blob.set(b, offsets[i][f])));
  writeBlobs(ops, opBlobOffsets);
  writeBlobs(trainOps, blobOffsets);
  overlays.forEach((o, i) => {
    const tiles = ops[o.op]?.tiles;
    if (!tiles || o.start < 0 || o.start + o.bytes > tiles.length) throw new Error(`overlay ${i} lies outside op ${o.op}'s weights`);
    const at = overlayOffset + 4 * TRAIN_OVERLAY_WORDS * i;
    dv.setUint32(at, weightOffsets[o.op] + o.start, true);
    dv.setUint32(at + 4, o.bytes, true);
    dv.setUint32(at + 8, o.arenaOffset, true);
  });
  blob.set(metaJson, metaOffset);
  return blob;
}

/** Bytes of an op's weight tiles in the blob: its own, or a stage's sub-ops'. */
export function weightSectionBytes(op: EncodedOp): number {
  const blobs = Object.values(op.blobs ?? {}).reduce((s, b) => s + b.length, 0); // a Huffman code table
  return (op.tiles?.length ?? 0) + blobs + (op.stage?.subs.reduce((s, sub) => s + weightSectionBytes(sub), 0) ?? 0);
}

/** Words of one op record: opcode, byte length, its params in spec order (`fieldOffset` may supply some), then its tail. */
function recordWords(op: EncodedOp, fieldOffset: (f: string) => number | undefined): number[] {
  const words = RECORDS[OP_RECORD[op.kind]].map((f) => {
    const v = fieldOffset(f) ?? op.params[f];
    if (v === undefined || !Number.isInteger(v)) throw new Error(`${op.kind} record field ${f} has no integer value (${v})`);
    return v;
  });
  const all = [...words, ...(op.tail ?? [])];
  return [OPCODES[op.kind], 8 + 4 * all.length, ...all];
}

const wordBytes = (words: number[]) => new Uint8Array(Int32Array.from(words, (w) => w | 0).buffer);

/**
 * Lays out a stage in the blob through `place` (which returns a blob offset): its subs' weight
 * tiles, its sub-records, then its steps. Returns the stage record's fields and the bytes to copy.
 */
function encodeStage(stage: EncodedStage, place: (bytes: Uint8Array) => number): { fields: Record<string, number>; chunks: [number, Uint8Array][] } {
  const chunks: [number, Uint8Array][] = [];
  const put = (bytes: Uint8Array) => { const at = place(bytes); chunks.push([at, bytes]); return at; };
  const subOffsets = stage.subs.map((sub) => {
    if (sub.kind === "STAGE") throw new Error("a stage cannot contain a stage");
    const weights = sub.tiles ? put(sub.tiles) : undefined;
    const words = recordWords(sub, (f) => (f === "weights" ? weights : undefined));
    if (words[1] > MAX_RECORD_BYTES) throw new Error(`a stage's ${sub.kind} record needs ${words[1]} bytes; the engine holds ${MAX_RECORD_BYTES}`);
    return put(wordBytes(words));
  });
  // The engine keeps a sub-record's patched words while consecutive steps run it, so a step
  // stores only the words that differ from what the step before left.
  const steps: number[] = [];
  let current: Map<number, number> | undefined, currentSub = -1;
  for (const step of stage.steps) {
    const sub = stage.subs[step.sub];
    const fields = RECORDS[OP_RECORD[sub.kind]] as readonly string[];
    if (step.sub !== currentSub) { current = new Map(); currentSub = step.sub; }
    const changed: [number, number][] = [];
    for (const [field, value] of step.patches) {
      const word = fields.indexOf(field);
      if (word < 0) throw new Error(`${sub.kind} has no field ${field}`);
      if (current!.get(word) !== value) changed.push([word, value]);
      current!.set(word, value);
    }
    if (changed.length > MAX_STAGE_PATCHES) throw new Error(`a stage step patches ${changed.length} words; at most ${MAX_STAGE_PATCHES}`);
    steps.push(subOffsets[step.sub], changed.length, ...changed.flat());
  }
  const stepBytes = wordBytes(steps);
  return { fields: { steps: put(stepBytes), stepCount: stage.steps.length, stepBytes: stepBytes.length }, chunks };
}

/** A weighted op's weights, [outC][perChannel] bytes, and the channel data its tiles carry. */
export interface Channels {
  outC: number;
  perChannel: number; // weight bytes per output channel
  weights: Int8Array;
  /** Channel data bytes per channel, stored ahead of a tile's weights. */
  channelBytes: number;
  /** The channel data of channels [c0, c0 + n) as a tile stores it. */
  channelData(c0: number, n: number): Uint8Array;
}

/** int8 ops' channel data: [bias i32, multiplier i32, shift i32] per channel. */
export function int8ChannelData(bias: Int32Array, multiplier: Int32Array, shift: Int32Array): Pick<Channels, "channelBytes" | "channelData"> {
  return {
    channelBytes: CHANNEL_DATA_BYTES,
    channelData(c0, n) {
      const out = new Uint8Array(n * CHANNEL_DATA_BYTES);
      const dv = new DataView(out.buffer);
      for (let j = 0; j < n; j++) {
        dv.setInt32(j * CHANNEL_DATA_BYTES, bias[c0 + j], true);
        dv.setInt32(j * CHANNEL_DATA_BYTES + 4, multiplier[c0 + j], true);
        dv.setInt32(j * CHANNEL_DATA_BYTES + 8, shift[c0 + j], true);
      }
      return out;
    },
  };
}

/** fp8 ops' channel data: [bias f32] x n, then [weight scale f32] x n when `scales` is per channel. */
export function fp8ChannelData(bias: Float32Array, scales: Float32Array | undefined): Pick<Channels, "channelBytes" | "channelData"> {
  return {
    channelBytes: fp8ChannelDataBytes(scales ? 1 : 0),
    channelData(c0, n) {
      const parts = scales ? [bias.subarray(c0, c0 + n), scales.subarray(c0, c0 + n)] : [bias.subarray(c0, c0 + n)];
      const out = new Float32Array(parts.length * n);
      parts.forEach((p, k) => out.set(p, k * n));
      return new Uint8Array(out.buffer);
    },
  };
}

/** Lays out a weighted op's tiles: per tile, the channel data of its n channels, then their weights. */
export function encodeTiles(ch: Channels, tileCh: number): Uint8Array {
  return layTiles(ch, tileCh, ch, (c0, n) => {
    const w = ch.weights.subarray(c0 * ch.perChannel, (c0 + n) * ch.perChannel);
    return new Uint8Array(w.buffer, w.byteOffset, w.length);
  });
}

/**
 * Lays out a fully connected op's tiles in groups of four channels (weightLayout 1): per tile, the
 * grouped channel data of its n channels (n a multiple of 4), then per group, for each input k,
 * the word [w0[k] ^ 0x80, w1[k], w2[k] ^ 0x80, w3[k]].
 */
export function encodeGroupedTiles(ch: Channels, grouped: Pick<Channels, "channelData">, tileCh: number): Uint8Array {
  const k = ch.perChannel;
  if (ch.outC % 4 !== 0 || tileCh % 4 !== 0) throw new Error(`grouped tiles need multiples of 4 channels (outC ${ch.outC}, tileCh ${tileCh})`);
  return layTiles(ch, tileCh, grouped, (c0, n) => {
    const out = new Uint8Array(n * k);
    let at = 0;
    for (let g = c0; g < c0 + n; g += 4) {
      for (let i = 0; i < k; i++) {
        for (let lane = 0; lane < 4; lane++) {
          const w = ch.weights[(g + lane) * k + i] & 0xff;
          out[at++] = lane % 2 === 0 ? w ^ 0x80 : w;
        }
      }
    }
    return out;
  });
}

/** Tiles of tileCh channels, each its channels' data then the bytes `weights` gives for them. */
function layTiles(ch: Channels, tileCh: number, data: Pick<Channels, "channelData">, weights: (c0: number, n: number) => Uint8Array): Uint8Array {
  const out = new Uint8Array(ch.outC * (ch.channelBytes + ch.perChannel));
  let at = 0;
  for (let c0 = 0; c0 < ch.outC; c0 += tileCh) {
    const n = Math.min(tileCh, ch.outC - c0);
    for (const part of [data.channelData(c0, n), weights(c0, n)]) {
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}

/** Bytes of channel c's sparse block: u16 nnz, nnz u16 indices, nnz i8 weights, pad to even. */
export function sparseBlockBytes(ch: Pick<Channels, "weights" | "perChannel">, c: number): number {
  let nnz = 0;
  for (let k = 0; k < ch.perChannel; k++) if (ch.weights[c * ch.perChannel + k] !== 0) nnz++;
  return 2 + 3 * nnz + (nnz & 1);
}

/** Byte length of each sparse tile of `tileCh` channels (length word included). */
export function sparseTileBytes(ch: Channels, tileCh: number, blockBytes = Array.from({ length: ch.outC }, (_, c) => sparseBlockBytes(ch, c))): number[] {
  const out: number[] = [];
  for (let c0 = 0; c0 < ch.outC; c0 += tileCh) {
    const n = Math.min(tileCh, ch.outC - c0);
    out.push(4 + n * ch.channelBytes + blockBytes.slice(c0, c0 + n).reduce((a, b) => a + b, 0));
  }
  return out;
}

/** Lays out a sparse op's tiles: [u32 length][channel data x n][per-channel sparse blocks]. */
export function encodeSparseTiles(ch: Channels, tileCh: number): Uint8Array {
  const sizes = sparseTileBytes(ch, tileCh);
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const dv = new DataView(out.buffer);
  let at = 0;
  sizes.forEach((bytes, t) => {
    const c0 = t * tileCh, n = Math.min(tileCh, ch.outC - c0);
    dv.setUint32(at, bytes, true);
    at += 4;
    const data = ch.channelData(c0, n);
    out.set(data, at);
    at += data.length;
    for (let j = 0; j < n; j++) {
      const w = ch.weights.subarray((c0 + j) * ch.perChannel, (c0 + j + 1) * ch.perChannel);
      const nz = [...w.keys()].filter((k) => w[k] !== 0);
      dv.setUint16(at, nz.length, true);
      nz.forEach((k, i) => dv.setUint16(at + 2 + 2 * i, k, true));
      nz.forEach((k, i) => dv.setInt8(at + 2 + 2 * nz.length + i, w[k]));
      at += 2 + 3 * nz.length + (nz.length & 1);
    }
  });
  return out;
}

/** The blob with its metadata JSON replaced (the engine's part is unchanged). */
export function rewriteMeta(blob: Uint8Array, meta: TlmMeta): Uint8Array {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const field = (f: (typeof HEADER_FIELDS)[number]) => 4 * HEADER_FIELDS.indexOf(f);
  const metaOffset = dv.getUint32(field("metaOffset"), true);
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const out = new Uint8Array(metaOffset + json.length);
  out.set(blob.subarray(0, metaOffset));
  out.set(json, metaOffset);
  const odv = new DataView(out.buffer);
  odv.setUint32(field("blobBytes"), out.length, true);
  odv.setUint32(field("metaBytes"), json.length, true);
  return out;
}

export class TlmFormatError extends Error {}

export function isTlm(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) === TLM_MAGIC;
}

/** Checks a .tlm's header and returns its metadata. */
export function readTlm(blob: Uint8Array, what = "model"): TlmMeta {
  if (blob.length < HEADER_BYTES) throw new TlmFormatError(`${what}: ${blob.length} bytes is too short for a .tlm file`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = (f: (typeof HEADER_FIELDS)[number]) => dv.getUint32(4 * HEADER_FIELDS.indexOf(f), true);
  if (h("magic") !== TLM_MAGIC) throw new TlmFormatError(`${what}: not a .tlm file (bad magic)`);
  if (h("version") !== TLM_VERSION) throw new TlmFormatError(`${what}: .tlm version ${h("version")}, this tinyloop reads ${TLM_VERSION}; recompile the model`);
  if (h("blobBytes") !== blob.length) throw new TlmFormatError(`${what}: header says ${h("blobBytes")} bytes but the file has ${blob.length}; it is truncated or corrupt`);
  const end = h("metaOffset") + h("metaBytes");
  if (end > blob.length || h("opsOffset") + h("opsBytes") > blob.length) throw new TlmFormatError(`${what}: sections run past the end of the file`);
  try {
    return JSON.parse(new TextDecoder().decode(blob.subarray(h("metaOffset"), end))) as TlmMeta;
  } catch (e) {
    throw new TlmFormatError(`${what}: metadata is not valid JSON (${(e as Error).message}); the file is corrupt`);
  }
}
