// 2-D patch stages (--patch RxC, MCUNetV2): the same bytes as one op at a time on random chains
// of convolutions and pooling (odd strides, dilation, VALID and SAME padding, grids that do not
// divide the output) and on the shared models; the recomputed MACs as counted independently;
// --max-overhead choosing the split; the CLI's flags and errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { compileTflite, compileLowered } from "../../host/compile.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { lower } from "../../host/passes/lower.ts";
import { withPatchStage, buildPatchStage, patchChainProblem } from "../../host/passes/patches.ts";
import { outputsOf, inputsFor } from "./plan-outputs.ts";
import { REPO, modelPath, requireShared, goldenRuns } from "./shared.ts";
import { buildSynthetic, type Layer, type ModelSpec } from "./synthetic-models.ts";

/** A seeded random chain of 2-4 spatial layers on a small image. */
function randomChain(seed: number): ModelSpec {
  let x = seed;
  const next = (m: number) => { x = (x * 1103515245 + 12345) >>> 0; return (x >>> 8) % m; };
  const layers: Layer[] = [];
  const count = 2 + next(3);
  for (let i = 0; i < count; i++) {
    const k: [number, number] = [1 + next(4), 1 + next(4)];
    const stride: [number, number] = [1 + next(2), 1 + next(3)];
    const padding = next(3) === 0 ? "VALID" : "SAME";
    const kind = next(5);
    if (kind === 0) layers.push({ op: next(2) ? "MAX_POOL_2D" : "AVERAGE_POOL_2D", k: [1 + next(3), 1 + next(3)], stride, padding });
    else if (kind === 1) layers.push({ op: "DEPTHWISE_CONV_2D", mult: 1, k, stride, dilation: next(3) === 0 ? [2, 1] : [1, 1], padding, act: "RELU" });
    else if (kind === 2) layers.push({ op: "DEPTHWISE_CONV_2D", mult: 1, k: [3, 3], stride: [1, 1], padding: "SAME", act: "RELU6" });
    else layers.push({ op: "CONV_2D", outC: 4 + next(6), k, stride, dilation: next(4) === 0 ? [1, 2] : [1, 1], padding, act: next(2) ? "RELU" : "NONE" });
  }
  return {
    name: `chain_${seed}`, about: "random spatial chain", seed,
    input: { shape: [1, 14 + next(12), 12 + next(14), 1 + next(4)], dtype: "int8", quant: { scale: 0.02, zp: -3 } },
    layers,
  };
}

test("random chains: every split point and grid gives the bytes of one op at a time", () => {
  let stages = 0;
  for (let seed = 1; stages < 60 && seed < 80; seed++) {
    let bytes: Uint8Array;
    try { bytes = buildSynthetic(randomChain(seed)).bytes; } catch { continue; } // a chain whose sizes collapse
    const g = importTflite(bytes);
    const plain = lower(g);
    const inputs = inputsFor(g, [seed, seed + 100]);
    const expected = outputsOf(compileTflite(bytes, "chain", { patch: "off" }), inputs);
    for (let n = 1; !patchChainProblem(g, plain, n); n++) {
      for (const grid of [{ rows: 2, cols: 2 }, { rows: 3, cols: 1 }, { rows: 1, cols: 4 }, { rows: 3, cols: 3 }]) {
        let staged;
        try { staged = withPatchStage(g, plain, n, grid); } catch { continue; } // the grid is finer than the output
        stages++;
        assert.deepEqual(outputsOf(compileLowered(g, staged, "chain", bytes), inputs), expected, `seed ${seed}, ${n} ops, ${grid.rows}x${grid.cols}`);
      }
    }
  }
  assert.ok(stages >= 60, `only ${stages} patch stages formed`);
});

test("the recomputed MACs: two 3x3 SAME convolutions on 8x8 in a 2x2 grid compute a 5x5 first-layer region per patch", () => {
  const spec: ModelSpec = {
    name: "two_convs", about: "", seed: 5, input: { shape: [1, 8, 8, 2], dtype: "int8", quant: { scale: 0.02, zp: 0 } },
    layers: [
      { op: "CONV_2D", outC: 3, k: [3, 3], padding: "SAME" },
      { op: "CONV_2D", outC: 4, k: [3, 3], padding: "SAME" },
    ],
  };
  const g = importTflite(buildSynthetic(spec).bytes);
  const plain = lower(g);
  const stage = buildPatchStage(g, plain, 2, { rows: 2, cols: 2 });
  // Each 4x4 patch of the second output needs a 5x5 region of the first (the far side is clipped):
  // 4 x 25 = 100 first-layer outputs instead of 64, each 3 * 3 * 2 MACs.
  assert.equal(stage.extraMacs, (100 - 64) * 3 * 3 * 2 * 3);
  assert.deepEqual(stage.regions[0][1], { r0: 0, r1: 5, c0: 0, c1: 5 });
  assert.deepEqual(stage.regions[3][0], { r0: 2, r1: 8, c0: 2, c1: 8 });
  assert.equal(buildPatchStage(g, plain, 1, { rows: 2, cols: 2 }).extraMacs, 0, "one op alone recomputes nothing");
});

test("shared models: --patch RxC gives TFLM's bytes; the planner keeps the split within --max-overhead and reports it", () => {
  requireShared();
  for (const [name, grids] of [["vww_96_int8", ["2x2", "3x3", "4x4", "5x2"]], ["kws_ref_model", ["2x2"]], ["pretrainedResnet_quant", ["3x3"]]] as const) {
    const bytes = readFileSync(modelPath(name));
    const runs = goldenRuns(name);
    for (const text of grids) {
      const [rows, cols] = text.split("x").map(Number);
      const c = compileTflite(bytes, `${name}.tflite`, { patch: { rows, cols } });
      assert.deepEqual(outputsOf(c, runs.map((r) => r.input)), runs.map((r) => Uint8Array.from(r.output)), `${name} ${text}`);
      const p = c.meta.ops[0].stage?.patches;
      assert.ok(p && p.grid[0] === rows && p.grid[1] === cols && p.overheadPercent <= 10, `${name} ${text}: ${JSON.stringify(p)}`);
    }
  }
  const vww = readFileSync(modelPath("vww_96_int8"));
  const loose = compileTflite(vww, "vww", { patch: { rows: 4, cols: 4 } }).meta;
  const tight = compileTflite(vww, "vww", { patch: { rows: 4, cols: 4 }, maxOverhead: 1 }).meta;
  assert.equal(loose.ops[0].stage!.ops.length, 4);
  assert.ok(loose.plan.arenaBytes < tight.plan.arenaBytes, "a tighter overhead limit leaves fewer ops in the patches and more arena");
  assert.ok(tight.ops[0].stage!.patches!.overheadPercent <= 1);
});

function cli(...args: string[]) {
  return spawnSync("npx", ["tsx", join(REPO, "host/cli/main.ts"), ...args], { encoding: "utf8", cwd: REPO });
}

test("CLI: inspect --patch 3x3 shows the grid and overhead (and --json); bad --patch / --max-overhead exit 2; a model without a convolution first exits 1", () => {
  requireShared();
  const text = cli("inspect", modelPath("vww_96_int8"), "--patch", "3x3");
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /STAGE CONV\+DW\+CONV\+DW \(3x3 patches\)/);
  assert.match(text.stdout, /patches {6}3x3 over the first 4 ops: [\d,]+ MACs computed again, \d+\.\d\d% of the model's/);
  const json = JSON.parse(cli("inspect", modelPath("vww_96_int8"), "--patch", "3x3", "--json").stdout);
  assert.deepEqual(json.patches.grid, [3, 3]);
  assert.equal(json.patches.ops, 4);
  for (const bad of [["--patch", "0x2"], ["--patch", "2x"], ["--patch", "rows"], ["--max-overhead", "-1"], ["--max-overhead", "ten"]]) {
    const r = cli("inspect", modelPath("vww_96_int8"), ...bad);
    assert.equal(r.status, 2, `${bad.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, bad[0] === "--patch" ? /--patch must be one of auto, off, RxC/ : /--max-overhead must be a percentage/);
  }
  const ad = cli("inspect", modelPath("ad01_int8"), "--patch", "2x2");
  assert.equal(ad.status, 1);
  assert.match(ad.stderr, /--patch 2x2: op 0 \(FULLY_CONNECTED\) is not a convolution or pooling/);
  const tight = cli("inspect", modelPath("vww_96_int8"), "--patch", "2x2", "--max-overhead", "0");
  assert.equal(tight.status, 0, "a split of one op recomputes nothing: it fits any limit");
});
