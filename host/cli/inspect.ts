// `tinyloop inspect MODEL [--json]`: ops, shapes, MACs, weights and the arena plan.
import type { Compiled } from "../compile.ts";
import { precisionLines } from "./precision.ts";

export function inspectReport(c: Compiled) {
  const { meta } = c;
  const shape = (t: number) => meta.tensors.find((x) => x.index === t)?.shape ?? [];
  return {
    model: meta.source.file,
    peakArenaBytes: meta.plan.arenaBytes,
    /** The smallest arena the planner finds; below peakArenaBytes when --arena-budget auto gave it more for speed. */
    smallestArenaBytes: meta.plan.smallestArenaBytes ?? meta.plan.arenaBytes,
    peakOp: meta.plan.peakOp,
    /** The arena one op at a time would need (`--patch off`), when stages made it smaller. */
    peakArenaBytesWithoutStages: meta.plan.withoutStages?.arenaBytes ?? meta.plan.arenaBytes,
    /** Bytes live after each op one op at a time, with the TFLite op of each (null without stages). */
    withoutStages: meta.plan.withoutStages ?? null,
    weightBytes: meta.weightBytes,
    /** Weights as stored in flash: tiles with their per-channel requantization data. */
    weightFlashBytes: meta.weightBytes,
    tfliteWeightBytes: meta.tfliteWeightBytes,
    macs: meta.macs,
    inputs: meta.inputs.map((t) => ({ index: t, shape: shape(t), bytes: meta.tensors.find((x) => x.index === t)!.bytes })),
    outputs: meta.outputs.map((t) => ({ index: t, shape: shape(t), bytes: meta.tensors.find((x) => x.index === t)!.bytes })),
    timeline: meta.plan.timeline,
    /** A 2-D patch stage (--patch RxC, or auto's choice): its grid, ops, and the MACs it computes again. */
    patches: patchesOf(meta.ops),
    /** `--precision auto`: calibration SQNR of int8, fp8 and the choice, the budget, and per layer what was chosen. */
    auto: meta.auto ?? null,
    ops: meta.ops.map((op, i) => ({
      index: i, op: op.kind, tfliteOp: op.source, tfliteType: op.sourceType,
      inputShapes: op.inputs.map(shape), outputShape: shape(op.outputs[0]),
      macs: op.macs, weightBytes: op.weightBytes, flashBytes: op.flashBytes ?? 0, precision: op.precision ?? null, storage: op.storage ?? null, tileChannels: op.tileCh ?? null, liveBytes: meta.plan.timeline[i],
      stage: op.stage ?? null,
      decodeInstructions: op.decodeInstructions ?? null,
    })),
  };
}

function patchesOf(ops: Compiled["meta"]["ops"]) {
  const op = ops.find((o) => o.stage?.patches);
  if (!op?.stage?.patches) return null;
  const { grid, extraMacs, overheadPercent } = op.stage.patches;
  return { grid, ops: op.stage.ops.length, tfliteOps: op.stage.tfliteOps, extraMacs, overheadPercent };
}

/** The op column of a stage: its ops and how it runs (rows per step, or the patch grid). */
function stageLabel(stage: NonNullable<ReturnType<typeof inspectReport>["ops"][number]["stage"]>): string {
  const how = stage.patches ? `${stage.patches.grid[0]}x${stage.patches.grid[1]} patches` : `${stage.rowsPerStep} row${stage.rowsPerStep > 1 ? "s" : ""}/step`;
  return `STAGE ${stage.ops.map(short).join("+")} (${how})`;
}

/** CONV_2D -> CONV, DEPTHWISE_CONV_2D -> DW, ...: stage rows stay readable. */
const short = (kind: string) => ({ CONV_2D: "CONV", DEPTHWISE_CONV_2D: "DW", CONV_2D_SPARSE: "CONV", AVERAGE_POOL_2D: "AVGPOOL", MAX_POOL_2D: "MAXPOOL" } as Record<string, string>)[kind] ?? kind;

export function printInspect(c: Compiled): void {
  const r = inspectReport(c);
  const rows = r.ops.map((o) => [
    String(o.index), o.stage ? stageLabel(o.stage) : o.op, o.inputShapes.map((s) => `[${s}]`).join(" "), `[${o.outputShape}]`,
    o.macs.toLocaleString("en-US"), o.weightBytes.toLocaleString("en-US"), o.liveBytes.toLocaleString("en-US"),
    o.index === r.peakOp ? "<- peak" : "",
  ]);
  const head = ["#", "op", "inputs", "output", "MACs", "weights B", "live B", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 4 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  console.log(`model ${r.model}: ${r.ops.length} ops`);
  console.log(line(head));
  for (const row of rows) console.log(line(row));
  console.log("");
  console.log(`peak arena   ${r.peakArenaBytes.toLocaleString("en-US")} B (set at op ${r.peakOp}, ${r.ops[r.peakOp]?.op ?? "-"})`);
  if (r.smallestArenaBytes !== r.peakArenaBytes) {
    console.log(`             ${r.smallestArenaBytes.toLocaleString("en-US")} B at the least (--arena-budget min); the default (auto) rounds that up to a power of two and spends the rest on speed`);
  }
  if (r.peakArenaBytesWithoutStages !== r.peakArenaBytes) {
    const how = r.patches ? "the first ops run patch by patch" : "stages run row by row, intermediates in rings, no recomputation";
    console.log(`             ${r.peakArenaBytesWithoutStages.toLocaleString("en-US")} B one op at a time (--patch off); ${how}`);
  }
  if (r.patches) {
    const p = r.patches;
    console.log(`patches      ${p.grid[0]}x${p.grid[1]} over the first ${p.ops} ops: ${p.extraMacs.toLocaleString("en-US")} MACs computed again, ${p.overheadPercent.toFixed(2)}% of the model's (--max-overhead)`);
  }
  console.log(`weights      ${r.weightBytes.toLocaleString("en-US")} B in the .tlm (${r.tfliteWeightBytes.toLocaleString("en-US")} B of constants in the .tflite)`);
  const coded = r.ops.filter((o) => o.decodeInstructions !== null);
  if (coded.length) {
    const kinds = [...new Set(coded.map((o) => o.storage))].map((k) => `${coded.filter((o) => o.storage === k).length} ${k}`).join(", ");
    const decode = coded.reduce((s, o) => s + o.decodeInstructions!, 0);
    console.log(`             ${coded.length} layer${coded.length > 1 ? "s" : ""} coded (${kinds}): about ${decode.toLocaleString("en-US")} decode instructions per inference (--decode-budget)`);
  }
  console.log(`MACs         ${r.macs.toLocaleString("en-US")}`);
  for (const line of precisionLines(c.meta)) console.log(line);
}
