// What memory safety costs on a board: every shared int8 model in the three wasm2c memory-access modes
// (bounds, mask, none; see docs/memory-safety.md), instructions per inference side by side, outputs
// required byte-identical across modes and with NodeEngine.
//
//   tsx host/board/memcheck-bench.ts [--board qemu-m4] [--models a,b] [--out bench/memcheck.json]
//
// Prints the table and writes bench/memcheck.json. Exits 1 if any output differs.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel } from "../compile.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { withBoard, runOnBoard, invokeOnBoard } from "../runners/board-runner.ts";
import { xorshiftBytes } from "../util/xorshift.ts";
import { INT8_MODELS, modelPath, requireShared } from "../util/shared-models.ts";
import { REPO, DEFAULT_ENGINE, MEMCHECK_MODES, buildFirmware, type MemCheck } from "./build.ts";

export interface ModeResult {
  instructions: number | null;
  cycles: number;
  /** Output bytes equal NodeEngine's (every output tensor). */
  matchesHost: boolean;
}

export interface MemcheckRow {
  model: string;
  macs: number;
  modes: Record<MemCheck, ModeResult>;
  /** Outputs byte-identical across all modes and with the host. */
  identical: boolean;
  /** bounds / none and mask / none: what each safe mode costs over unchecked code. */
  boundsOverNone: number | null;
  maskOverNone: number | null;
  /** bounds / mask: the speed-up of mask over bounds. */
  boundsOverMask: number | null;
}

export interface MemcheckReport {
  board: string;
  date: string;
  /** sha256 of build/engine.wasm: the numbers move with the engine's kernels. */
  engineSha256: string;
  firmware: Record<MemCheck, { flashBytes: number; wasmMemoryBytes: number; maskBytes: number }>;
  rows: MemcheckRow[];
}

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000);

export async function memcheckBench(board = "qemu-m4", models: string[] = INT8_MODELS, log: (l: string) => void = () => {}): Promise<MemcheckReport> {
  requireShared();
  const compiled = models.map((m) => {
    const file = modelPath(m);
    const c = loadModel(file); // the CLI's defaults
    const host = NodeEngine.load(c.blob);
    const inputs = c.meta.inputs.map((t) => xorshiftBytes(1, c.meta.tensors.find((x) => x.index === t)!.bytes));
    inputs.forEach((d, i) => host.setInput(d, i));
    host.invoke();
    const want = Array.from({ length: host.numOutputs }, (_, i) => host.output(i));
    const macs = c.meta.ops.reduce((s, op) => s + (op.macs ?? 0), 0);
    return { model: m, c, inputs, want, macs };
  });
  const results = new Map<string, Partial<Record<MemCheck, ModeResult & { outputs: Uint8Array[] }>>>();
  const firmware = {} as MemcheckReport["firmware"];
  for (const mode of MEMCHECK_MODES) {
    const fw = buildFirmware(board, { memcheck: mode, log });
    firmware[mode] = { flashBytes: fw.flashBytes, wasmMemoryBytes: fw.wasmMemoryBytes, maskBytes: fw.maskBytes };
    await withBoard(board, { build: { memcheck: mode }, log }, async (s) => {
      for (const m of compiled) {
        const first = await runOnBoard(s, m.c, m.inputs);
        const again = await invokeOnBoard(s, m.inputs, first.outputs.length); // warm, and checks determinism
        const matchesHost = first.outputs.length === m.want.length &&
          first.outputs.every((o, i) => Buffer.from(o).equals(Buffer.from(m.want[i])) && Buffer.from(again.outputs[i]).equals(Buffer.from(o)));
        const r = { instructions: again.instructions ?? null, cycles: again.cycles, matchesHost, outputs: first.outputs };
        (results.get(m.model) ?? results.set(m.model, {}).get(m.model)!)[mode] = r;
        log(`${board} ${mode} ${m.model}: ${r.instructions ?? r.cycles} ${r.instructions !== null ? "instructions" : "ticks"}${matchesHost ? "" : "  OUTPUT DIFFERS FROM HOST"}`);
      }
    });
  }
  const rows: MemcheckRow[] = compiled.map((m) => {
    const r = results.get(m.model)!;
    const modes = Object.fromEntries(MEMCHECK_MODES.map((k) => {
      const { outputs: _o, ...rest } = r[k]!;
      return [k, rest];
    })) as Record<MemCheck, ModeResult>;
    const ref = r.bounds!.outputs;
    const identical = MEMCHECK_MODES.every((k) => r[k]!.matchesHost && r[k]!.outputs.every((o, i) => Buffer.from(o).equals(Buffer.from(ref[i]))));
    const cost = (k: MemCheck) => modes[k].instructions ?? modes[k].cycles;
    return {
      model: m.model, macs: m.macs, modes, identical,
      boundsOverNone: ratio(cost("bounds"), cost("none")),
      maskOverNone: ratio(cost("mask"), cost("none")),
      boundsOverMask: ratio(cost("bounds"), cost("mask")),
    };
  });
  const engineSha256 = createHash("sha256").update(readFileSync(DEFAULT_ENGINE)).digest("hex");
  return { board, date: new Date().toISOString(), engineSha256, firmware, rows };
}

export function formatMemcheck(r: MemcheckReport): string {
  const n = (x: number | null) => (x === null ? "-" : x.toLocaleString("en-US"));
  const pct = (x: number | null) => (x === null ? "-" : `${x >= 1 ? "+" : ""}${((x - 1) * 100).toFixed(1)}%`);
  const head = ["model", "bounds", "mask", "none", "bounds/none", "mask/none", "bounds/mask", "identical"];
  const body = r.rows.map((row) => [
    row.model, n(row.modes.bounds.instructions), n(row.modes.mask.instructions), n(row.modes.none.instructions),
    `${row.boundsOverNone ?? "-"} (${pct(row.boundsOverNone)})`, `${row.maskOverNone ?? "-"} (${pct(row.maskOverNone)})`,
    `${row.boundsOverMask ?? "-"}`, row.identical ? "yes" : "NO",
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  const fw = (Object.entries(r.firmware) as [MemCheck, MemcheckReport["firmware"][MemCheck]][])
    .map(([k, f]) => `${k}: flash ${n(f.flashBytes)} B${f.maskBytes ? `, mask region ${f.maskBytes / 1024} KiB` : `, linear memory up to ${n(f.wasmMemoryBytes)} B`}`);
  return [
    `instructions per inference on ${r.board} (QEMU -icount), by memory-access mode; engine.wasm sha256 ${r.engineSha256.slice(0, 12)}`,
    line(head), ...body.map(line), "", ...fw,
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  const board = arg("--board") ?? "qemu-m4";
  const models = arg("--models")?.split(",") ?? INT8_MODELS;
  const out = arg("--out") ?? join(REPO, "bench", "memcheck.json");
  const report = await memcheckBench(board, models, (l) => process.stderr.write(`${l}\n`));
  console.log(formatMemcheck(report));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
  if (!report.rows.every((row) => row.identical)) {
    console.error("outputs differ between modes or from the host");
    process.exit(1);
  }
}
