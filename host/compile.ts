// From model bytes to a runnable .tlm blob: import, lower, plan, encode.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { importTflite, FormatError } from "./import/tflite.ts";
import { type Graph, tensorBytes } from "./graph/graph.ts";
import { lower, UnsupportedError, type Lowered } from "./passes/lower.ts";
import { planMemory, rootOf, type Plan, type PlanOptions } from "./passes/plan.ts";
import { writeTlm, encodeTiles, encodeSparseTiles, readTlm, isTlm, TlmFormatError, type TlmMeta, type EncodedOp } from "./format/tlm.ts";

export { FormatError, UnsupportedError, TlmFormatError };

export interface Compiled {
  blob: Uint8Array;
  meta: TlmMeta;
}

export function compileTflite(bytes: Uint8Array, file = "model.tflite", options: PlanOptions = {}): Compiled {
  const graph = importTflite(bytes, file);
  const lowered = lower(graph);
  const plan = planMemory(graph, lowered, options);
  const meta = describe(graph, lowered, plan, file, bytes);
  const ops: EncodedOp[] = lowered.ops.map((op, i) => {
    const params: Record<string, number> = {};
    for (const [k, v] of Object.entries(op.fields)) {
      if (typeof v === "number") params[k] = v;
      else if ("tensor" in v) params[k] = plan.tensorOffset.get(v.tensor)!;
      else if ("scratch" in v) params[k] = plan.scratch.get(i)!.offset;
    }
    const tile = plan.tiles.get(i);
    if (tile) params.tileCh = tile.tileCh;
    if (tile && op.kind === "FULLY_CONNECTED") params.inChunk = tile.inChunk;
    const tail = op.tail?.map((v) => (typeof v === "number" ? v : plan.tensorOffset.get((v as { tensor: number }).tensor)!));
    const tiles = !tile ? undefined : op.channels!.sparse ? encodeSparseTiles(op.channels!, tile.tileCh) : encodeTiles(op.channels!, tile.tileCh);
    return { kind: op.kind, params, tail, tiles };
  });
  const io = (ts: number[]) => ts.map((t): [number, number] => [plan.tensorOffset.get(t)!, tensorBytes(graph.tensors[t])]);
  const blob = writeTlm(ops, plan.arenaBytes, { inputs: io(graph.inputs), outputs: io(graph.outputs) }, meta);
  return { blob, meta };
}

function describe(g: Graph, lowered: Lowered, plan: Plan, file: string, bytes: Uint8Array): TlmMeta {
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
      weightBytes: op.channels ? op.channels.weights.length + op.channels.bias.length * 4 : 0,
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
    macs: lowered.ops.reduce((s, op) => s + op.macs, 0),
  };
}

/** Loads a .tflite (compiled on the fly) or a .tlm from disk. */
export function loadModel(path: string, options: PlanOptions = {}): Compiled {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new FormatError(`cannot read model ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (isTlm(bytes)) return { blob: bytes, meta: readTlm(bytes, path) };
  return compileTflite(bytes, path, options);
}
