// `npm run bench`: per shared model, host latency (median), MACs, planned and
// measured arena, weight bytes, beside TFLM's arena_used_bytes for the same model;
// then the same models on the virtual board qemu-m4 (exact instructions, SRAM and flash)
// beside TFLM's instruction counts on the same virtual board (bench/anchors.json).
// Prints tables and writes bench/host.json and bench/qemu-m4.json.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadModel } from "../compile.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { INT8_MODELS, modelPath, SHARED, REPO, requireShared } from "../util/shared-models.ts";
import { xorshiftBytes } from "../util/xorshift.ts";
import { benchOnBoard, type BenchResult } from "../cli/bench.ts";
import { WAMRC_ENV } from "../board/build-wamr.ts";

requireShared();
const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);

interface Row {
  model: string; macs: number; peakArenaBytes: number; measuredPeakBytes: number; tflmArenaBytes: number | null;
  weightBytes: number; tfliteWeightBytes: number; medianMs: number; minMs: number; runs: number;
}

const rows: Row[] = [];
for (const name of INT8_MODELS) {
  const c = loadModel(modelPath(name));
  const engine = NodeEngine.load(c.blob);
  const input = xorshiftBytes(1, engine.inputBytes(0));
  engine.setInput(input);
  engine.invoke(); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    engine.setInput(input); // the plan may reuse the input's bytes
    const t0 = performance.now();
    engine.invoke();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const metaFile = join(SHARED, "golden", name, "meta.json");
  const tflm = existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, "utf8")).arena_used_bytes : null;
  rows.push({
    model: name, macs: c.meta.macs, peakArenaBytes: c.meta.plan.arenaBytes, measuredPeakBytes: engine.peakBytes,
    tflmArenaBytes: tflm, weightBytes: c.meta.weightBytes, tfliteWeightBytes: c.meta.tfliteWeightBytes,
    medianMs: times[Math.floor(times.length / 2)], minMs: times[0], runs: REPEATS,
  });
}

const fmt = (n: number) => n.toLocaleString("en-US");
const table = [
  ["model", "MACs", "arena plan B", "arena measured B", "TFLM arena B", "plan/TFLM", "weights B", "median ms", "MMAC/s"],
  ...rows.map((r) => [
    r.model, fmt(r.macs), fmt(r.peakArenaBytes), fmt(r.measuredPeakBytes), r.tflmArenaBytes ? fmt(r.tflmArenaBytes) : "-",
    r.tflmArenaBytes ? (r.peakArenaBytes / r.tflmArenaBytes).toFixed(2) : "-", fmt(r.weightBytes), r.medianMs.toFixed(2),
    (r.macs / r.medianMs / 1000).toFixed(1),
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const row of table) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));

mkdirSync(join(REPO, "bench"), { recursive: true });
const out = join(REPO, "bench", "host.json");
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, repeats: REPEATS, rows }, null, 1) + "\n");
console.log(`\nsaved ${out}`);

// ---- the virtual board ----
const BOARD = process.env.BENCH_BOARD ?? "qemu-m4";
const anchors = JSON.parse(readFileSync(join(REPO, "bench", "anchors.json"), "utf8"));
// The same engine.wasm under the user's WAMR build (docs/wamr.md), when one is given: WAMR is
// never fetched or built here, so without TINYLOOP_WAMR_M4_DIR its column stays empty.
// With TINYLOOP_WAMRC (the user's wamrc) and a library built with AOT, also WAMR's AOT mode.
const WAMR_DIR = process.env.TINYLOOP_WAMR_M4_DIR;
const WAMRC = process.env[WAMRC_ENV];
const boardRows: (BenchResult & { tflmCmsisNn: number | null; tflmReference: number | null; wamrInstructions: number | null; wamrAotInstructions: number | null })[] = [];
for (const name of INT8_MODELS) {
  const c = loadModel(modelPath(name));
  const r = await benchOnBoard(c, BOARD, 1);
  const wamr = WAMR_DIR ? await benchOnBoard(c, BOARD, 1, false, { build: { runtime: "wamr", wamrDir: WAMR_DIR } }) : undefined;
  const aot = WAMR_DIR && WAMRC ? await benchOnBoard(c, BOARD, 1, false, { build: { runtime: "wamr", wamrDir: WAMR_DIR, wamrc: WAMRC } }) : undefined;
  const a = anchors.instructions[name] ?? {};
  boardRows.push({
    ...r, tflmCmsisNn: a.tflmCmsisNn ?? null, tflmReference: a.tflmReference ?? null,
    wamrInstructions: wamr?.instructions ?? null, wamrAotInstructions: aot?.instructions ?? null,
  });
}
const ratio = (a: number | null, b: number | null) => (a && b ? (a / b).toFixed(2) : "-");
const boardTable = [
  ["model", "instructions", "WAMR interp", "WAMR AOT", "TFLM+CMSIS-NN", "ratio", "TFLM ref", "instr/MAC", "SRAM B", "arena B", "stack B", "flash fw B", "model B"],
  ...boardRows.map((r) => [
    r.model.replace(".tflite", ""), fmt(r.instructions ?? 0), r.wamrInstructions ? fmt(r.wamrInstructions) : "-",
    r.wamrAotInstructions ? fmt(r.wamrAotInstructions) : "-",
    r.tflmCmsisNn ? fmt(r.tflmCmsisNn) : "-", ratio(r.instructions, r.tflmCmsisNn),
    r.tflmReference ? fmt(r.tflmReference) : "-", ((r.instructions ?? 0) / rows.find((x) => `${x.model}.tflite` === r.model)!.macs).toFixed(2),
    fmt(r.sramBytes), fmt(r.peakArenaBytes), fmt(r.stackBytes), fmt(r.flashBytes), fmt(r.modelFlashBytes),
  ]),
];
console.log(`\non ${BOARD} (instructions per inference, exact; ratio = tinyloop / TFLM+CMSIS-NN, below 1 is better):`);
const bw = boardTable[0].map((_, i) => Math.max(...boardTable.map((row) => row[i].length)));
for (const row of boardTable) console.log(row.map((c, i) => (i === 0 ? c.padEnd(bw[i]) : c.padStart(bw[i]))).join("  "));
const boardOut = join(REPO, "bench", `${BOARD}.json`);
writeFileSync(boardOut, JSON.stringify({ date: new Date().toISOString(), board: BOARD, anchors: anchors.source, rows: boardRows }, null, 1) + "\n");
console.log(`\nsaved ${boardOut}`);
