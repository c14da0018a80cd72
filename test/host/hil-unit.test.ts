// Unit test of hil's diagnosis: when a board's tensors differ, the report names the
// first tensor (in execution order) that differs, the op that wrote it and the byte.
// The board is a stand-in here (a unit test); the real boards are covered by board-*.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compileTflite } from "../../host/compile.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { dumpTensors } from "../../host/cli/run.ts";
import { firstDifference } from "../../host/cli/hil.ts";
import { modelPath, requireShared, goldenRuns } from "./shared.ts";

requireShared();

test("hil names the first differing tensor and the op that wrote it", async () => {
  const c = compileTflite(readFileSync(modelPath("kws_ref_model")), "kws_ref_model.tflite", { patch: "off" });
  const input = [goldenRuns("kws_ref_model")[0].input];
  const host = NodeEngine.load(c.blob);
  host.setInput(input[0]);
  const truth = dumpTensors(c, host);
  // Corrupt the output of op 3 and of op 6: op 3's must be reported, being first.
  const victim = c.meta.ops[3].outputs[0], later = c.meta.ops[6].outputs[0];
  const board = {
    async dumpTensors() {
      const m = new Map([...truth].map(([k, v]) => [k, Uint8Array.from(v)]));
      m.get(victim)![17] ^= 1;
      m.get(later)![0] ^= 1;
      return m;
    },
  };
  const report = await firstDifference(c, board, input);
  const name = c.meta.tensors.find((t) => t.index === victim)!.name;
  assert.match(report, new RegExp(`first differing tensor t${victim} \\("${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}"\\), written by op 3 \\(DEPTHWISE_CONV_2D, TFLite op 3\\), byte 17`));

  const same = { async dumpTensors() { return truth; } };
  assert.match(await firstDifference(c, same, input), /every tensor matched/);
});
