// `npm run bench` (part): row-streamed stages side by side with one op at a time, per shared
// model on the virtual board: planned and measured arena, and the instructions per inference
// (exact on qemu-m4) each costs; and with the memory issue's target as --arena-budget. Prints a table, writes bench/stages.json and the table in
// docs/memory.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel, type PatchMode } from "../compile.ts";
import { INT8_MODELS, modelPath, REPO, requireShared } from "../util/shared-models.ts";
import { benchOnBoard } from "../cli/bench.ts";

requireShared();
const BOARD = process.env.BENCH_BOARD ?? "qemu-m4";
/** Arena bounds from the memory issue, below STM32Cube.AI's and TFLM's for the same models. */
const TARGETS: Record<string, number> = { vww_96_int8: 32_768, pretrainedResnet_quant: 32_768, kws_ref_model: 16_384, ad01_int8: 1_024 };

const rows = [];
for (const name of INT8_MODELS) {
  const run = async (patch: PatchMode, arenaBudget?: number) => {
    const c = loadModel(modelPath(name), { patch, arenaBudget });
    const r = await benchOnBoard(c, BOARD, 1);
    return {
      arenaBytes: c.meta.plan.arenaBytes, measuredArenaBytes: r.peakArenaBytes, instructions: r.instructions ?? 0,
      stages: c.meta.ops.filter((o) => o.stage).length, modelFlashBytes: c.blob.length,
    };
  };
  const off = await run("off"), auto = await run("auto");
  // With the target as --arena-budget: the planner spends what the smallest arena leaves on speed.
  const budget = TARGETS[name] ? await run("auto", TARGETS[name]) : null;
  rows.push({ model: name, target: TARGETS[name] ?? null, off, auto, budget });
}

const fmt = (n: number) => n.toLocaleString("en-US");
const table = [
  ["model", "arena off B", "arena auto B", "measured auto B", "target B", "stages", "instructions off", "instructions auto", "auto/off", "model flash off B", "model flash auto B",
    "arena at --arena-budget target B", "instructions at target"],
  ...rows.map((r) => [
    r.model, fmt(r.off.arenaBytes), fmt(r.auto.arenaBytes), fmt(r.auto.measuredArenaBytes), r.target ? fmt(r.target) : "-", String(r.auto.stages),
    fmt(r.off.instructions), fmt(r.auto.instructions), (r.auto.instructions / r.off.instructions).toFixed(3),
    fmt(r.off.modelFlashBytes), fmt(r.auto.modelFlashBytes),
    r.budget ? fmt(r.budget.arenaBytes) : "-", r.budget ? fmt(r.budget.instructions) : "-",
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log(`\nstages on ${BOARD} (--patch auto vs off):`);
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
