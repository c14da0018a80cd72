// The CLI as a user calls it: real processes, real files, exit codes and messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTlm } from "../../host/format/tlm.ts";
import { REPO, modelPath, goldenRuns, requireShared, xorshiftBytes } from "./shared.ts";

requireShared();
const tmp = mkdtempSync(join(tmpdir(), "tl-cli-"));

function tinyloop(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, "bin/tinyloop.mjs"), ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("run writes TFLM's output bytes for a .tflite and for its compiled .tlm", () => {
  const [run] = goldenRuns("kws_ref_model");
  const input = join(tmp, "kws_in.bin");
  writeFileSync(input, run.input);
  const out1 = join(tmp, "kws_out1.bin");
  let r = tinyloop("run", modelPath("kws_ref_model"), "--input", input, "--output", out1);
  assert.equal(r.code, 0, r.err);
  assert.ok(readFileSync(out1).equals(Buffer.from(run.output)));

  const tlm = join(tmp, "kws.tlm");
  r = tinyloop("compile", modelPath("kws_ref_model"), "-o", tlm);
  assert.equal(r.code, 0, r.err);
  const out2 = join(tmp, "kws_out2.bin");
  r = tinyloop("run", tlm, "--input", input, "--output", out2);
  assert.equal(r.code, 0, r.err);
  assert.ok(readFileSync(out2).equals(Buffer.from(run.output)));
});

test("run --dump writes t<INDEX>.bin files and index.json", () => {
  const input = join(tmp, "hw_in.bin");
  writeFileSync(input, xorshiftBytes(7, 1));
  const dir = join(tmp, "dump");
  const r = tinyloop("run", modelPath("hello_world_int8"), "--input", input, "--output", join(tmp, "hw_out.bin"), "--dump", dir);
  assert.equal(r.code, 0, r.err);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  for (const t of index.tensors) {
    assert.ok(existsSync(join(dir, `t${t.index}.bin`)));
    assert.ok(Array.isArray(t.shape) && typeof t.name === "string" && Array.isArray(t.scale) && Array.isArray(t.zeroPoint));
  }
  assert.ok(readFileSync(join(dir, "t0.bin")).equals(Buffer.from(xorshiftBytes(7, 1))));
});

test("inspect --json reports the plan", () => {
  const r = tinyloop("inspect", modelPath("vww_96_int8"), "--json", "--patch", "off");
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.peakArenaBytes > 0 && j.peakArenaBytes < 103392);
  // VWW's pointwise layers are mostly zeros and stored sparse: fewer bytes than the .tflite's.
  assert.ok(j.weightBytes > 50_000 && j.weightBytes < j.tfliteWeightBytes, `${j.weightBytes} vs ${j.tfliteWeightBytes}`);
  assert.equal(j.macs, j.ops.reduce((s: number, o: { macs: number }) => s + o.macs, 0));
  assert.equal(j.ops.length, 30); // RESHAPE is an alias and needs no op
  assert.ok(j.ops[j.peakOp]);
});

test("inspect --patch auto (the default) runs VWW's first layers in stages within 32 KB; a bad --patch is a usage error", () => {
  const r = tinyloop("inspect", modelPath("vww_96_int8"), "--json");
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.peakArenaBytes <= 32_768 && j.peakArenaBytesWithoutStages === 55_376, `${j.peakArenaBytes} / ${j.peakArenaBytesWithoutStages}`);
  const stages = j.ops.filter((o: { stage: unknown }) => o.stage);
  assert.ok(stages.length > 0);
  assert.deepEqual(stages[0].stage.tfliteOps.slice(0, 1), [0]);
  assert.equal(j.withoutStages.arenaBytes, 55_376);
  assert.equal(j.withoutStages.timeline.length, 30);
  assert.equal(Math.max(...j.withoutStages.timeline), 55_376);
  const text = tinyloop("inspect", modelPath("vww_96_int8"));
  assert.match(text.out, /STAGE CONV/);
  assert.match(text.out, /55,376 B one op at a time \(--patch off\)/);
  const bad = tinyloop("inspect", modelPath("vww_96_int8"), "--patch", "4x4x4");
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--patch must be one of auto, off, RxC \(e\.g\. 2x2\), not "4x4x4"/);
});

test("inspect --svg draws one box per planned buffer; --json adds weightFlashBytes and the timeline", () => {
  const svg = join(tmp, "plan.svg");
  let r = tinyloop("inspect", modelPath("pretrainedResnet_quant"), "--svg", svg);
  assert.equal(r.code, 0, r.err);
  r = tinyloop("inspect", modelPath("pretrainedResnet_quant"), "--json");
  const j = JSON.parse(r.out);
  const text = readFileSync(svg, "utf8");
  assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(text, /<\/svg>$/);
  const boxes = text.match(/<rect x=/g) ?? [];
  const tlm = join(tmp, "ic.tlm");
  tinyloop("compile", modelPath("pretrainedResnet_quant"), "-o", tlm);
  const buffers = readTlm(readFileSync(tlm)).plan.buffers;
  assert.equal(boxes.length, buffers.length);
  assert.ok(j.weightFlashBytes > 0 && j.timeline.length === j.ops.length);
  assert.equal(Math.max(...buffers.map((b: { offset: number; bytes: number }) => b.offset + b.bytes)), j.peakArenaBytes);
});

test("bad calls fail with a clear message and a non-zero exit", () => {
  let r = tinyloop("run", modelPath("hello_world_int8"), "--input", join(tmp, "missing.bin"), "--output", join(tmp, "o.bin"));
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot read input .*missing\.bin: ENOENT/);

  const wrong = join(tmp, "wrong.bin");
  writeFileSync(wrong, new Uint8Array(5));
  r = tinyloop("run", modelPath("hello_world_int8"), "--input", wrong, "--output", join(tmp, "o.bin"));
  assert.equal(r.code, 2);
  assert.match(r.err, /has 5 bytes; .* needs exactly 1 raw bytes/);

  r = tinyloop("inspect", join(tmp, "nope.tflite"));
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot read model .*nope\.tflite: ENOENT/);

  r = tinyloop("run", modelPath("hello_world_int8"), "--input", wrong, "--output", join(tmp, "o.bin"), "--bogus");
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option '--bogus'/);

  r = tinyloop("inspect", modelPath("ad01_fp32"));
  assert.equal(r.code, 1);
  assert.match(r.err, /float32/);
});
