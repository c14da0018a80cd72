// Row-streamed stages (--patch auto): the same bytes as one op at a time, in less arena.
// Checked on the shared models (auto's choice, and every run of ops forced into a stage at
// several grains) and on the synthetic models, whose ops cover odd strides, dilation, VALID
// padding and pooling windows the real models do not; plus the engine's checks on a damaged stage.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { compileTflite, compileLowered, BudgetError, type Compiled } from "../../host/compile.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { lower } from "../../host/passes/lower.ts";
import { withStage, type StageGrain } from "../../host/passes/stages.ts";
import { HEADER_FIELDS, OPCODES, RECORDS, STATUS } from "../../host/format/spec.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { outputsOf, inputsFor } from "./plan-outputs.ts";
import { EngineError } from "../../host/runners/engine-status.ts";
import type { Graph } from "../../host/graph/graph.ts";
import { REPO, INT8_MODELS, modelPath, requireShared, goldenRuns } from "./shared.ts";
import { SYNTHETIC_MODELS, buildSynthetic } from "./synthetic-models.ts";

/** Upper bounds on the planned arena from the issue (below STM32Cube.AI's and TFLM's). */
const ARENA_TARGETS: Record<string, number> = { vww_96_int8: 32_768, pretrainedResnet_quant: 32_768, kws_ref_model: 16_384, ad01_int8: 1_024 };

test("--patch auto: the shared models give the bytes of --patch off, within the arena targets", () => {
  requireShared();
  for (const name of INT8_MODELS) {
    const bytes = readFileSync(modelPath(name));
    const off = compileTflite(bytes, `${name}.tflite`, { patch: "off" });
    const auto = compileTflite(bytes, `${name}.tflite`);
    const inputs = [...goldenRuns(name).map((r) => r.input), ...inputsFor(importTflite(bytes), [1, 2, 3])];
    assert.deepEqual(outputsOf(auto, inputs), outputsOf(off, inputs), name);
    // Golden outputs are TFLM's: stages must not change them.
    goldenRuns(name).forEach((r, i) => assert.deepEqual(outputsOf(auto, [r.input])[0], Uint8Array.from(r.output), `${name} golden ${i}`));
    assert.ok(auto.meta.plan.arenaBytes <= off.meta.plan.arenaBytes, name);
    if (ARENA_TARGETS[name]) assert.ok(auto.meta.plan.arenaBytes <= ARENA_TARGETS[name], `${name}: ${auto.meta.plan.arenaBytes} B > ${ARENA_TARGETS[name]}`);
    // The engine touches exactly the planned arena (within alignment), stages included.
    const e = NodeEngine.load(auto.blob);
    e.setInput(inputs[0]);
    e.invoke();
    assert.ok(auto.meta.plan.arenaBytes - e.peakBytes < 4, `${name}: planned ${auto.meta.plan.arenaBytes}, touched ${e.peakBytes}`);
  }
});

const GRAINS: StageGrain[] = [{ rowsPerStep: 1, tileBytes: 0 }, { rowsPerStep: 2, tileBytes: 600 }, { rowsPerStep: 3, tileBytes: Infinity }];

/** Forces ops a..b of the plain op list into one stage at `grain`; undefined when they cannot stream. */
function forced(g: Graph, file: string, bytes: Uint8Array, a: number, b: number, grain: StageGrain): Compiled | undefined {
  const staged = withStage(g, lower(g), a, b, grain);
  return staged && compileLowered(g, staged, file, bytes);
}

test("every run of up to 4 synthetic ops forced into a stage, at three grains, gives the plain bytes", () => {
  let stages = 0;
  for (const spec of SYNTHETIC_MODELS) {
    const bytes = buildSynthetic(spec).bytes;
    const g = importTflite(bytes);
    const n = lower(g).ops.length;
    const inputs = inputsFor(g, [11, 12]);
    const plain = outputsOf(compileTflite(bytes, spec.name, { patch: "off" }), inputs);
    for (let a = 0; a < n; a++) {
      for (let b = a; b < Math.min(n, a + 4); b++) {
        for (const grain of GRAINS) {
          const c = forced(g, spec.name, bytes, a, b, grain);
          if (!c) continue;
          stages++;
          assert.deepEqual(outputsOf(c, inputs), plain, `${spec.name} ops ${a}..${b} ${JSON.stringify(grain)}`);
        }
      }
    }
  }
  assert.ok(stages >= 20, `only ${stages} stages formed`);
});

test("runs of shared-model ops forced into stages give the plain bytes (a seeded sample of runs and grains)", () => {
  requireShared();
  let seed = 7;
  const next = (m: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % m; };
  for (const name of ["pretrainedResnet_quant", "vww_96_int8", "kws_ref_model"]) {
    const bytes = readFileSync(modelPath(name));
    const g = importTflite(bytes);
    const n = lower(g).ops.length;
    const input = goldenRuns(name)[0].input;
    const plain = outputsOf(compileTflite(bytes, name, { patch: "off" }), [input]);
    let formed = 0;
    for (let trial = 0; trial < 40 && formed < 8; trial++) {
      const a = next(n), b = Math.min(n - 1, a + next(5));
      const c = forced(g, name, bytes, a, b, GRAINS[next(GRAINS.length)]);
      if (!c) continue;
      formed++;
      assert.deepEqual(outputsOf(c, [input]), plain, `${name} ops ${a}..${b}`);
    }
    assert.ok(formed > 0, name);
  }
});

/** The IC model with stages, and where its first STAGE record's step stream lies. */
function firstStage() {
  const c = compileTflite(readFileSync(modelPath("pretrainedResnet_quant")), "ic.tflite");
  const blob = Uint8Array.from(c.blob);
  const dv = new DataView(blob.buffer);
  let at = dv.getUint32(4 * HEADER_FIELDS.indexOf("opsOffset"), true);
  while (dv.getInt32(at, true) !== OPCODES.STAGE) at += dv.getInt32(at + 4, true);
  const field = (f: string) => at + 8 + 4 * RECORDS.StageParams.indexOf(f as never);
  return { blob, dv, steps: dv.getInt32(field("steps"), true), field };
}

/** The engine status an invoke of `blob` fails with (0 if it runs). */
function invokeStatus(blob: Uint8Array): number {
  try {
    const e = NodeEngine.load(blob);
    e.setInput(new Uint8Array(3072));
    e.invoke();
  } catch (err) {
    assert.ok(err instanceof EngineError, String(err));
    return (err as EngineError).status;
  }
  return 0;
}

test("a damaged stage is refused with the engine's status, never run outside the arena", () => {
  requireShared();
  // A patch naming a word past the end of its sub-record.
  let s = firstStage();
  assert.ok(s.dv.getInt32(s.steps + 4, true) > 0);
  s.dv.setInt32(s.steps + 8, 500, true);
  assert.equal(invokeStatus(s.blob), STATUS.BAD_RECORD);
  // A patch moving the output past the arena.
  s = firstStage();
  const n = s.dv.getInt32(s.steps + 4, true), outputWord = RECORDS.ConvParams.indexOf("output");
  let patched = 0;
  for (let k = 0; k < n; k++) {
    if (s.dv.getInt32(s.steps + 8 + 8 * k, true) === outputWord) { s.dv.setInt32(s.steps + 12 + 8 * k, 0x7fff0000, true); patched++; }
  }
  assert.equal(patched, 1); // the IC model's first stage starts with a convolution step
  assert.equal(invokeStatus(s.blob), STATUS.OUT_OF_ARENA);
  // More steps than the stream holds.
  s = firstStage();
  s.dv.setInt32(s.field("stepCount"), 1 << 20, true);
  assert.equal(invokeStatus(s.blob), STATUS.BAD_RECORD);
  // A step whose sub-record is the stage itself (stages do not nest).
  s = firstStage();
  const self = s.field("steps") - 8 - 4 * RECORDS.StageParams.indexOf("steps");
  s.dv.setInt32(s.steps, self, true);
  assert.equal(invokeStatus(s.blob), STATUS.BAD_RECORD);
});

test("--arena-budget: the planner spends the arena it is given on fewer, longer steps, with the same bytes", () => {
  requireShared();
  const ad = readFileSync(modelPath("ad01_int8")), kws = readFileSync(modelPath("kws_ref_model"));
  const adSmall = compileTflite(ad, "ad01_int8.tflite"), adBudget = compileTflite(ad, "ad01_int8.tflite", { arenaBudget: 1024 });
  assert.ok(adBudget.meta.plan.arenaBytes <= 1024 && adBudget.meta.plan.arenaBytes > adSmall.meta.plan.arenaBytes);
  const tiles = (c: Compiled) => c.meta.ops.reduce((s, o) => s + (o.tileCh ?? 0), 0);
  assert.ok(tiles(adBudget) > tiles(adSmall), "bigger weight tiles");
  const kwsBudget = compileTflite(kws, "kws_ref_model.tflite", { arenaBudget: 16_384 });
  assert.ok(kwsBudget.meta.plan.arenaBytes <= 16_384);
  assert.ok(!kwsBudget.meta.ops.some((o) => o.stage), "no stages where one op at a time fits");
  for (const [name, a, b] of [["ad01_int8", adSmall, adBudget], ["kws_ref_model", compileTflite(kws, "kws"), kwsBudget]] as const) {
    const inputs = goldenRuns(name).map((r) => r.input);
    assert.deepEqual(outputsOf(b, inputs), outputsOf(a, inputs), name);
  }
});

test("--arena-budget auto (the default) rounds the smallest arena up to a power of two and spends the rest on speed; min keeps the smallest", () => {
  requireShared();
  const inspect = (name: string, ...flags: string[]) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "host/cli/main.ts"), "inspect", modelPath(name), "--json", ...flags], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { peakArenaBytes: number; smallestArenaBytes: number; ops: { stage: unknown }[] };
  };
  for (const name of ["kws_ref_model", "ad01_int8"]) {
    const bytes = readFileSync(modelPath(name));
    const smallest = compileTflite(bytes, name).meta.plan.arenaBytes;
    let pow2 = 1;
    while (pow2 < smallest) pow2 *= 2;
    const dflt = inspect(name), auto = inspect(name, "--arena-budget", "auto"), min = inspect(name, "--arena-budget", "min");
    assert.deepEqual(dflt, auto, `${name}: auto is the default`);
    assert.equal(min.peakArenaBytes, smallest, `${name}: min is the smallest arena`);
    assert.equal(dflt.smallestArenaBytes, smallest);
    assert.ok(dflt.peakArenaBytes > smallest && dflt.peakArenaBytes <= pow2, `${name}: ${dflt.peakArenaBytes} in (${smallest}, ${pow2}]`);
    // The default plan computes the same bytes as the smallest one.
    const balanced = compileTflite(bytes, name, { arena: "auto" });
    assert.equal(balanced.meta.plan.arenaBytes, dflt.peakArenaBytes);
    const inputs = goldenRuns(name).map((r) => r.input);
    assert.deepEqual(outputsOf(balanced, inputs), outputsOf(compileTflite(bytes, name), inputs), name);
  }
  // KWS: the staged smallest arena (11,840 B) rounds up to 16,384 B, where one op at a time fits: no stages.
  assert.ok(inspect("kws_ref_model").ops.every((o) => !o.stage));
  assert.ok(inspect("kws_ref_model", "--arena-budget", "min").ops.some((o) => o.stage));
  const bad = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "host/cli/main.ts"), "inspect", modelPath("ad01_int8"), "--arena-budget", "lots"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--arena-budget must be auto, min or a whole number of bytes, not "lots"/);
});

test("--arena-budget below what the model needs is an error naming the least arena (exit 1)", () => {
  requireShared();
  assert.throws(() => compileTflite(readFileSync(modelPath("vww_96_int8")), "vww_96_int8.tflite", { arenaBudget: 20_000 }),
    (e: Error) => e instanceof BudgetError && /needs an arena of at least 28800 B; --arena-budget is 20000 B/.test(e.message));
  const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "host/cli/main.ts"), "inspect", modelPath("vww_96_int8"), "--arena-budget", "20000"], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /at least 28800 B/);
});
