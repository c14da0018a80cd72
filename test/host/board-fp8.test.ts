// fp8-weight models on a virtual board: float models compiled with --precision fp8 (and
// auto) must give the same output bytes on the board (wasm2c + arm-none-eabi-gcc, f32
// arithmetic with -ffp-contract=off) as in Node, on inputs like the ones they are for.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { openBoard, type BoardSession } from "../../host/board/session.ts";
import { compileFloatTflite, type Precision } from "../../host/compile.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { syntheticInputs } from "../../host/float/synthetic.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { modelPath, requireShared } from "./shared.ts";

const BOARDS = (process.env.TINYLOOP_TEST_FP8_BOARDS ?? "qemu-m4").split(",");
const MODELS: { model: string; range: [number, number]; precision: Precision }[] = [
  { model: "ad01_fp32", range: [-84.85, 14.86], precision: "fp8" },
  { model: "vww_96_float", range: [0, 1], precision: "fp8" },
  { model: "ad01_fp32", range: [-84.85, 14.86], precision: "auto" },
];

function onNode(blob: Uint8Array, input: Uint8Array): Uint8Array {
  const e = NodeEngine.load(blob);
  e.setInput(input);
  e.invoke();
  return e.output();
}

for (const boardName of BOARDS) {
  describe(`fp8 on board ${boardName}`, { timeout: 600_000 }, () => {
    let s: BoardSession;
    before(async () => { requireShared(); s = await openBoard(boardName); });
    after(async () => { await s?.close(); });

    for (const { model, range, precision } of MODELS) {
      test(`${model} --precision ${precision}: board output bytes equal Node's`, async (t) => {
        const bytes = readFileSync(modelPath(model));
        const g = importTflite(bytes);
        const shape = g.tensors[g.inputs[0]].shape;
        const calibration = syntheticInputs(1, 8, shape, ...range).map((x) => [x]);
        const { blob, meta } = compileFloatTflite(bytes, `${model}.tflite`, { precision, calibration });
        assert.ok(meta.ops.some((o) => o.precision === "fp8"), "the model has fp8 layers");
        await s.loadModel(blob);
        for (const x of syntheticInputs(5, 3, shape, ...range)) {
          const input = new Uint8Array(x.buffer);
          await s.setInput(input);
          const timing = await s.invoke();
          const got = await s.getOutput();
          assert.deepEqual(got, onNode(blob, input));
          t.diagnostic(`${model} ${precision}: ${timing.instructions ?? timing.cycles} ${timing.instructions ? "instructions" : "cycles"}`);
        }
      });
    }
  });
}
