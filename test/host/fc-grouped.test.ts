// Fully connected weights in groups of four channels (weightLayout 1): the byte layout the
// engine's grouped kernel reads, the tile shapes the planner picks, and which compiles use it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { importTflite } from "../../host/import/tflite.ts";
import { lower } from "../../host/passes/lower.ts";
import { tileShape } from "../../host/passes/plan.ts";
import { encodeGroupedTiles, int8ChannelData, readTlm } from "../../host/format/tlm.ts";
import { compileTflite } from "../../host/compile.ts";
import { compileTrainingTflite } from "../../host/train/compile-training.ts";
import { modelPath, requireShared } from "./shared.ts";

test("grouped tiles: folded channel data, then per input one word of the four channels (lanes 0 and 2 offset by 128)", () => {
  // 4 channels x 2 inputs: channel c, input k has weight 10 * c + k, with channel 1 negative.
  const weights = Int8Array.from([0, 1, -10, -11, 20, 21, 30, -128]);
  const ch = { outC: 4, perChannel: 2, weights, ...int8ChannelData(new Int32Array(4), new Int32Array(4), new Int32Array(4)) };
  const grouped = int8ChannelData(Int32Array.from([1, 2, 3, 4]), new Int32Array(4), new Int32Array(4));
  const bytes = encodeGroupedTiles(ch, grouped, 4);
  assert.equal(bytes.length, 4 * 12 + 8);
  assert.deepEqual([...bytes.subarray(0, 48)], [...grouped.channelData(0, 4)]);
  const u = (v: number) => v & 0xff;
  assert.deepEqual([...bytes.subarray(48)], [
    u(0) ^ 0x80, u(-10), u(20) ^ 0x80, u(30), // k = 0
    u(1) ^ 0x80, u(-11), u(21) ^ 0x80, u(-128), // k = 1
  ]);
  assert.throws(() => encodeGroupedTiles({ ...ch, outC: 2 }, grouped, 2), /multiples of 4/);
});

test("grouped tile shapes: whole groups when they fit, one group in input chunks below that, channel rows when not even 16 inputs fit", () => {
  requireShared();
  const g = importTflite(readFileSync(modelPath("ad01_int8")));
  const fc = lower(g, { groupFullyConnected: true }).ops[0]; // 640 inputs -> 128 outputs
  assert.ok(fc.channels?.grouped);
  const perChannel = 12 + 640;
  assert.deepEqual(tileShape(fc, 9 * perChannel), { tileCh: 8, inChunk: 640, bytes: 8 * perChannel, grouped: true });
  assert.deepEqual(tileShape(fc, 256), { tileCh: 4, inChunk: 48, bytes: 64 + 4 * 48, grouped: true });
  const rows = tileShape(fc, 100);
  assert.ok(!rows.grouped && rows.tileCh === 1 && rows.inChunk < 640, JSON.stringify(rows));
  // Training compiles read and update channel rows: lower() without the option groups nothing.
  assert.equal(lower(g).ops[0].channels?.grouped, undefined);
});

test("compile groups every fully connected op of the AD model; a training compile of it keeps rows", () => {
  requireShared();
  const bytes = readFileSync(modelPath("ad01_int8"));
  const { meta } = compileTflite(bytes, "ad01_int8.tflite", { arena: "auto" });
  const fcs = meta.ops.filter((o) => o.kind === "FULLY_CONNECTED");
  assert.equal(fcs.length, 10);
  for (const op of fcs) assert.equal(op.weightLayout, "grouped", `op ${op.source}`);
  const training = readTlm(compileTrainingTflite(bytes, "ad01_int8.tflite", { kind: "last", k: 1 }).blob);
  const trainFcs = training.ops.filter((o) => o.kind === "FULLY_CONNECTED");
  assert.equal(trainFcs.length, 10);
  for (const op of trainFcs) assert.equal(op.weightLayout, undefined);
});
