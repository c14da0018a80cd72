// Synthetic int8 models for every op the importer supports beyond the six real models
// (pooling, dilated / strided / depth-multiplier convolutions, MUL, broadcast ADD, PAD,
// PADV2, CONCATENATION, MEAN, QUANTIZE, DEQUANTIZE, SOFTMAX beta, batched FC, RESHAPE,
// SQUEEZE) give exactly TFLM's bytes: the output for 20 inputs, and every intermediate
// tensor. The models are rebuilt from the specs in test/golden-synthetic/*.json
// (regenerate with `node --import tsx test/host/synthetic-models.ts`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileTflite } from "../../host/compile.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { runOnHost } from "../../host/cli/run.ts";
import { REPO } from "./shared.ts";
import {
  SYNTHETIC_MODELS, CASES, PRODUCED_BY, buildSynthetic, syntheticInput, tensorsDigest, sha256Hex, type ModelSpec,
} from "./synthetic-models.ts";
import { writeTflite, OPERATORS } from "./tflite-writer.ts";

interface Golden {
  producedBy: string;
  tfliteSha256: string;
  spec: ModelSpec;
  tensors: Record<string, string>;
  cases: { kind: string; seed: number; output: string; tensors: string }[];
}

const GOLDEN = join(REPO, "test/golden-synthetic");
const golden = (name: string): Golden => JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), "utf8"));

/** Runs with --dump into a fresh directory; returns sha256 per dumped tensor and the tensor count of index.json. */
function dumpHashes(c: ReturnType<typeof compileTflite>, input: Uint8Array): { hashes: Map<number, string>; indexed: number } {
  const dir = mkdtempSync(join(tmpdir(), "tl-synth-"));
  try {
    runOnHost(c, [input], dir);
    const hashes = new Map<number, string>();
    for (const f of readdirSync(dir)) {
      const m = /^t(\d+)\.bin$/.exec(f);
      if (m) hashes.set(Number(m[1]), sha256Hex(readFileSync(join(dir, f))));
    }
    const indexed = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).tensors.length;
    return { hashes, indexed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function firstDifference(got: string, want: string): string {
  const a = Buffer.from(got, "hex"), b = Buffer.from(want, "hex");
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  const i = a.findIndex((v, k) => v !== b[k]);
  return `byte ${i}: ${(a[i] << 24) >> 24} vs TFLM ${(b[i] << 24) >> 24}`;
}

test("every synthetic model has golden data with the same spec, and nothing else is stored", () => {
  const stored = readdirSync(GOLDEN).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
  assert.deepEqual(stored, SYNTHETIC_MODELS.map((s) => s.name).sort());
  for (const spec of SYNTHETIC_MODELS) {
    const g = golden(spec.name);
    assert.deepEqual(g.spec, spec, `${spec.name}: the spec in synthetic-models.ts differs from the one TFLM ran; regenerate`);
    assert.equal(g.producedBy, PRODUCED_BY);
    assert.deepEqual(g.cases.map(({ kind, seed }) => ({ kind, seed })), CASES);
  }
});

test("the writer's models read back through tinyloop's importer with the same ops, options and tensors", () => {
  for (const spec of SYNTHETIC_MODELS) {
    const { desc, bytes } = buildSynthetic(spec);
    const g = importTflite(bytes, spec.name);
    assert.equal(g.ops.length, desc.ops.length);
    desc.ops.forEach((op, k) => {
      assert.equal(g.ops[k].type, op.type);
      assert.deepEqual(g.ops[k].inputs, op.inputs);
      assert.deepEqual(g.ops[k].outputs, op.outputs);
      for (const [name, v] of Object.entries(op.options ?? {})) {
        if (name in g.ops[k].options) assert.deepEqual(g.ops[k].options[name], typeof v === "number" ? Math.fround(v) : v, `${spec.name} op ${k} ${name}`);
      }
    });
    desc.tensors.forEach((t, i) => {
      const r = g.tensors[i];
      assert.deepEqual(r.shape, t.shape);
      assert.equal(r.dtype, t.dtype);
      assert.deepEqual(r.scale, (t.scale ?? []).map(Math.fround));
      assert.equal(Buffer.from(r.data ?? []).toString("hex"), Buffer.from(t.data ?? []).toString("hex"));
    });
    assert.deepEqual(g.inputs, desc.inputs);
    assert.deepEqual(g.outputs, desc.outputs);
  }
  // Operator codes above 127 go through builtin_code (deprecated_builtin_code holds 127).
  const q = importTflite(writeTflite({
    tensors: [{ shape: [2], dtype: "float32" }, { shape: [2], dtype: "int8", scale: [0.5], zeroPoint: [1] }],
    ops: [{ type: "QUANTIZE", inputs: [0], outputs: [1] }], inputs: [0], outputs: [1],
  }));
  assert.equal(q.ops[0].type, "QUANTIZE");
  assert.equal(OPERATORS.QUANTIZE.code, 114);
});

for (const spec of SYNTHETIC_MODELS) {
  const name = spec.name;

  test(`${name}: the written .tflite is unchanged (sha256)`, () => {
    const g = golden(name);
    assert.equal(buildSynthetic(g.spec).sha256, g.tfliteSha256, "the writer or the model builder changed; regenerate the golden data with TFLM");
  });

  test(`${name}: outputs are byte-identical with TFLM on 20 inputs`, () => {
    const g = golden(name);
    const c = compileTflite(buildSynthetic(g.spec).bytes, `${name}.tflite`);
    for (const k of g.cases) {
      const { outputs } = runOnHost(c, [syntheticInput(g.spec, k.kind, k.seed)]);
      const got = Buffer.from(outputs[0]).toString("hex");
      assert.ok(got === k.output, `${k.kind} seed ${k.seed}: first difference ${firstDifference(got, k.output)}`);
    }
  });

  test(`${name}: every intermediate tensor from --dump matches TFLM's`, () => {
    const g = golden(name);
    const c = compileTflite(buildSynthetic(g.spec).bytes, `${name}.tflite`, { patch: "off" });
    const tensorName = (i: number) => c.meta.tensors.find((t) => t.index === i)?.name ?? "?";
    // Per tensor for the first input.
    const first = dumpHashes(c, syntheticInput(g.spec, g.cases[0].kind, g.cases[0].seed));
    const want = new Map(Object.entries(g.tensors).map(([i, h]) => [Number(i), h]));
    assert.ok(want.size > 0);
    for (const [i, h] of want) {
      assert.ok(first.hashes.has(i), `tensor ${i} ("${tensorName(i)}") was not dumped`);
      assert.equal(first.hashes.get(i), h, `tensor ${i} ("${tensorName(i)}") differs from TFLM's`);
    }
    assert.equal(first.hashes.size, want.size);
    assert.equal(first.indexed, want.size);
    // All tensors together for every input.
    for (const k of g.cases) {
      const { hashes } = dumpHashes(c, syntheticInput(g.spec, k.kind, k.seed));
      assert.equal(tensorsDigest(hashes), k.tensors, `${k.kind} seed ${k.seed}: some intermediate tensor differs from TFLM's`);
    }
  });
}
