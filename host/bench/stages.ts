// `npm run bench` (part): three plans per shared model on the virtual board, with planned and
// measured arena and the instructions per inference (exact on qemu-m4) each costs: one op at a
// time (--patch off --arena-budget min), the smallest arena (row-streamed stages, --arena-budget
// min) and the default (--arena-budget auto: the smallest arena rounded up to a power of two,
// spent on speed); and the default plan with --compress off (every weight dense), the uncompressed
// build the compressed weights are compared with. Prints a table, writes bench/stages.json and the
// table in docs/memory.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel, type PatchMode, type ArenaPolicy, type CompressMode } from "../compile.ts";
import { INT8_MODELS, modelPath, REPO, requireShared } from "../util/shared-models.ts";
import { benchOnBoard } from "../cli/bench.ts";

requireShared();
const BOARD = process.env.BENCH_BOARD ?? "qemu-m4";
/** Arena bounds from the memory issue, below STM32Cube.AI's and TFLM's for the same models. */
const TARGETS: Record<string, number> = { vww_96_int8: 32_768, pretrainedResnet_quant: 32_768, kws_ref_model: 16_384, ad01_int8: 1_024 };

const rows = [];
for (const name of INT8_MODELS) {
  const run = async (patch: PatchMode, arena: ArenaPolicy, compress: CompressMode = "auto") => {
    const c = loadModel(modelPath(name), { patch, arena, compress });
    const r = await benchOnBoard(c, BOARD, 1);
    return {
      arenaBytes: c.meta.plan.arenaBytes, measuredArenaBytes: r.peakArenaBytes, instructions: r.instructions ?? 0,
      stages: c.meta.ops.filter((o) => o.stage).length, modelFlashBytes: c.blob.length,
      weightFlashBytes: c.meta.weightBytes, tfliteWeightBytes: c.meta.tfliteWeightBytes,
    };
  };
  const off = await run("off", "min"), smallest = await run("auto", "min"), auto = await run("auto", "auto");
  const uncompressed = await run("auto", "auto", "off");
  rows.push({ model: name, target: TARGETS[name] ?? null, off, smallest, auto, uncompressed });
}

const fmt = (n: number) => n.toLocaleString("en-US");
const table = [
  ["model", "target B", "arena off B", "instructions off", "smallest arena B", "stages", "instructions", "/off",
    "default arena B", "measured B", "stages", "instructions", "/off", "model flash off B", "model flash default B",
    "weights .tflite B", "weights flash B", "uncompressed weights B", "uncompressed instructions", "/uncompressed"],
  ...rows.map((r) => [
    r.model, r.target ? fmt(r.target) : "-", fmt(r.off.arenaBytes), fmt(r.off.instructions),
    fmt(r.smallest.arenaBytes), String(r.smallest.stages), fmt(r.smallest.instructions), (r.smallest.instructions / r.off.instructions).toFixed(3),
    fmt(r.auto.arenaBytes), fmt(r.auto.measuredArenaBytes), String(r.auto.stages), fmt(r.auto.instructions), (r.auto.instructions / r.off.instructions).toFixed(3),
    fmt(r.off.modelFlashBytes), fmt(r.auto.modelFlashBytes),
    fmt(r.auto.tfliteWeightBytes), fmt(r.auto.weightFlashBytes), fmt(r.uncompressed.weightFlashBytes), fmt(r.uncompressed.instructions),
    (r.auto.instructions / r.uncompressed.instructions).toFixed(3),
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log(`\nplans on ${BOARD} (one op at a time, smallest arena, default):`);
for (const row of table) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
const out = join(REPO, "bench", "stages.json");
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), board: BOARD, rows }, null, 1) + "\n");
console.log(`saved ${out}`);

const doc = join(REPO, "docs", "memory.md");
const md = [`| ${table[0].join(" | ")} |`, `|${table[0].map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...table.slice(1).map((r) => `| ${r.join(" | ")} |`)].join("\n");
const text = readFileSync(doc, "utf8");
const begin = "<!-- stages-table:begin -->", end = "<!-- stages-table:end -->";
writeFileSync(doc, text.slice(0, text.indexOf(begin) + begin.length) + `\n${md}\n` + text.slice(text.indexOf(end)));
console.log(`updated ${doc}`);
