// Bad models are clear errors naming the problem, never crashes or hangs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compileTflite, FormatError, UnsupportedError, TlmFormatError } from "../../host/compile.ts";
import { readTlm } from "../../host/format/tlm.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { EngineError } from "../../host/runners/engine-status.ts";
import { modelPath, requireShared, xorshiftBytes } from "./shared.ts";

requireShared();
const hello = readFileSync(modelPath("hello_world_int8"));
const KNOWN = [FormatError, UnsupportedError, TlmFormatError, EngineError];

test("an empty file is rejected as too short", () => {
  assert.throws(() => compileTflite(new Uint8Array(0)), (e) => e instanceof FormatError && /too short/.test(e.message));
});

test("a file that is not a flatbuffer names the wrong identifier", () => {
  assert.throws(() => compileTflite(new TextEncoder().encode("hello, this is not a model at all")), (e) => e instanceof FormatError && /identifier/.test(e.message));
});

test("every truncation of a real model is a FormatError, not a crash", () => {
  for (let n = 8; n < hello.length; n += 37) {
    assert.throws(() => compileTflite(hello.subarray(0, n)), (e) => e instanceof FormatError, `truncated at ${n}`);
  }
});

test("a float model is refused with the tensor named", () => {
  const float = readFileSync(modelPath("ad01_fp32"));
  assert.throws(() => compileTflite(float), (e) => e instanceof UnsupportedError && /float32/.test(e.message) && /tensor 0/.test(e.message));
});

test("random corruption never escapes as anything but a known error", () => {
  const rnd = xorshiftBytes(12345, 4 * 300);
  let compiled = 0;
  for (let k = 0; k < 300; k++) {
    const bad = Uint8Array.from(hello);
    const count = 1 + (rnd[4 * k] % 4);
    for (let j = 0; j < count; j++) {
      const at = ((rnd[4 * k + 1] << 8) | rnd[4 * k + 2]) * (j + 1) % bad.length;
      bad[at] ^= rnd[4 * k + 3] | 1;
    }
    try {
      const c = compileTflite(bad);
      compiled++;
      const e = NodeEngine.load(c.blob);
      e.setInput(new Uint8Array(e.inputBytes(0)));
      e.invoke();
    } catch (e) {
      assert.ok(KNOWN.some((K) => e instanceof K), `corruption ${k} escaped as ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
  }
  assert.ok(compiled < 300, "some corruptions must be detected");
});

test("a truncated or altered .tlm is refused by the reader and by the engine", () => {
  const { blob } = compileTflite(hello);
  assert.throws(() => readTlm(blob.subarray(0, blob.length - 1)), (e) => e instanceof TlmFormatError && /truncated/.test(e.message));
  const badMagic = Uint8Array.from(blob); badMagic[0] ^= 0xff;
  assert.throws(() => NodeEngine.load(badMagic), (e) => e instanceof EngineError && /magic/.test(e.message));
  const short = blob.subarray(0, 300);
  assert.throws(() => { const e = NodeEngine.load(short); e.invoke(); }, (e) => e instanceof EngineError);
});

test("an op record pointing outside the arena is refused by the engine", () => {
  const { blob } = compileTflite(hello);
  const bad = Uint8Array.from(blob);
  const dv = new DataView(bad.buffer);
  // First record's first param (the FC input offset) at opsOffset + 8.
  const opsOffset = dv.getUint32(20, true);
  dv.setInt32(opsOffset + 8, 1 << 30, true);
  const e = NodeEngine.load(bad);
  assert.throws(() => e.invoke(), (err) => err instanceof EngineError && /outside the planned arena/.test(err.message));
});

test("random corruption of a .tlm's records and tiles is a status from the engine, never a crash", () => {
  for (const name of ["kws_ref_model", "pretrainedResnet_quant"]) {
    const { blob } = compileTflite(readFileSync(modelPath(name)));
    const dv = new DataView(blob.buffer, blob.byteOffset);
    const opsOffset = dv.getUint32(20, true), metaOffset = dv.getUint32(28, true);
    const rnd = xorshiftBytes(99, 8 * 150);
    for (let k = 0; k < 150; k++) {
      const bad = Uint8Array.from(blob);
      const at = opsOffset + (((rnd[8 * k] << 16) | (rnd[8 * k + 1] << 8) | rnd[8 * k + 2]) % (metaOffset - opsOffset));
      bad[at] ^= rnd[8 * k + 3] | 1;
      if (rnd[8 * k + 4] & 1) bad[at + 1] ^= 0x80; // sometimes a large value
      try {
        const e = NodeEngine.load(bad);
        e.setInput(xorshiftBytes(k + 1, e.inputBytes(0)));
        e.invoke();
      } catch (err) {
        assert.ok(err instanceof EngineError, `${name} corruption ${k} at ${at} escaped as ${(err as Error).constructor.name}: ${(err as Error).message}`);
      }
    }
  }
});
