// The training compiler: from an int8 TFLite model and an update scheme to a training
// .tlm (see "Training" in host/format/spec.ts). It prunes the backward pass to what the
// scheme needs (errors flow only as far back as the earliest trained layer), orders each
// layer's work so its update is applied as soon as its gradient is known (operator
// reordering: no gradient tensor is ever held), and plans one arena for forward, backward
// and the persistent training state, so the step's peak memory is known before anything runs.
import { basename } from "node:path";
import { importTflite } from "../import/tflite.ts";
import { type Graph, elementCount, tensorBytes } from "../graph/graph.ts";
import { firstFloatTensor } from "../float/interpreter.ts";
import { lower, UnsupportedError, type Lowered, type LoweredOp } from "../passes/lower.ts";
import { align, placeBuffers, rootOf, tileShape, type Buffer, type Plan, type TileShape } from "../passes/plan.ts";
import { CHANNEL_DATA_BYTES, ERROR_HEADER_BYTES, TRAIN_OVERLAY_WORDS, type OpName } from "../format/spec.ts";
import { overlayBytes, overlayRanges, tilesFor, type OverlayLayout } from "./overlay-layout.ts";
import { encodeTiles, writeTlm, type EncodedOp, type TrainSection } from "../format/tlm.ts";
import { describe } from "../compile.ts";
import { f32Bits } from "../util/f32-bits.ts";
import { layerUpdates, describeScheme, type Scheme, type LayerUpdate } from "./scheme.ts";

export { UnsupportedError };

/** Host-side description of a training .tlm (meta.training). */
export interface TrainingMeta {
  scheme: string;
  precision: TrainPrecision;
  /** Planned arena for one training step, persistent state included: the training peak. */
  arenaBytes: number;
  stateBytes: number;
  classes: number;
  layers: TrainedLayer[];
}

/** One weighted layer and what training does to it (its overlay: see overlay-layout.ts). */
export interface TrainedLayer extends OverlayLayout {
  layer: number; // weighted-layer number (scheme numbering)
  op: number; // index in the inference op list
  source: number; // TFLite op index
  kind: OpName;
  trainChannels: number;
  /** Arena offsets of the master block and the velocities (-1: none). */
  master: number;
  velocity: number;
}

export interface CompiledTraining { blob: Uint8Array; training: TrainingMeta }

/** int8: f32 errors, int8 saved activations (QAS). fp8: hybrid, E5M2 errors and E4M3 saved activations. */
export const TRAIN_PRECISIONS = ["int8", "fp8"] as const;
export type TrainPrecision = (typeof TRAIN_PRECISIONS)[number];

export interface TrainingOptions {
  /** How errors and saved activations are stored (default int8). */
  precision?: TrainPrecision;
  momentum?: boolean;
  /** Learning-rate factor of the classifier, the last weighted layer (default 1). */
  headLr?: number;
}

type Field = number | { buf: string };
interface Rec { kind: OpName; fields: Record<string, Field>; tail?: Field[]; weightsFrom?: number; blobs?: Record<string, Uint8Array>; uses: string[] }

export function compileTrainingTflite(bytes: Uint8Array, file: string, scheme: Scheme, options: TrainingOptions = {}): CompiledTraining {
  return compileTraining(importTflite(bytes, file), file, bytes, scheme, options);
}

export function compileTraining(g: Graph, file: string, bytes: Uint8Array, scheme: Scheme, options: TrainingOptions = {}): CompiledTraining {
  const float = firstFloatTensor(g);
  if (float) throw new UnsupportedError(`${basename(file)} is a float32 model; training runs on int8 models (quantize it first, e.g. with a float32-to-int8 converter, and train the int8 .tflite)`);
  const lowered = lower(g);
  // Trained layers change their weights: every layer is stored dense so it can be overlaid.
  for (const op of lowered.ops) if (op.kind === "CONV_2D_SPARSE") { op.kind = "CONV_2D"; op.channels!.sparse = false; }
  const root = (t: number) => rootOf(lowered.aliases, t);
  const ops = lowered.ops;

  const weighted = ops.map((op, i) => (op.channels ? i : -1)).filter((i) => i >= 0);
  if (!weighted.length) throw new UnsupportedError(`${basename(file)} has no CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer to train`);
  const updates = new Map<number, LayerUpdate>();
  layerUpdates(scheme, weighted.map((i) => ops[i].channels!.outC)).forEach((u, l) => updates.set(weighted[l], u));
  // A layer without a bias tensor trains no bias: there would be nothing to write back to the .tflite.
  for (const [i, u] of updates) if (!(g.ops[ops[i].source].inputs[2] >= 0)) u.trainBias = false;
  const trains = (i: number) => { const u = updates.get(i); return !!u && (u.trainChannels > 0 || u.trainBias); };

  const tiles = new Map<number, TileShape>();
  for (const i of weighted) tiles.set(i, trainingTile(ops[i]));

  // The loss reads the logits: the input of a final SOFTMAX, else the model's output.
  const last = ops[ops.length - 1];
  const finalSoftmax = last.kind === "SOFTMAX" && g.outputs.includes(last.writes[0]);
  const logits = root(finalSoftmax ? last.reads[0] : g.outputs[0]);
  const logitsTensor = g.tensors[logits];
  if (logitsTensor.dtype !== "int8") throw new UnsupportedError(`the logits tensor "${logitsTensor.name}" is ${logitsTensor.dtype}; training needs int8 logits`);

  // Error at a tensor is needed when a trained layer lies upstream of it.
  const upstream = new Set<number>();
  ops.forEach((op, i) => {
    if (trains(i) || op.reads.some((t) => upstream.has(root(t)))) op.writes.forEach((t) => upstream.add(root(t)));
  });
  if (!upstream.has(logits)) throw new UnsupportedError(`scheme ${describeScheme(scheme)} trains nothing the loss depends on`);

  const fp8 = options.precision === "fp8";
  const recs: Rec[] = [];
  /** Bytes of the backward records' tile, scale and gradient buffers. */
  const scratchBytes = new Map<string, number>();
  let scratchId = 0;
  /** A new f32 scratch buffer of n elements (hybrid fp8's temporaries). */
  const f32Scratch = (n: number): { buf: string } => {
    const id = `bf${scratchId++}`;
    scratchBytes.set(id, 4 * n);
    return { buf: id };
  };
  const tensorBuf = (t: number) => `t${root(t)}`;
  const resolve = (op: LoweredOp, rec: number): Record<string, Field> => {
    const f: Record<string, Field> = {};
    for (const [k, v] of Object.entries(op.fields)) {
      if (typeof v === "number") f[k] = v;
      else if ("tensor" in v) f[k] = { buf: tensorBuf(v.tensor) };
      else if ("scratch" in v) f[k] = { buf: `s${rec}` };
    }
    return f;
  };

  // Hybrid fp8: the inputs of layers whose weights train are kept as E4M3 copies, made as soon as they exist.
  const saved = new Set<number>();
  if (fp8) for (const [i, u] of updates) if (u.trainChannels > 0) saved.add(root(ops[i].reads[0]));
  const save = (t: number) => {
    if (!saved.has(root(t))) return;
    const tensor = g.tensors[root(t)];
    recs.push({ kind: "TRAIN_SAVE_E4M3", fields: { input: { buf: tensorBuf(t) }, count: elementCount(tensor.shape), zeroPoint: tensor.zeroPoint[0] ?? 0, output: { buf: `x${root(t)}` } }, uses: [tensorBuf(t), `x${root(t)}`] });
  };
  g.inputs.forEach(save);

  // Forward, with a mask after each clamping op the backward pass goes through.
  const forwardRec: number[] = [];
  const masked = new Set<number>();
  ops.forEach((op, i) => {
    const fields = resolve(op, recs.length);
    const tile = tiles.get(i);
    if (tile) { fields.tileCh = tile.tileCh; if (op.kind === "FULLY_CONNECTED") fields.inChunk = tile.inChunk; }
    const tail = op.tail?.map((v): Field => (typeof v === "number" ? v : { buf: tensorBuf((v as { tensor: number }).tensor) }));
    forwardRec.push(recs.length);
    recs.push({ kind: op.kind, fields, tail, weightsFrom: op.channels ? i : undefined, uses: [...op.reads.map(tensorBuf), ...op.writes.map(tensorBuf), ...(tile ? [`s${recs.length}`] : [])] });
    const out = op.writes[0];
    // A fused activation masks the gradient where it clamped (its bound may well be -128, when the output's
    // zero point is). Plain int8 saturation does not: a saturated logit must still be pushed back.
    const clamps = typeof op.fields.actMin === "number" && (g.ops[op.source].options.activation ?? "NONE") !== "NONE";
    if (clamps && upstream.has(root(out)) && !(finalSoftmax && op === last)) {
      masked.add(i);
      const count = elementCount(g.tensors[out].shape);
      recs.push({ kind: "TRAIN_MASK", fields: { input: { buf: tensorBuf(out) }, count, actMin: op.fields.actMin as number, actMax: op.fields.actMax as number, mask: { buf: `m${i}` } }, uses: [tensorBuf(out), `m${i}`] });
    }
    op.writes.forEach(save);
  });

  const classes = elementCount(logitsTensor.shape);
  const lossGrad = fp8 ? f32Scratch(classes) : { buf: `e${logits}` };
  recs.push({
    kind: "TRAIN_LOSS",
    fields: { logits: { buf: `t${logits}` }, count: classes, scaleBits: f32Bits(logitsTensor.scale[0]), zeroPoint: logitsTensor.zeroPoint[0], grad: lossGrad },
    uses: [`t${logits}`, lossGrad.buf],
  });
  if (fp8) recs.push({ kind: "TRAIN_ENCODE_E5M2", fields: { src: lossGrad, dst: { buf: `e${logits}` }, count: classes }, uses: [lossGrad.buf, `e${logits}`] });
  const hasError = new Set<number>([logits]);
  /** The error buffer of tensor t, zeroed by its first writer (an E5M2 one is zeroed whole: exponent and codes). */
  const errorOf = (t: number): { buf: string } => {
    const r = root(t);
    if (!hasError.has(r)) {
      hasError.add(r);
      const n = elementCount(g.tensors[r].shape);
      recs.push({ kind: "TRAIN_ZERO", fields: { grad: { buf: `e${r}` }, count: fp8 ? align(errorBytes(n)) / 4 : n }, uses: [`e${r}`] });
    }
    return { buf: `e${r}` };
  };
  /**
   * Where a backward record accumulates the error of tensor t: its f32 error buffer, or, in hybrid fp8,
   * an f32 buffer holding the E5M2 error so far (zeroed for the first writer), which `finish` encodes back.
   */
  const accumulateInto = (t: number): { acc: { buf: string }; finish: () => void } => {
    if (!fp8) return { acc: errorOf(t), finish: () => {} };
    const r = root(t), n = elementCount(g.tensors[r].shape);
    const acc = f32Scratch(n), err = { buf: `e${r}` };
    if (hasError.has(r)) recs.push({ kind: "TRAIN_DECODE_E5M2", fields: { src: err, dst: acc, count: n }, uses: [err.buf, acc.buf] });
    else { hasError.add(r); recs.push({ kind: "TRAIN_ZERO", fields: { grad: acc, count: n }, uses: [acc.buf] }); }
    return { acc, finish: () => recs.push({ kind: "TRAIN_ENCODE_E5M2", fields: { src: acc, dst: err, count: n }, uses: [acc.buf, err.buf] }) };
  };

  const layers: TrainedLayer[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i];
    const out = root(op.writes[0]);
    if (finalSoftmax && op === last) continue;
    if (!upstream.has(out) || !hasError.has(out)) continue;
    const gradOut = { buf: `e${out}` };
    const count = elementCount(g.tensors[out].shape);
    if (masked.has(i)) recs.push({ kind: fp8 ? "TRAIN_MASK_APPLY_E5M2" : "TRAIN_MASK_APPLY", fields: { grad: gradOut, mask: { buf: `m${i}` }, count }, uses: [`e${out}`, `m${i}`] });
    const needs = (t: number) => upstream.has(root(t));
    const where = `op ${op.source} (${op.sourceType})`;
    switch (op.kind) {
      case "CONV_2D": case "DEPTHWISE_CONV_2D": case "FULLY_CONNECTED": {
        const input = op.reads[0];
        const into = needs(input) ? accumulateInto(input) : undefined;
        const gradIn = into?.acc ?? -1;
        const u = updates.get(i) ?? { trainChannels: 0, trainBias: false };
        // The classifier (the last weighted layer) may take larger steps: it maps the features onto new classes.
        const head = i === weighted[weighted.length - 1] ? options.headLr ?? 1 : 1;
        const r = recs.length;
        const ch = op.channels!;
        const tile = tiles.get(i)!;
        const layer: TrainedLayer = {
          layer: weighted.indexOf(i), op: i, source: op.source, kind: op.kind, outC: ch.outC, perChannel: ch.perChannel, tileCh: tile.tileCh,
          trainChannels: u.trainChannels, trainBias: u.trainBias, overlay: -1, overlayTiles: tilesFor(u.trainChannels, tile.tileCh),
          master: -1, velocity: -1,
        };
        if (trains(i)) layers.push(layer);
        const fields: Record<string, Field> = {
          ...resolve(op, forwardRec[i]), tileCh: tile.tileCh, tileBuf: { buf: `bt${r}` },
          gradOut, gradIn, inputScaleBits: f32Bits(g.tensors[input].scale[0]),
          scaleBuf: { buf: `bs${r}` }, gradBuf: { buf: `bg${r}` },
          // Filled in once the state is laid out (below).
          master: trains(i) ? { buf: `master${i}` } : -1, overlay: trains(i) ? { buf: `overlay${i}` } : -1,
          velocity: trains(i) && options.momentum ? { buf: `velocity${i}` } : -1, overlayTiles: layer.overlayTiles,
          trainChannels: u.trainChannels, trainBias: u.trainBias ? 1 : 0,
          weightLrScaleBits: f32Bits(inputLrScale(g, input) * head), biasLrScaleBits: f32Bits(head), fp8: fp8 ? 1 : 0,
        };
        if (op.kind === "FULLY_CONNECTED") fields.inChunk = tile.inChunk;
        const uses = [`e${out}`, `bt${r}`, `bs${r}`, `bg${r}`];
        if (gradIn !== -1) uses.push(gradIn.buf);
        if (u.trainChannels > 0) {
          // the weight gradient reads the forward input: the int8 tensor, or its E4M3 copy
          if (fp8) fields.input = { buf: `x${root(input)}` };
          uses.push((fields.input as { buf: string }).buf);
        }
        const kind: OpName = op.kind === "CONV_2D" ? "TRAIN_CONV_2D" : op.kind === "DEPTHWISE_CONV_2D" ? "TRAIN_DEPTHWISE_CONV_2D" : "TRAIN_FULLY_CONNECTED";
        recs.push({ kind, fields, weightsFrom: i, blobs: { wScales: weightScales(g, op) }, uses });
        into?.finish();
        scratchBytes.set(`bt${r}`, tile.bytes);
        scratchBytes.set(`bs${r}`, 4 * ch.outC);
        scratchBytes.set(`bg${r}`, 4 * ch.perChannel);
        break;
      }
      case "ADD": {
        for (const t of [op.fields.input1, op.fields.input2] as { tensor: number }[]) {
          if (!needs(t.tensor)) continue;
          if (elementCount(g.tensors[t.tensor].shape) !== count) throw new UnsupportedError(`${where}: training through a broadcasting ADD is not supported`);
          const dst = errorOf(t.tensor);
          recs.push({ kind: fp8 ? "TRAIN_ACCUMULATE_E5M2" : "TRAIN_ACCUMULATE", fields: { dst, src: gradOut, count }, uses: [dst.buf, `e${out}`] });
        }
        break;
      }
      case "REQUANTIZE": case "COPY": {
        const input = op.reads[0];
        if (!needs(input)) break;
        const dst = errorOf(input);
        recs.push({ kind: fp8 ? "TRAIN_ACCUMULATE_E5M2" : "TRAIN_ACCUMULATE", fields: { dst, src: gradOut, count }, uses: [dst.buf, `e${out}`] });
        break;
      }
      case "AVERAGE_POOL_2D": case "MAX_POOL_2D": case "MEAN": {
        const input = op.reads[0];
        if (!needs(input)) break;
        // Hybrid fp8: these kernels run on f32 copies of the errors.
        const f32Out = fp8 ? f32Scratch(count) : gradOut;
        if (fp8) recs.push({ kind: "TRAIN_DECODE_E5M2", fields: { src: gradOut, dst: f32Out, count }, uses: [gradOut.buf, f32Out.buf] });
        const into = accumulateInto(input);
        const kind: OpName = op.kind === "MEAN" ? "TRAIN_MEAN" : op.kind === "MAX_POOL_2D" ? "TRAIN_MAX_POOL_2D" : "TRAIN_AVERAGE_POOL_2D";
        const uses = [f32Out.buf, into.acc.buf];
        if (op.kind === "MAX_POOL_2D") uses.push(tensorBuf(input));
        recs.push({ kind, fields: { ...resolve(op, forwardRec[i]), gradOut: f32Out, gradIn: into.acc }, uses });
        into.finish();
        break;
      }
      default:
        throw new UnsupportedError(`${where} lies on the backward path of scheme ${describeScheme(scheme)}; training through ${op.sourceType} is not supported (train only layers after it, e.g. --scheme last:K)`);
    }
  }

  return layOut(g, file, bytes, lowered, recs, forwardRec, tiles, scratchBytes, layers, scheme, classes, options);
}

/** Bytes of an E5M2 error buffer of n elements: its shared exponent, then the codes. */
function errorBytes(n: number): number { return ERROR_HEADER_BYTES + n; }

/** A tile of at least four channels (what the kernels block over); fully connected keeps whole channels. */
function trainingTile(op: LoweredOp): TileShape {
  const ch = op.channels!;
  const perChannel = CHANNEL_DATA_BYTES + ch.perChannel;
  return tileShape(op, perChannel * Math.min(4, ch.outC));
}

/**
 * The weight-step factor of a layer reading `input`: a model input whose int8 range spans R > 1 in
 * real units (raw 0..255 pixels: R = 255) gets 1/R^2, the step it would take if the model were
 * reparametrized to inputs in a unit range (weights R times larger); everything else 1.
 */
function inputLrScale(g: Graph, input: number): number {
  if (!g.inputs.includes(input)) return 1;
  const range = g.tensors[input].scale[0] * 255;
  return range > 1 ? 1 / (range * range) : 1;
}


/** f32 per-channel weight scales of a weighted op (a per-tensor scale repeated). */
function weightScales(g: Graph, op: LoweredOp): Uint8Array {
  const filter = g.tensors[g.ops[op.source].inputs[1]];
  const outC = op.channels!.outC;
  const s = new Float32Array(outC);
  for (let c = 0; c < outC; c++) s[c] = filter.scale.length === 1 ? filter.scale[0] : filter.scale[c];
  return new Uint8Array(s.buffer);
}

function layOut(g: Graph, file: string, bytes: Uint8Array, lowered: Lowered, recs: Rec[], forwardRec: number[], tiles: Map<number, TileShape>,
  scratchBytes: Map<string, number>, layers: TrainedLayer[], scheme: Scheme, classes: number, options: TrainingOptions): CompiledTraining {
  const root = (t: number) => rootOf(lowered.aliases, t);
  const ops = lowered.ops;

  // The persistent state: overlay table, overlays, masters, velocities.
  const overlays: TrainSection["overlays"] = [];
  const state: { id: string; bytes: number }[] = [];
  for (const l of layers) {
    state.push({ id: `overlay${l.op}`, bytes: overlayBytes(l) });
    // Masters: an int8 residual per trained weight (the weight itself is the overlay's), an f32 per bias.
    state.push({ id: `master${l.op}`, bytes: align(l.trainChannels * l.perChannel) + (l.trainBias ? 4 * l.outC : 0) });
    if (options.momentum) state.push({ id: `velocity${l.op}`, bytes: 4 * (l.trainChannels * l.perChannel + (l.trainBias ? l.outC : 0)) });
  }
  const overlayEntries = layers.reduce((n, l) => n + overlayRanges(l).length, 0);
  const stateOffset = new Map<string, number>();
  let stateBytes = align(overlayEntries * 4 * TRAIN_OVERLAY_WORDS);
  for (const s of state) { stateOffset.set(s.id, stateBytes); stateBytes += align(s.bytes); }
  for (const l of layers) {
    l.overlay = stateOffset.get(`overlay${l.op}`)!;
    l.master = stateOffset.get(`master${l.op}`)!;
    l.velocity = stateOffset.get(`velocity${l.op}`) ?? -1;
    for (const r of overlayRanges(l)) overlays.push({ op: l.op, ...r });
  }

  // Lifetimes over the training program; inputs are live from the start, outputs to the end.
  const first = new Map<string, number>(), lastUse = new Map<string, number>();
  const use = (id: string, r: number) => { first.set(id, Math.min(first.get(id) ?? r, r)); lastUse.set(id, Math.max(lastUse.get(id) ?? r, r)); };
  recs.forEach((rec, r) => rec.uses.forEach((id) => use(id, r)));
  for (const t of g.inputs) use(`t${root(t)}`, 0);
  for (const t of g.outputs) use(`t${root(t)}`, recs.length - 1);
  const sizeOf = (id: string): number => {
    if (id.startsWith("t")) return tensorBytes(g.tensors[Number(id.slice(1))]);
    if (id.startsWith("e")) {
      const n = elementCount(g.tensors[Number(id.slice(1))].shape);
      return options.precision === "fp8" ? errorBytes(n) : 4 * n;
    }
    if (id.startsWith("x")) return elementCount(g.tensors[Number(id.slice(1))].shape); // E4M3 copy
    if (id.startsWith("m")) return Math.ceil(elementCount(g.tensors[ops[Number(id.slice(1))].writes[0]].shape) / 8);
    if (id.startsWith("s")) return tiles.get(ops.findIndex((_, i) => forwardRec[i] === Number(id.slice(1))))!.bytes;
    const b = scratchBytes.get(id);
    if (b === undefined) throw new Error(`training plan: no size for buffer ${id}`);
    return b;
  };
  const buffers: Buffer[] = [...first.keys()].filter((id) => !stateOffset.has(id)).map((id) => ({
    id, bytes: align(sizeOf(id)), first: first.get(id)!, last: lastUse.get(id)!, offset: -1,
  }));
  placeBuffers(buffers);
  for (const b of buffers) b.offset += stateBytes;
  const offsetOf = new Map<string, number>([...stateOffset, ...buffers.map((b): [string, number] => [b.id, b.offset])]);
  const arenaBytes = Math.max(stateBytes, ...buffers.map((b) => b.offset + b.bytes));

  const value = (rec: Rec, k: string, v: Field): number => {
    if (typeof v === "number") return v;
    const o = offsetOf.get(v.buf);
    if (o === undefined) throw new Error(`training plan: buffer ${v.buf} of ${rec.kind}.${k} was never placed`);
    return o;
  };
  const encode = (rec: Rec): EncodedOp => {
    const params: Record<string, number> = {};
    for (const [k, v] of Object.entries(rec.fields)) params[k] = value(rec, k, v);
    return { kind: rec.kind, params, tail: rec.tail?.map((v) => value(rec, "tail", v)), weightsFrom: rec.weightsFrom, blobs: rec.blobs };
  };
  const trainOps = recs.map(encode);
  const inference: EncodedOp[] = ops.map((op, i) => {
    const e = encode(recs[forwardRec[i]]);
    delete e.weightsFrom;
    const tile = tiles.get(i);
    if (tile) e.tiles = encodeTiles(op.channels!, tile.tileCh);
    return e;
  });

  // Inference-side metadata (run --dump, hil) from the training plan.
  const tensorOffset = new Map<number, number>();
  const allTensors = new Set<number>([...g.inputs, ...g.outputs, ...lowered.aliases.keys()]);
  ops.forEach((op) => [...op.reads, ...op.writes].forEach((t) => allTensors.add(t)));
  for (const t of allTensors) tensorOffset.set(t, offsetOf.get(`t${root(t)}`)!);
  const scratch = new Map<number, { offset: number; bytes: number }>();
  for (const [i, t] of tiles) scratch.set(i, { offset: offsetOf.get(`s${forwardRec[i]}`)!, bytes: t.bytes });
  const timeline = recs.map((_, r) => buffers.filter((b) => b.first <= r && r <= b.last).reduce((s, b) => s + b.bytes, stateBytes));
  const plan: Plan = { buffers, tensorOffset, scratch, tiles, arenaBytes, peakOp: timeline.indexOf(Math.max(...timeline)), timeline };
  const meta = describe(g, lowered, plan, file, bytes);
  const training: TrainingMeta = { scheme: describeScheme(scheme), precision: options.precision ?? "int8", arenaBytes, stateBytes, classes, layers };
  const io = (ts: number[]) => ts.map((t): [number, number] => [tensorOffset.get(t)!, tensorBytes(g.tensors[t])]);
  const blob = writeTlm(inference, arenaBytes, { inputs: io(g.inputs), outputs: io(g.outputs) }, { ...meta, training },
    { ops: trainOps, stateBytes, overlays });
  return { blob, training };
}
