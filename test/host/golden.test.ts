// The six real int8 models give exactly TFLM's bytes: outputs and every intermediate tensor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel, compileTflite } from "../../host/compile.ts";
import { runOnHost } from "../../host/cli/run.ts";
import { INT8_MODELS, modelPath, goldenRuns, goldenTensors, requireShared, xorshiftBytes, SHARED } from "./shared.ts";

requireShared();

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  const i = a.findIndex((v, k) => v !== b[k]);
  return i < 0 ? "none" : `byte ${i}: ${(a[i] << 24) >> 24} vs ${(b[i] << 24) >> 24}`;
}

for (const name of INT8_MODELS) {
  test(`${name}: outputs are byte-identical with TFLM on the golden inputs`, () => {
    const c = loadModel(modelPath(name));
    for (const run of goldenRuns(name)) {
      const { outputs } = runOnHost(c, [run.input]);
      assert.ok(Buffer.from(outputs[0]).equals(Buffer.from(run.output)), `input ${run.key}: first difference ${firstDifference(outputs[0], run.output)}`);
    }
  });

  test(`${name}: every intermediate tensor from --dump matches TFLM's`, () => {
    const c = loadModel(modelPath(name), { patch: "off" }); // stages keep some tensors only in rings
    const dir = mkdtempSync(join(tmpdir(), `tl-dump-${name}-`));
    runOnHost(c, [goldenRuns(name)[0].input], dir);
    const golden = goldenTensors(name);
    assert.ok(golden.size > 0);
    for (const [index, want] of golden) {
      const got = readFileSync(join(dir, `t${index}.bin`));
      assert.ok(got.equals(Buffer.from(want)), `tensor ${index}: first difference ${firstDifference(got, want)}`);
    }
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    assert.equal(index.tensors.length, golden.size);
  });

  test(`${name}: the golden inputs are the documented xorshift32 stream`, () => {
    // Guards the generator used for inputs beyond the golden ones (bench, hil).
    for (const run of goldenRuns(name)) assert.ok(Buffer.from(xorshiftBytes(Number(run.key), run.input.length)).equals(Buffer.from(run.input)));
  });

  test(`${name}: planned arena and measured high-water stay within TFLM's arena (--arena-budget min)`, () => {
    // The default (auto) rounds the arena up to a power of two for speed; the smallest is the comparison.
    const c = loadModel(modelPath(name), { arena: "min" });
    const meta = JSON.parse(readFileSync(join(SHARED, "golden", name, "meta.json"), "utf8"));
    const { peakBytes } = runOnHost(c, [goldenRuns(name)[0].input]);
    assert.ok(peakBytes <= c.meta.plan.arenaBytes, `measured ${peakBytes} > planned ${c.meta.plan.arenaBytes}`);
    assert.ok(peakBytes > 0);
    assert.ok(c.meta.plan.arenaBytes < meta.arena_used_bytes, `planned ${c.meta.plan.arenaBytes} >= TFLM ${meta.arena_used_bytes}`);
  });
}

for (const name of INT8_MODELS) {
  test(`${name}: smallest, medium and whole-layer weight tiles give the same bytes`, () => {
    const [run] = goldenRuns(name);
    const bytes = readFileSync(modelPath(name));
    const tiles = new Set<string>();
    for (const minTileBytes of [0, 1024, 1 << 30]) {
      const c = compileTflite(bytes, name, { minTileBytes });
      tiles.add(JSON.stringify(c.meta.ops.map((o) => [o.tileCh, o.inChunk])));
      const { outputs } = runOnHost(c, [run.input]);
      assert.ok(Buffer.from(outputs[0]).equals(Buffer.from(run.output)), `minTileBytes ${minTileBytes}`);
    }
    assert.ok(tiles.size > 1, "the three plans should differ in their tiles");
  });
}

// Inputs beyond the golden ones (saturated, constant, small, more xorshift seeds), with
// outputs from TFLM's reference kernels (provenance in each JSON file).
import { extraInput } from "./extra-inputs.ts";
import { REPO } from "./shared.ts";
for (const name of INT8_MODELS) {
  test(`${name}: byte-identical with TFLM on 20 more inputs`, () => {
    const extra = JSON.parse(readFileSync(join(REPO, "test/golden-extra", `${name}.json`), "utf8"));
    const c = loadModel(modelPath(name));
    const bytes = c.meta.tensors.find((t) => t.index === c.meta.inputs[0])!.bytes;
    assert.equal(extra.cases.length, 20);
    for (const k of extra.cases) {
      const { outputs } = runOnHost(c, [extraInput(k.kind, k.seed, bytes)]);
      assert.equal(Buffer.from(outputs[0]).toString("hex"), k.output, `${k.kind} seed ${k.seed}`);
    }
  });
}
