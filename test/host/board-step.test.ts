// Op-by-op execution on virtual boards (BEGIN / STEP / READ_ARENA): a real compiled model's
// every activation tensor, read from the board's arena as it becomes ready, must equal
// NodeEngine's bytes at the same point; per-op cycles must add up to one INVOKE; an arena
// read out of range is a clear error; STEP after the last op keeps answering DONE; a trap
// during STEP is reported and the board keeps serving.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openBoard, type BoardSession } from "../../host/board/session.ts";
import { BoardError } from "../../host/board/link.ts";
import { requantizeCopyBlob, trapBlob } from "../../host/board/test-blobs.ts";
import { MAX_PAYLOAD } from "../../host/board/protocol-spec.ts";
import { compileTflite, type Compiled } from "../../host/compile.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { dumpTensors } from "../../host/cli/run.ts";
import { STATUS } from "../../host/format/spec.ts";
import { SHARED } from "./shared.ts";

const BOARDS = (process.env.TINYLOOP_TEST_BOARDS ?? "native,qemu-m4").split(",");
const MODELS = ["kws_ref_model", "pretrainedResnet_quant"];

function pattern(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => { x = (x * 1103515245 + 12345) >>> 0; return x >>> 24; });
}

/** NodeEngine's side of `run --dump`: every tensor's bytes as it becomes ready, plus the outputs. */
function hostDump(c: Compiled, inputs: Uint8Array[]): { tensors: Map<number, Uint8Array>; outputs: Uint8Array[] } {
  const e = NodeEngine.load(c.blob);
  inputs.forEach((d, i) => e.setInput(d, i));
  const tensors = dumpTensors(c, e);
  return { tensors, outputs: Array.from({ length: e.numOutputs }, (_, i) => e.output(i)) };
}

const compiled = new Map<string, { c: Compiled; inputs: Uint8Array[] }>();
function model(name: string) {
  if (!compiled.has(name)) {
    const file = join(SHARED, "models", `${name}.tflite`);
    if (!existsSync(file)) throw new Error(`${file} is missing; the board tests need the shared models`);
    const c = compileTflite(readFileSync(file), file);
    const inputs = c.meta.inputs.map((t, i) => {
      const golden = join(SHARED, "golden", name, `input_${i + 1}.bin`);
      const bytes = c.meta.tensors.find((x) => x.index === t)!.bytes;
      return existsSync(golden) && c.meta.inputs.length === 1 ? new Uint8Array(readFileSync(golden)) : pattern(bytes, 7 + i);
    });
    compiled.set(name, { c, inputs });
  }
  return compiled.get(name)!;
}

for (const boardName of BOARDS) {
  describe(`board ${boardName}: BEGIN / STEP / READ_ARENA`, { timeout: 600_000 }, () => {
    let s: BoardSession;
    // Bounds-checked build so the STEP trap test can trap (see board-memcheck.test.ts for masking).
    before(async () => { s = await openBoard(boardName, { build: { memcheck: "bounds" } }); });
    after(async () => { await s?.close(); });

    for (const name of MODELS) {
      test(`${name}: dumpTensors on the board equals NodeEngine's bytes for every tensor`, async (t) => {
        const m = model(name);
        const store = (await s.info()).modelStoreBytes;
        if (m.c.blob.length > store) return t.skip(`blob of ${m.c.blob.length} B exceeds this board's ${store} B model store`);
        await s.loadModel(m.c.blob);
        const t0 = Date.now();
        const board = await s.dumpTensors(m.c.meta, m.inputs);
        const ms = Date.now() - t0;
        const host = hostDump(m.c, m.inputs);
        assert.ok(host.tensors.size > m.c.meta.ops.length, `only ${host.tensors.size} tensors dumped`);
        assert.deepEqual([...board.keys()].sort((a, b) => a - b), [...host.tensors.keys()].sort((a, b) => a - b));
        for (const [i, want] of host.tensors) assert.deepEqual(board.get(i), want, `tensor ${i} (${m.c.meta.tensors.find((x) => x.index === i)!.name})`);
        // Every planned tensor is covered, and the outputs read afterwards are the model's outputs.
        assert.deepEqual(new Set(board.keys()), new Set(m.c.meta.tensors.map((x) => x.index)));
        for (let i = 0; i < host.outputs.length; i++) assert.deepEqual(await s.getOutput(i), host.outputs[i], `output ${i}`);
        const bytes = [...board.values()].reduce((n, b) => n + b.length, 0);
        t.diagnostic(`${name}: ${board.size} tensors, ${bytes} B read from the arena in ${ms} ms`);
      });
    }

    test("stepping reports one count per op, and on -icount boards they add up to one INVOKE's", async () => {
      const m = model("kws_ref_model");
      await s.loadModel(m.c.blob);
      // The plan may reuse the input's arena bytes for later activations: set inputs before every run.
      const setInputs = async () => { for (let i = 0; i < m.inputs.length; i++) await s.setInput(m.inputs[i], i); };
      await setInputs();
      const invoke = (await s.invoke()).cycles;
      await setInputs();
      const { cyclesPerOp } = await s.invokeStepwise(async () => {});
      assert.equal(cyclesPerOp.length, m.c.meta.ops.length);
      assert.ok(cyclesPerOp.every((c) => c > 0), `an op took 0 ticks: ${cyclesPerOp}`);
      // Only virtual time is exact; wall-clock time (native) varies with load, so it is a
      // benchmark figure, not a test assertion.
      if (s.board.timing.kind === "systick-icount") {
        const sum = cyclesPerOp.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum / invoke - 1) < 0.03, `per-op sum ${sum} vs INVOKE ${invoke}`);
      }
      assert.deepEqual(await s.getOutput(), hostDump(m.c, m.inputs).outputs[0], "stepwise run changed the output");
    });

    test("STEP after DONE keeps returning DONE; BEGIN rewinds", async () => {
      const blob = requantizeCopyBlob(1500);
      const input = pattern(1500, 5);
      await s.loadModel(blob);
      await s.setInput(input);
      await s.begin();
      assert.deepEqual((await s.step()).op, 0);
      const second = await s.step();
      assert.equal(second.status, STATUS.OK);
      assert.equal(second.op, 1);
      for (let i = 0; i < 3; i++) {
        const r = await s.step();
        assert.equal(r.status, STATUS.DONE);
        assert.equal(r.op, 2);
      }
      const e = NodeEngine.load(blob);
      e.setInput(input);
      e.invoke();
      assert.deepEqual(await s.getOutput(), e.output());
      await s.begin();
      assert.equal((await s.step()).op, 0); // rewound
      assert.equal((await s.invokeStepwise(async () => {})).cyclesPerOp.length, 2); // from a half-run sequence
      assert.deepEqual(await s.getOutput(), e.output());
    });

    test("READ_ARENA out of range is a clear error; the edges are readable", async () => {
      const blob = requantizeCopyBlob(3000); // arena 9000 B
      const arena = (await s.loadModel(blob)).arenaBytes;
      assert.equal(arena, 9000);
      const input = pattern(3000, 6);
      await s.setInput(input);
      const e = NodeEngine.load(blob);
      e.setInput(input);
      // Chunked (longer than MAX_PAYLOAD) and right up to the end of the arena.
      assert.deepEqual(await s.readArena(0, arena), e.arenaSlice(0, arena));
      assert.deepEqual(await s.readArena(arena - 5, 5), e.arenaSlice(arena - 5, 5));
      assert.equal((await s.readArena(arena, 0)).length, 0);
      const outOfRange = (err: Error) =>
        err instanceof BoardError && err.errorName === "BAD_OFFSET" && err.detail === arena && /outside the arena of 9000 bytes/.test(err.message);
      await assert.rejects(s.readArena(arena - 5, 6), outOfRange);
      await assert.rejects(s.readArena(arena, 1), outOfRange);
      await assert.rejects(s.readArena(0xfffffff0, 0x20), outOfRange); // offset + length wraps in 32 bits
      await assert.rejects(s.readArena(arena - 10, MAX_PAYLOAD + 20), outOfRange); // the first piece fits, then fails
      await assert.rejects(s.readArena(-1, 4), RangeError);
      // The board still serves the model after those errors.
      await s.invoke();
      e.invoke();
      assert.deepEqual(await s.getOutput(), e.output());
    });

    test("a trap during STEP is reported like INVOKE's and the firmware keeps serving", async () => {
      const info = await s.info();
      const trapsBefore = (await s.stats()).traps;
      await s.loadModel(trapBlob(info.wasmMemBytes));
      await s.setInput(new Uint8Array(16));
      await s.begin();
      await assert.rejects(s.step(), (e: Error) => e instanceof BoardError && e.errorName === "TRAP" && e.detail === 1 /* OOB */);
      assert.equal((await s.stats()).traps, trapsBefore + 1);
      await assert.rejects(s.step(), /no model loaded/);
      await assert.rejects(s.readArena(0, 4), /no model loaded/);
      const blob = requantizeCopyBlob(700);
      const input = pattern(700, 8);
      await s.loadModel(blob);
      await s.setInput(input);
      const { cyclesPerOp } = await s.invokeStepwise(async () => {});
      assert.equal(cyclesPerOp.length, 2);
      const e = NodeEngine.load(blob);
      e.setInput(input);
      e.invoke();
      assert.deepEqual(await s.getOutput(), e.output());
    });
  });
}
