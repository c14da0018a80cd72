// The serial protocol without a board: CRC, COBS, frames, the generated C header, and the
// firmware's own C codec checked against the host's on the same bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  crc32, cobsEncode, cobsDecode, encodeFrame, decodeFrame, rawFrame, FrameError, FrameSplitter, packPayload, unpackPayload,
} from "../../host/board/protocol.ts";
import {
  COMMANDS, ERRORS, ERROR_CODE, ERROR_RESPONSE, REQUESTS, RESPONSES, RESPONSE_FLAG, MAX_PAYLOAD, cHeader,
} from "../../host/board/protocol-spec.ts";
import { STATUS } from "../../host/format/spec.ts";
import { FIRMWARE_DIR } from "../../host/board/build.ts";

function rand(n: number, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  return Uint8Array.from({ length: n }, () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x & 0xff; });
}

const COBS_CASES: Uint8Array[] = [
  new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0, 0]), new Uint8Array([1]),
  new Uint8Array(253).fill(7), new Uint8Array(254).fill(7), new Uint8Array(255).fill(7), new Uint8Array(600).fill(9),
  new Uint8Array(300), rand(1, 1), rand(1000, 2), rand(MAX_PAYLOAD + 10, 3),
  Uint8Array.from({ length: 700 }, (_, i) => (i % 254 === 0 ? 0 : i & 0xff)),
];

test("crc32 is CRC-32/ISO-HDLC (check value of '123456789')", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  // Chunked = whole, as the firmware computes the blob's CRC chunk by chunk.
  const d = rand(5000, 9);
  assert.equal(crc32(d.subarray(1234), crc32(d.subarray(0, 1234))), crc32(d));
});

test("COBS round-trips and never emits 0x00", () => {
  for (const c of COBS_CASES) {
    const enc = cobsEncode(c);
    assert.ok(!enc.includes(0), `zero in encoding of ${c.length} bytes`);
    assert.ok(enc.length <= c.length + Math.ceil(c.length / 254) + 1);
    assert.deepEqual(cobsDecode(enc), c);
  }
});

test("frames round-trip through encode/split/decode", () => {
  const split = new FrameSplitter();
  const payload = rand(MAX_PAYLOAD, 4);
  const wire = encodeFrame(COMMANDS.LOAD_CHUNK, 0x1234, payload);
  assert.equal(wire[0], 0);
  assert.equal(wire[wire.length - 1], 0);
  // Fed in awkward pieces, preceded by line noise that ends at a delimiter.
  const stream = [new Uint8Array([5, 6, 7, 0]), wire.subarray(0, 3), wire.subarray(3, 500), wire.subarray(500)];
  const blocks = stream.flatMap((s) => split.push(s));
  assert.equal(blocks.length, 2);
  assert.throws(() => decodeFrame(blocks[0]), FrameError);
  const f = decodeFrame(blocks[1]);
  assert.equal(f.code, COMMANDS.LOAD_CHUNK);
  assert.equal(f.seq, 0x1234);
  assert.deepEqual(f.payload, payload);
  assert.throws(() => encodeFrame(1, 1, new Uint8Array(MAX_PAYLOAD + 1)), /exceeds/);
});

test("a corrupted frame is rejected (every single-bit flip)", () => {
  const raw = rawFrame(COMMANDS.SET_INPUT, 7, rand(40, 5));
  for (let i = 0; i < raw.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = raw.slice();
      bad[i] ^= 1 << bit;
      assert.throws(() => decodeFrame(cobsEncode(bad)), FrameError, `flip of byte ${i} bit ${bit} accepted`);
    }
  }
});

test("a truncated frame is rejected", () => {
  const enc = cobsEncode(rawFrame(COMMANDS.INVOKE, 9, rand(100, 6)));
  for (const cut of [1, 2, 5, 10, 50, enc.length - 1]) {
    assert.throws(() => decodeFrame(enc.subarray(0, cut)), FrameError, `cut at ${cut} accepted`);
  }
  assert.throws(() => decodeFrame(new Uint8Array([1])), /shorter/);
});

test("payload layouts pack and unpack; a wrong size is an error", () => {
  const p = packPayload(REQUESTS.SET_INPUT, { index: 2, offset: 1016 }, new Uint8Array([1, 2, 3]));
  const { values, tail } = unpackPayload(REQUESTS.SET_INPUT, p, "t");
  assert.deepEqual(values, { index: 2, offset: 1016 });
  assert.deepEqual(tail, new Uint8Array([1, 2, 3]));
  assert.throws(() => unpackPayload(RESPONSES.INVOKE, new Uint8Array(8), "INVOKE"), /does not fit/);
  assert.throws(() => packPayload(REQUESTS.LOAD_BEGIN, { totalBytes: 1 }), /crc32/);
});

test("the generated C header carries the spec's numbers", () => {
  const h = cHeader();
  assert.match(h, /#define TLP_CMD_HELLO 0x01u/);
  assert.match(h, new RegExp(`#define TLP_ERR_BAD_FRAME ${ERRORS.BAD_FRAME}u`));
  assert.match(h, new RegExp(`#define TLP_MAX_PAYLOAD ${MAX_PAYLOAD}u`));
  assert.match(h, /#define TLP_RSP_INVOKE_CYCLES_HI 8u/);
  assert.match(h, /#define TLP_REQ_LOAD_CHUNK_BYTES 4u/);
});

test("every command code and error number is distinct; training layouts are in the C header", () => {
  const codes: number[] = Object.values(COMMANDS), errors: number[] = Object.values(ERRORS);
  assert.equal(new Set(codes).size, codes.length, "two commands share a code");
  assert.equal(new Set(errors).size, errors.length, "two errors share a number");
  assert.ok(codes.every((c) => c < RESPONSE_FLAG && c !== ERROR_CODE), "a command code collides with the response flag or ERROR");
  const h = cHeader();
  assert.match(h, /#define TLP_CMD_TRAIN_STEP 0x42u/);
  assert.match(h, /#define TLP_REQ_TRAIN_STEP_BYTES 4u \/\* fixed part; then input \*\//);
  assert.match(h, /#define TLP_RSP_TRAIN_STEP_LOSS_BITS 4u/);
  assert.match(h, /#define TLP_CKPT_RECORD_STATE_CRC 16u/);
  assert.match(h, new RegExp(`#define TL_STATUS_NOT_TRAINABLE ${STATUS.NOT_TRAINABLE}u`));
  // A TRAIN_STEP response and its output tail share one frame.
  const p = packPayload(RESPONSES.TRAIN_STEP, { status: 0, lossBits: 0x3f800000, cyclesLo: 5, cyclesHi: 0 }, new Uint8Array(MAX_PAYLOAD - 16));
  assert.equal(p.length, MAX_PAYLOAD);
  assert.equal(unpackPayload(RESPONSES.TRAIN_STEP, p, "t").values.lossBits, 0x3f800000);
});

// The firmware's cobs.c and crc32.c, compiled for this machine, must agree byte for byte.
const HARNESS = `
#include <stdio.h>
#include <stdlib.h>
#include "cobs.h"
#include "crc32.h"
int main(void) {
  static uint8_t in[70000], enc[80000], dec[80000];
  size_t n = fread(in, 1, sizeof in, stdin);
  size_t e = cobs_encode(in, n, enc);
  int d = cobs_decode(enc, e, dec);
  printf("%u %zu %d\\n", (unsigned)crc32_update(0, in, n), e, d);
  fwrite(enc, 1, e, stderr);
  return 0;
}`;

test("firmware C codec (cobs.c, crc32.c) matches the host codec", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tinyloop-codec-"));
  try {
    writeFileSync(join(dir, "h.c"), HARNESS);
    const core = join(FIRMWARE_DIR, "core");
    const cc = spawnSync("gcc", ["-O2", "-I", core, join(dir, "h.c"), join(core, "cobs.c"), join(core, "crc32.c"), "-o", join(dir, "h")], { encoding: "utf8" });
    if (cc.error) return t.skip("gcc not installed");
    assert.equal(cc.status, 0, cc.stderr);
    for (const c of [...COBS_CASES, rand(65000, 11)]) {
      const r = spawnSync(join(dir, "h"), { input: c, maxBuffer: 1 << 20 });
      const [crc, e, d] = r.stdout.toString().trim().split(" ").map(Number);
      assert.equal(crc, crc32(c), `crc of ${c.length} bytes`);
      assert.deepEqual(new Uint8Array(r.stderr), cobsEncode(c), `cobs of ${c.length} bytes`);
      assert.equal(e, cobsEncode(c).length);
      assert.equal(d, c.length);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("docs/protocol.md names every command, error and payload field of the spec", () => {
  const doc = readFileSync(join(FIRMWARE_DIR, "..", "docs", "protocol.md"), "utf8");
  const hex = (n: number) => `0x${n.toString(16).padStart(2, "0")}`;
  for (const [name, code] of Object.entries(COMMANDS)) assert.ok(doc.includes(`| ${name} | ${hex(code)} |`), `command ${name}`);
  for (const [name, n] of Object.entries(ERRORS)) assert.ok(doc.includes(`| ${name} | ${n} |`), `error ${name}`);
  const line = (name: string, dir: string, l: { fields: readonly string[]; tail?: string }) => {
    const parts = [l.fields.map((f) => `\`${f}\``).join(", "), l.tail ? `tail \`${l.tail}\`` : ""].filter(Boolean);
    return `- \`${name}\` ${dir}: ${parts.join("; ") || "(empty)"}`;
  };
  for (const [name, l] of Object.entries(REQUESTS)) assert.ok(doc.includes(line(name, "request", l)), line(name, "request", l));
  for (const [name, l] of Object.entries(RESPONSES)) assert.ok(doc.includes(line(name, "response", l)), line(name, "response", l));
  assert.ok(doc.includes(line("ERROR", "response", ERROR_RESPONSE)));
});
