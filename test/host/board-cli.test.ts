// The board commands as a user calls them, on the default virtual board (qemu-m4) and native.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, SHARED, INT8_MODELS, modelPath, requireShared } from "./shared.ts";

requireShared();
const tmp = mkdtempSync(join(tmpdir(), "tl-board-cli-"));

function tinyloop(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, "bin/tinyloop.mjs"), ...args], { encoding: "utf8", timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

for (const board of ["qemu-m4", "native"]) {
  test(`run --board ${board} gives TFLM's bytes`, () => {
    const golden = join(SHARED, "golden", "kws_ref_model");
    const out = join(tmp, `kws-${board}.bin`);
    const r = tinyloop("run", modelPath("kws_ref_model"), "--board", board, "--input", join(golden, "input_2.bin"), "--output", out);
    assert.equal(r.code, 0, r.err);
    assert.ok(readFileSync(out).equals(readFileSync(join(golden, "output_2.bin"))));
  });
}

test("bench --board qemu-m4 --json reports cycles, instructions and measured memory", () => {
  const r = tinyloop("bench", modelPath("ad01_int8"), "--board", "qemu-m4", "--runs", "2", "--per-op", "--json");
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ["cycles", "instructions", "peakArenaBytes", "stackBytes", "staticRamBytes", "flashBytes", "sramBytes"]) {
    assert.ok(Number.isInteger(j[k]) && j[k] > 0, `${k} = ${j[k]}`);
  }
  assert.equal(j.peakArenaBytes, j.plannedArenaBytes);
  assert.ok(j.flashBytes <= 128 * 1024, `firmware flash ${j.flashBytes}`);
  assert.equal(j.sramBytes, j.staticRamBytes + j.engineStaticBytes + j.peakArenaBytes + j.stackBytes);
  // --per-op: one entry per op, instructions adding up to the whole inference (virtual time is exact).
  assert.equal(j.perOp.length, 10);
  const sum = j.perOp.reduce((a: number, o: { cost: number }) => a + o.cost, 0);
  assert.ok(Math.abs(sum / j.instructions - 1) < 0.03, `per-op sum ${sum} vs ${j.instructions}`);
  assert.ok(j.perOp.every((o: { kind: string; perMac: number }) => o.kind === "FULLY_CONNECTED" && o.perMac > 0));
});

test("hil on qemu-m4: every shared model with --patch auto (stages where they help), --patch off and 2-D patches (--patch 3x3) matches the host", () => {
  requireShared();
  const staged = ["pretrainedResnet_quant", "vww_96_int8", "kws_ref_model"];
  for (const [patch, names] of [["auto", INT8_MODELS], ["off", staged], ["3x3", staged]] as const) {
    const r = tinyloop("hil", "--board", "qemu-m4", "--patch", patch, ...names.map(modelPath), "--inputs", "1");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /hil: \d+ passed, 0 failed/);
    for (const name of names) assert.match(r.out, new RegExp(`PASS ${name}\\.tflite`), `${name} --patch ${patch}`);
  }
});

test("hil on qemu-m4 passes for a model and writes JUnit XML", () => {
  const junit = join(tmp, "hil.xml");
  const r = tinyloop("hil", "--board", "qemu-m4", modelPath("hello_world_int8"), modelPath("micro_speech_quantized"), "--inputs", "2", "--junit", junit);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /hil: 8 passed, 0 failed/);
  const xml = readFileSync(junit, "utf8");
  assert.match(xml, /<testsuite name="tinyloop hil qemu-m4" tests="8" failures="0"/);
});

test("board commands refuse bad calls clearly", () => {
  let r = tinyloop("run", modelPath("hello_world_int8"), "--board", "qemu-m9", "--input", "x", "--output", "y");
  assert.equal(r.code, 1);
  assert.match(r.err, /unknown board "qemu-m9".*qemu-m4/s);
  r = tinyloop("hil", "--board", "host");
  assert.equal(r.code, 2);
  assert.match(r.err, /compares a board with the host/);
  r = tinyloop("bench", modelPath("hello_world_int8"), "--runs", "0");
  assert.equal(r.code, 2);
  assert.match(r.err, /--runs must be/);
  r = tinyloop("flash", "--board", "nucleo-f412zg");
  assert.notEqual(r.code, 0);
  assert.match(r.err, /nucleo-f412zg/);
});

test("stream sends CSV rows to qemu-m4 and predicts what the host predicts, also from stdin", () => {
  const csv = join(tmp, "x.csv");
  writeFileSync(csv, "x,label\n0.5,a\n1.0,b\n2.0,c\n4.0,d\n");
  const board = tinyloop("stream", modelPath("hello_world_int8"), "--board", "qemu-m4", "--source", csv, "--json");
  assert.equal(board.code, 0, board.err);
  const host = tinyloop("stream", modelPath("hello_world_int8"), "--board", "host", "--source", csv, "--json");
  assert.equal(host.code, 0, host.err);
  const parse = (out: string) => out.trim().split("\n").map((l) => JSON.parse(l));
  const b = parse(board.out), h = parse(host.out);
  assert.equal(b.length, 4);
  assert.deepEqual(b.map((p) => [p.label, p.score]), h.map((p) => [p.label, p.score]));
  assert.ok(b.every((p) => p.instructions > 0));
  // sin(x) within the model's accuracy (it was trained on x in [0, 2 pi])
  b.forEach((p, i) => assert.ok(Math.abs(p.score - Math.sin([0.5, 1.0, 2.0, 4.0][i])) < 0.15, `${p.label}: ${p.score}`));

  const piped = spawnSync(process.execPath, [join(REPO, "bin/tinyloop.mjs"), "stream", modelPath("hello_world_int8"), "--board", "host", "--source", "-", "--json"],
    { input: "0.5\n1.0\n", encoding: "utf8", timeout: 60_000 });
  assert.equal(piped.status, 0, piped.stderr);
  assert.deepEqual(parse(piped.stdout).map((p) => p.score), h.slice(0, 2).map((p) => p.score));

  const bad = tinyloop("stream", modelPath("hello_world_int8"), "--board", "host", "--source", join(tmp, "nope.xyz"));
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /nope\.xyz/);
});
