// Coded weights (--compress auto): run-length, zero-value and Huffman tiles decode to exactly
// the raw weights in the engine (every codable layer of two models forced to each coding, on
// Node and on qemu-m4); the Huffman codes stay within HUFFMAN_MAX_BITS and form a prefix code;
// the compiler codes what saves flash within --decode-budget; damaged coded tiles are refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compileTflite, compileLowered, type Compiled } from "../../host/compile.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { lower } from "../../host/passes/lower.ts";
import { forceCoding, huffmanCode, encodeHuffman, encodeRle, encodeZvc, encodeCodedTiles, type Coding } from "../../host/passes/weight-coding.ts";
import { HUFFMAN_MAX_BITS, STATUS } from "../../host/format/spec.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { EngineError } from "../../host/runners/engine-status.ts";
import { openBoard } from "../../host/board/session.ts";
import { outputsOf, inputsFor } from "./plan-outputs.ts";
import { modelPath, requireShared } from "./shared.ts";

const CODINGS: Coding[] = ["rle", "zvc", "huffman"];

function forced(name: string, kind: Coding): { c: Compiled; plain: Compiled; inputs: Uint8Array[] } {
  const bytes = readFileSync(modelPath(name));
  const g = importTflite(bytes);
  const l = lower(g, { groupFullyConnected: true });
  return { c: compileLowered(g, forceCoding(l, kind), name, bytes), plain: compileLowered(g, l, name, bytes), inputs: inputsFor(g, [3, 4]) };
}

test("every codable layer of KWS and IC forced to each coding gives the raw build's bytes", () => {
  requireShared();
  for (const name of ["kws_ref_model", "pretrainedResnet_quant"]) {
    for (const kind of CODINGS) {
      const { c, plain, inputs } = forced(name, kind);
      const coded = c.meta.ops.filter((o) => o.storage === kind).length;
      assert.ok(coded >= 4, `${name} ${kind}: ${coded} coded layers`);
      assert.deepEqual(outputsOf(c, inputs), outputsOf(plain, inputs), `${name} ${kind}`);
    }
  }
});

test("qemu-m4 decodes every coding as Node does (KWS, each coding forced on every layer)", { timeout: 600_000 }, async () => {
  requireShared();
  const s = await openBoard("qemu-m4");
  try {
    for (const kind of CODINGS) {
      const { c, inputs } = forced("kws_ref_model", kind);
      await s.loadModel(c.blob);
      await s.setInput(inputs[0]);
      await s.invoke();
      assert.deepEqual(await s.getOutput(), outputsOf(c, [inputs[0]])[0], kind);
    }
  } finally {
    await s.close();
  }
});

test("Huffman codes: at most HUFFMAN_MAX_BITS bits, prefix-free, shortest for the commonest bytes", () => {
  // Fibonacci counts give a Huffman tree as deep as there are symbols: the limit must cut it.
  const fib = [1, 1];
  while (fib.length < 30) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
  const w = Uint8Array.from(fib.flatMap((n, s) => new Array<number>(Math.min(n, 20000)).fill(s)));
  const code = huffmanCode(w);
  const used = [...code.lengths.keys()].filter((s) => code.lengths[s] > 0);
  assert.equal(used.length, 30);
  assert.ok(used.every((s) => code.lengths[s] <= HUFFMAN_MAX_BITS));
  assert.ok(used.reduce((k, s) => k + 2 ** -code.lengths[s], 0) <= 1, "Kraft");
  const strings = used.map((s) => code.codes[s].toString(2).padStart(code.lengths[s], "0"));
  for (const a of strings) for (const b of strings) if (a !== b) assert.ok(!b.startsWith(a), `${a} is a prefix of ${b}`);
  assert.ok(code.lengths[29] <= code.lengths[0], "the commonest byte has the shortest code");
  assert.equal(huffmanCode(Uint8Array.from([7, 7, 7])).lengths[7], 1, "one symbol still gets a 1-bit code");
  // Bit counts: the stream is the sum of the code lengths, padded to whole bytes.
  const bits = [...w].reduce((n, b) => n + code.lengths[b], 0);
  assert.equal(encodeHuffman(w, code).length, Math.ceil(bits / 8));
});

test("run-length and zero-value streams: the sizes their formats give", () => {
  const w = new Uint8Array(600);
  w[0] = 5; w[300] = 0xff; w[599] = 1;
  // RLE: [0 zeros, 1 literal, 5], then 299 zeros as 255 + 44 ahead of 0xff, then 298 zeros (255 + 43) ahead of 1.
  assert.deepEqual([...encodeRle(w)], [0, 1, 5, 255, 0, 44, 1, 0xff, 255, 0, 43, 1, 1]);
  const z = encodeZvc(Uint8Array.from([0, 3, 0, 0, 0, 0, 0, 9, 4]));
  assert.deepEqual([...z], [0b10000010, 3, 9, 0b1, 4]);
});

test("--compress auto codes VWW's layers within --decode-budget; --decode-budget 0 and --compress off code none", () => {
  requireShared();
  const bytes = readFileSync(modelPath("vww_96_int8"));
  const auto = compileTflite(bytes, "vww", { arena: "auto" }).meta;
  const none = compileTflite(bytes, "vww", { arena: "auto", decodeBudget: 0 }).meta;
  const off = compileTflite(bytes, "vww", { arena: "auto", compress: "off" }).meta;
  const coded = auto.ops.filter((o) => o.decodeInstructions);
  assert.ok(coded.length >= 2, "some layers coded");
  assert.ok(coded.reduce((s, o) => s + o.decodeInstructions!, 0) <= (auto.macs * 3 * 2) / 100, "within the default 2% budget");
  assert.ok(auto.weightBytes < none.weightBytes && none.weightBytes < off.weightBytes, `${auto.weightBytes} < ${none.weightBytes} < ${off.weightBytes}`);
  assert.equal(none.ops.filter((o) => o.decodeInstructions).length, 0);
  assert.equal(off.ops.filter((o) => o.decodeInstructions).length, 0);
});

test("damaged coded tiles are refused with STATUS_BAD_RECORD: an over-full Huffman table, an RLE run past its tile", () => {
  requireShared();
  const bytes = readFileSync(modelPath("kws_ref_model"));
  const g = importTflite(bytes);
  const l = lower(g, { groupFullyConnected: true });
  const badStatus = (blob: Uint8Array) => {
    const e = NodeEngine.load(blob);
    e.setInput(inputsFor(g, [1])[0]);
    assert.throws(() => e.invoke(), (err: unknown) => err instanceof EngineError && err.status === STATUS.BAD_RECORD);
  };
  // Huffman: claim 3 one-bit codes (a prefix code has at most 2).
  const huff = compileLowered(g, forceCoding(l, "huffman"), "kws", bytes);
  const table = forceCoding(l, "huffman").ops.find((o) => o.channels?.coding)!.channels!.coding!.huffman!.table;
  const at = Buffer.from(huff.blob).indexOf(Buffer.from(table));
  assert.ok(at > 0, "the code table is in the blob");
  const broken = Uint8Array.from(huff.blob);
  broken[at] = 3; broken[at + 1] = 0;
  badStatus(broken);
  // RLE: the first tile's first token asks for 255 zeros and 255 literals, more than a depthwise tile holds.
  const rle = forceCoding(l, "rle");
  const dw = rle.ops.findIndex((o) => o.kind === "DEPTHWISE_CONV_2D");
  const compiled = compileLowered(g, rle, "kws", bytes);
  const tileCh = compiled.meta.ops[dw].tileCh!;
  const tiles = encodeCodedTiles(rle.ops[dw].channels!, tileCh, { kind: "rle" });
  const start = Buffer.from(compiled.blob).indexOf(Buffer.from(tiles.subarray(0, 64)));
  assert.ok(start > 0, "the depthwise tiles are in the blob");
  const runAt = start + 4 + tileCh * 12;
  const damaged = Uint8Array.from(compiled.blob);
  damaged[runAt] = 255; damaged[runAt + 1] = 255;
  badStatus(damaged);
});
