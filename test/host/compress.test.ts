// --compress: sparse 1x1 weights where they are smaller (auto) or every weight dense (off),
// with the same output bytes either way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { compileTflite } from "../../host/compile.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { REPO, INT8_MODELS, modelPath, requireShared, goldenRuns } from "./shared.ts";

function output(blob: Uint8Array, input: Uint8Array): Uint8Array {
  const e = NodeEngine.load(blob);
  e.setInput(input);
  e.invoke();
  return Uint8Array.from(e.output());
}

test("--compress auto stores sparse layers only where smaller, with the bytes of --compress off; all models together below the .tflite", () => {
  requireShared();
  let stored = 0, tflite = 0;
  for (const name of INT8_MODELS) {
    const bytes = readFileSync(modelPath(name));
    const auto = compileTflite(bytes, name), off = compileTflite(bytes, name, { compress: "off" });
    assert.ok(off.meta.ops.every((o) => o.storage !== "sparse"), name);
    assert.ok(auto.meta.weightBytes <= off.meta.weightBytes, name);
    for (const op of auto.meta.ops.filter((o) => o.storage === "sparse")) {
      const dense = off.meta.ops.find((o) => o.source === op.source && o.storage === "dense");
      assert.ok(dense && op.flashBytes! < dense.flashBytes!, `${name} op ${op.source}: sparse only where smaller`);
    }
    for (const run of goldenRuns(name)) assert.deepEqual(output(auto.blob, run.input), output(off.blob, run.input), name);
    stored += auto.meta.weightBytes;
    tflite += auto.meta.tfliteWeightBytes;
  }
  // The memory issue's bar: weights in flash at least 15% smaller than in the .tflite files.
  assert.ok(stored <= 0.85 * tflite, `${stored} B stored vs ${tflite} B in the .tflite files`);
});

test("a wrong --compress is a usage error naming the modes", () => {
  requireShared();
  const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "host/cli/main.ts"), "inspect", modelPath("vww_96_int8"), "--compress", "huffman"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--compress must be one of auto, off, not "huffman"/);
});
