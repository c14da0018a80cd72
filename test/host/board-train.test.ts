// On-device training over the serial protocol (TRAIN_INIT / TRAIN_CONFIG / TRAIN_STEP,
// CHECKPOINT_SAVE / CHECKPOINT_RESTORE) on virtual boards: every step's loss bits, output and
// the training state bytes must equal NodeEngine's on the same blob and samples; a checkpoint
// survives RESET and restores the state byte for byte; damaged, duplicated and lost TRAIN_STEP
// frames still run each step exactly once; an inference-only model is NOT_TRAINABLE and the
// board keeps serving. Also the firmware's checkpoint store (checkpoint.c) on its own.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBoard, f32Bits, type BoardSession, type OpenOptions } from "../../host/board/session.ts";
import { BoardError } from "../../host/board/link.ts";
import { requantizeCopyBlob, partialPageArena } from "../../host/board/test-blobs.ts";
import { crc32 } from "../../host/board/protocol.ts";
import { CHECKPOINT_MISSES, CHECKPOINT_RECORD, ERRORS, MAX_PAYLOAD, cHeader } from "../../host/board/protocol-spec.ts";
import { FIRMWARE_DIR, writeIfChanged } from "../../host/board/build.ts";
import { WAMR_DIR_ENV } from "../../host/board/build-wamr.ts";
import {
  HEADER_BYTES, HEADER_FIELDS, OPCODES, OP_RECORD, RECORDS, STATUS, TLM_MAGIC, TLM_VERSION, type OpName,
} from "../../host/format/spec.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { EngineError } from "../../host/runners/engine-status.ts";
import { modelPath } from "./shared.ts";

const BOARDS = (process.env.TINYLOOP_TEST_BOARDS ?? "native,qemu-m4").split(",").filter(Boolean);
/** The wasm2c firmware on every board; the WAMR port too where the user's WAMR builds are given (docs/wamr.md). */
const TARGETS: { board: string; runtime: "wasm2c" | "wamr"; wamrDir?: string }[] = [
  ...BOARDS.map((board) => ({ board, runtime: "wasm2c" as const })),
  ...(process.env[WAMR_DIR_ENV] ? [{ board: "native", runtime: "wamr" as const, wamrDir: process.env[WAMR_DIR_ENV] }] : []),
  ...(process.env.TINYLOOP_WAMR_M4_DIR ? [{ board: "qemu-m4", runtime: "wamr" as const, wamrDir: process.env.TINYLOOP_WAMR_M4_DIR }] : []),
];

function pattern(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => { x = (x * 1103515245 + 12345) >>> 0; return x >>> 24; });
}

interface Sample { input: Uint8Array; label: number }
function samples(n: number, inputBytes: number, classes: number, seed: number): Sample[] {
  return Array.from({ length: n }, (_, i) => ({ input: pattern(inputBytes, seed + 17 * i), label: (seed + 7 * i) % classes }));
}

// ---- a training .tlm built by hand (no compiler): the loss's error accumulated into the state ----

interface Rec { kind: OpName; params: Record<string, number> }

function records(ops: Rec[]): number[][] {
  return ops.map((op) => {
    const fields = RECORDS[OP_RECORD[op.kind]];
    return [OPCODES[op.kind], 8 + 4 * fields.length, ...fields.map((f) => {
      if (op.params[f] === undefined) throw new Error(`hand blob: ${op.kind} needs ${f}`);
      return op.params[f];
    })];
  });
}

/**
 * input (inBytes) -> COPY of its first outBytes -> output; training program: the same COPY,
 * TRAIN_LOSS on the output's first `classes` bytes, TRAIN_ACCUMULATE of that error into the
 * training state (f32 x classes at arena 0). So the state changes with every sample and label,
 * exactly like trained parameters would, and each step's loss is the real softmax cross-entropy.
 */
function lossBlob(inBytes: number, outBytes: number, classes: number): Uint8Array {
  const state = 0, grad = 4 * classes, input = 8 * classes, output = input + inBytes;
  const arena = (output + outBytes + 3) & ~3;
  const copy: Rec = { kind: "COPY", params: { input, output, bytes: outBytes } };
  const infer = records([copy]);
  const train = records([
    copy,
    { kind: "TRAIN_LOSS", params: { logits: output, count: classes, scaleBits: f32Bits(0.25), zeroPoint: 0, grad } },
    { kind: "TRAIN_ACCUMULATE", params: { dst: state, src: grad, count: classes } },
  ]);
  const bytes = (rs: number[][]) => rs.reduce((n, r) => n + 4 * r.length, 0);
  const opsOffset = HEADER_BYTES, trainOpsOffset = opsOffset + bytes(infer);
  const blob = new Uint8Array(trainOpsOffset + bytes(train));
  const dv = new DataView(blob.buffer);
  const header: Record<string, number> = {
    magic: TLM_MAGIC, version: TLM_VERSION, blobBytes: blob.length, arenaBytes: arena, opCount: infer.length,
    opsOffset, opsBytes: bytes(infer), metaOffset: blob.length, metaBytes: 0,
    maxRecordBytes: Math.max(...[...infer, ...train].map((r) => 4 * r.length)), numInputs: 1, numOutputs: 1,
    trainOpsOffset, trainOpsBytes: bytes(train), trainOpCount: train.length, trainStateBytes: 4 * classes,
    overlayOffset: 0, overlayCount: 0,
  };
  HEADER_FIELDS.forEach((f, i) => dv.setUint32(4 * i, (header[f] ?? 0) >>> 0, true));
  const io = 4 * HEADER_FIELDS.length;
  [[input, inBytes], [output, outBytes]].forEach(([off, n], i) => { dv.setUint32(io + 8 * i, off, true); dv.setUint32(io + 8 * i + 4, n, true); });
  let at = opsOffset;
  for (const r of [...infer, ...train]) for (const w of r) { dv.setInt32(at, w | 0, true); at += 4; }
  return blob;
}

/**
 * A training program whose TRAIN_ZERO runs off the end of the board's real linear memory: the
 * arena is planned to end inside the last, partial 64 KiB page (see trapBlob), so the step traps.
 */
function trainTrapBlob(wasmMemBytes: number): Uint8Array {
  const arena = partialPageArena(wasmMemBytes, "trainTrapBlob");
  const blob = lossBlob(16, 16, 2);
  const dv = new DataView(blob.buffer);
  dv.setUint32(4 * HEADER_FIELDS.indexOf("arenaBytes"), arena, true);
  // Turn the last training record (TRAIN_ACCUMULATE dst, src, count) into TRAIN_ZERO at the arena's end.
  const last = blob.length - 4 * (2 + RECORDS.TrainAccumulateParams.length);
  const zero = [OPCODES.TRAIN_ZERO, 8 + 4 * RECORDS.TrainZeroParams.length, arena - 64, 16];
  zero.forEach((w, i) => dv.setInt32(last + 4 * i, w, true));
  dv.setInt32(last + 4 * zero.length, 0, true); // the freed word: padding the engine never reads
  dv.setUint32(4 * HEADER_FIELDS.indexOf("trainOpsBytes"), dv.getUint32(4 * HEADER_FIELDS.indexOf("trainOpsBytes"), true) - 4, true);
  return blob;
}

// ---- the reference: the same steps in NodeEngine ----

interface StepRecord { lossBits: number; output: Uint8Array }
interface Reference { steps: StepRecord[]; state: Uint8Array; states: Uint8Array[] }

function nodeTrain(blob: Uint8Array, run: Sample[], lr = 0.05, momentum = 0): Reference {
  const e = NodeEngine.load(blob);
  e.trainInit();
  e.trainConfig(lr, momentum);
  const steps: StepRecord[] = [], states: Uint8Array[] = [];
  for (const s of run) {
    const r = e.trainStep(s.input, s.label);
    steps.push({ lossBits: f32Bits(r.loss), output: r.output });
    states.push(e.trainState());
  }
  return { steps, state: e.trainState(), states };
}

async function boardTrain(s: BoardSession, run: Sample[]): Promise<StepRecord[]> {
  const out: StepRecord[] = [];
  for (const x of run) {
    const r = await s.trainStep(x.input, x.label);
    out.push({ lossBits: r.lossBits, output: r.output });
  }
  return out;
}

const isBoardError = (name: string, detail?: number) => (e: Error) =>
  e instanceof BoardError && e.errorName === name && (detail === undefined || e.detail === detail);

// ---- the firmware's checkpoint store, compiled for this machine with a RAM store ----

const CHECKPOINT_HARNESS = `
#include <stdio.h>
#include <string.h>
#include "checkpoint.h"
#include "protocol_gen.h"
static uint8_t g_store[4096];
static int g_writes, g_fail_at = -1;
uint8_t *hal_store_base(void) { return g_store; }
uint32_t hal_store_bytes(void) { return sizeof g_store; }
int hal_store_write(uint32_t off, const uint8_t *d, uint32_t n) {
  if (g_writes++ == g_fail_at) return 1;
  memcpy(g_store + off, d, n);
  return 0;
}
void hal_store_unit(uint32_t off, uint32_t *start, uint32_t *end) { *start = off; *end = off + 1; }
int hal_store_erase(uint32_t off, uint32_t n, uint32_t *end) { memset(g_store + off, 0xff, n); *end = off + n; return 0; }
int hal_store_flush(void) { return 0; }
uint32_t hal_store_word_bytes(void) { return 4; }
static void find(const char *what, uint32_t crc, uint32_t n) {
  const uint8_t *st = 0; uint32_t step = 0, sc = 0;
  uint32_t miss = checkpoint_find(crc, n, &st, &step, &sc);
  printf("%s %u %u %u %d\\n", what, miss, step, sc, st ? (int)(st - g_store) : -1);
}
static void save(const char *what, uint32_t crc, uint32_t step, const uint8_t *st, uint32_t n, uint32_t model) {
  uint32_t written = 0, sc = 0;
  uint32_t err = checkpoint_save(crc, step, st, n, model, &written, &sc);
  printf("%s %u %u %u\\n", what, err, written, sc);
}
int main(void) {
  uint8_t state[100];
  for (int i = 0; i < 100; i++) state[i] = (uint8_t)(i * 7 + 1);
  find("empty", 0xaaaa, 100);
  save("save", 0xaaaa, 7, state, 100, 1000);
  find("found", 0xaaaa, 100);
  find("other", 0xbbbb, 100);
  find("size", 0xaaaa, 96);
  g_store[4096 - 20 - 100] ^= 1;
  find("damaged", 0xaaaa, 100);
  g_store[4096 - 20 - 100] ^= 1;
  save("toolarge", 0xaaaa, 8, state, 100, 4000);
  save("huge", 0xaaaa, 8, state, 0xfffffff0u, 0);
  find("kept", 0xaaaa, 100);
  g_writes = 0; g_fail_at = 0;
  save("failed", 0xaaaa, 9, state, 100, 1000);
  find("afterfail", 0xaaaa, 100);
  g_fail_at = -1;
  save("odd", 0xcccc, 3, state, 99, 1000);
  find("oddfound", 0xcccc, 99);
  save("s11", 0xdddd, 11, state, 100, 1000);
  save("s12", 0xdddd, 12, state, 100, 1000);
  find("newest", 0xdddd, 100);
  { const uint8_t *st = 0; uint32_t step, sc; checkpoint_find(0xdddd, 100, &st, &step, &sc); g_store[st - g_store] ^= 1; }
  find("fallback", 0xdddd, 100);
  save("s13", 0xdddd, 13, state, 100, 1000);
  find("repaired", 0xdddd, 100);
  save("oneslot", 0xdddd, 14, state, 100, 3900);
  find("oneslotfound", 0xdddd, 100);
  return 0;
}`;

test("checkpoint.c: save, find, and every reason there is no checkpoint", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tinyloop-ckpt-"));
  try {
    writeIfChanged(join(FIRMWARE_DIR, "core", "protocol_gen.h"), cHeader());
    writeFileSync(join(dir, "h.c"), CHECKPOINT_HARNESS);
    const core = join(FIRMWARE_DIR, "core");
    const cc = spawnSync("gcc", ["-std=c11", "-Wall", "-Werror", "-I", core, join(dir, "h.c"), join(core, "checkpoint.c"), join(core, "crc32.c"), "-o", join(dir, "h")], { encoding: "utf8" });
    if (cc.error) return t.skip("gcc not installed");
    assert.equal(cc.status, 0, cc.stderr);
    const out = spawnSync(join(dir, "h"), { encoding: "utf8" }).stdout.trim().split("\n").map((l) => l.split(" "));
    const row = (what: string) => out.find((r) => r[0] === what)!.slice(1).map(Number);
    const state = Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 1) & 0xff);
    const crc = crc32(state), rec = 4 * CHECKPOINT_RECORD.fields.length;
    assert.deepEqual(row("empty"), [CHECKPOINT_MISSES.NONE, 0, 0, -1]);
    assert.deepEqual(row("save"), [0, 100 + rec, crc]);
    assert.deepEqual(row("found"), [0, 7, crc, 4096 - rec - 100]);
    assert.equal(row("other")[0], CHECKPOINT_MISSES.OTHER_MODEL);
    assert.equal(row("size")[0], CHECKPOINT_MISSES.SIZE);
    assert.equal(row("damaged")[0], CHECKPOINT_MISSES.DAMAGED);
    assert.deepEqual(row("toolarge"), [ERRORS.TOO_LARGE, 4096 - rec - 4000, 0]); // room above the model
    assert.equal(row("huge")[0], ERRORS.TOO_LARGE); // no 32-bit wrap-around
    assert.deepEqual(row("kept"), [0, 7, crc, 4096 - rec - 100]); // refused saves leave the old checkpoint
    assert.equal(row("failed")[0], ERRORS.BAD_STATE); // the store refused the state write (in the other slot)...
    assert.deepEqual(row("afterfail"), [0, 7, crc, 4096 - rec - 100]); // ...so the previous checkpoint is still there
    assert.deepEqual(row("odd"), [0, 100 + rec, crc32(state.subarray(0, 99))]); // padded to 4 bytes
    assert.equal(row("oddfound")[1], 3);
    // Saves alternate between the two slots; the newest good one is restored, else the other.
    const slotA = 4096 - rec - 100, slotB = slotA - rec - 100;
    assert.equal(row("s11")[0], 0);
    assert.deepEqual(row("newest"), [0, 12, crc, row("newest")[3]]);
    assert.ok([slotA, slotB].includes(row("newest")[3]));
    // The newest state damaged: the other slot's checkpoint comes back.
    assert.equal(row("fallback")[1], 11);
    assert.equal(row("fallback")[3], row("newest")[3] === slotA ? slotB : slotA);
    assert.equal(row("repaired")[1], 13);
    // A model reaching into slot B leaves one slot, still usable.
    assert.equal(row("oneslot")[0], 0);
    assert.deepEqual(row("oneslotfound"), [0, 14, crc, slotA]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- on the boards ----

for (const { board: boardName, runtime, wamrDir } of TARGETS) {
  describe(`board ${boardName} (${runtime}): training and checkpoints`, { timeout: 900_000 }, () => {
    // Bounds-checked wasm2c build, so the trap test can trap (the board default masks addresses).
    const opts: OpenOptions = { build: { runtime, wamrDir, memcheck: "bounds" } };
    let s: BoardSession;
    before(async () => { s = await openBoard(boardName, opts); });
    after(async () => { await s?.close(); });

    const CLASSES = 10;
    const small = lossBlob(300, 16, CLASSES); // input and output travel inside the TRAIN_STEP frames
    const run = samples(6, 300, CLASSES, 1);

    test("a fresh board has no checkpoint; training commands need TRAIN_INIT", async () => {
      await s.reset();
      await assert.rejects(s.rawCall("TRAIN_INIT"), isBoardError("BAD_STATE"));
      await s.loadModel(small);
      await assert.rejects(s.trainStep(run[0].input, run[0].label), /call trainInit\(\) first/);
      await assert.rejects(s.rawCall("TRAIN_STEP", { label: 0 }), isBoardError("NOT_TRAINING"));
      await assert.rejects(s.rawCall("CHECKPOINT_SAVE", { step: 1 }), isBoardError("NOT_TRAINING"));
      await s.trainInit();
      await assert.rejects(s.checkpointRestore(), (e: Error) =>
        isBoardError("NO_CHECKPOINT", CHECKPOINT_MISSES.NONE)(e) && /none was saved/.test(e.message));
    });

    test("TRAIN_INIT on an inference-only model is NOT_TRAINABLE; the board keeps serving it", async () => {
      const blob = requantizeCopyBlob(100);
      const input = pattern(100, 3);
      await s.loadModel(blob);
      await assert.rejects(s.trainInit(), (e: Error) =>
        isBoardError("NOT_TRAINABLE", STATUS.NOT_TRAINABLE)(e) && /inference-only/.test(e.message));
      await assert.rejects(s.trainStep(input, 0), /call trainInit\(\) first/);
      await s.setInput(input);
      await s.invoke();
      const e = NodeEngine.load(blob);
      e.setInput(input);
      e.invoke();
      assert.deepEqual(await s.getOutput(), e.output());
    });

    test("train steps give NodeEngine's loss bits, outputs and state bytes", async () => {
      await s.loadModel(small);
      const info = await s.trainInit();
      assert.deepEqual(info, { stateOffset: 0, stateBytes: 4 * CLASSES });
      await s.trainConfig(0.05, 0);
      const board = await boardTrain(s, run);
      const ref = nodeTrain(small, run);
      assert.deepEqual(board, ref.steps);
      assert.deepEqual(await s.readTrainState(), ref.state);
      assert.ok(ref.steps.every((r) => r.lossBits !== 0), "every step has a loss");
    });

    test("inputs and outputs larger than a frame go by SET_INPUT and GET_OUTPUT", async () => {
      const big = lossBlob(MAX_PAYLOAD + 500, MAX_PAYLOAD + 100, CLASSES);
      const bigRun = samples(3, MAX_PAYLOAD + 500, CLASSES, 5);
      await s.loadModel(big);
      await s.trainInit();
      await s.trainConfig(0.05, 0);
      assert.deepEqual(await boardTrain(s, bigRun), nodeTrain(big, bigRun).steps);
      // The raw command takes a whole input or none; a piece of one is refused.
      await assert.rejects(s.rawCall("TRAIN_STEP", { label: 1 }, new Uint8Array(10)), isBoardError("BAD_LENGTH", MAX_PAYLOAD + 500));
    });

    test("a bad label is an engine status, not a protocol error; training goes on", async () => {
      await s.loadModel(small);
      await s.trainInit();
      await s.trainConfig(0.05, 0);
      await assert.rejects(s.trainStep(run[0].input, CLASSES), (e: Error) => e instanceof EngineError && e.status === STATUS.BAD_LABEL);
      await assert.rejects(s.trainStep(run[0].input, -1), RangeError);
      const board = await boardTrain(s, run.slice(0, 2));
      assert.deepEqual(board, nodeTrain(small, run.slice(0, 2)).steps);
    });

    test("checkpoint, RESET, reload, restore: the state is back byte for byte and training continues identically", async () => {
      const ref = nodeTrain(small, run);
      await s.loadModel(small);
      await s.trainInit();
      await s.trainConfig(0.05, 0);
      await boardTrain(s, run.slice(0, 3));
      const saved = await s.checkpointSave(3);
      assert.equal(saved.stateCrc, crc32(ref.states[2]));
      assert.ok(saved.written >= 4 * CLASSES + 4 * CHECKPOINT_RECORD.fields.length);
      await boardTrain(s, run.slice(3, 5)); // steps the reset will lose
      await s.reset();
      await assert.rejects(s.rawCall("CHECKPOINT_RESTORE"), isBoardError("BAD_STATE"));
      const step = await s.resumeTraining(small, { lr: 0.05, momentum: 0 });
      assert.equal(step, 3);
      assert.deepEqual(await s.readTrainState(), ref.states[2]);
      assert.deepEqual(await boardTrain(s, run.slice(3)), ref.steps.slice(3));
      assert.deepEqual(await s.readTrainState(), ref.state);
      // Restoring again rewinds to step 3 once more.
      assert.equal(await s.checkpointRestore(), 3);
      assert.deepEqual(await s.readTrainState(), ref.states[2]);
    });

    test("a checkpoint belongs to its model", async () => {
      const other = lossBlob(300, 16, CLASSES - 1); // another blob (and state size)
      await s.loadModel(other);
      await s.trainInit();
      await assert.rejects(s.checkpointRestore(), isBoardError("NO_CHECKPOINT", CHECKPOINT_MISSES.OTHER_MODEL));
      assert.equal(await s.resumeTraining(other), undefined);
      // The first model's checkpoint is still there.
      assert.equal(await s.resumeTraining(small), 3);
    });

    test("a model reaching into the checkpoint: saving is TOO_LARGE, and the overwritten state is DAMAGED", async (t) => {
      const store = (await s.info()).modelStoreBytes;
      // QEMU's UART moves about 15 KB/s: a store-sized upload is only cheap on native or a small store.
      if (s.board.kind === "qemu" && store > 256 * 1024) return t.skip(`uploading ${store} B under QEMU takes minutes; covered on native, qemu-f405 and by checkpoint.c's test`);
      const record = 4 * CHECKPOINT_RECORD.fields.length;
      await s.resumeTraining(small);
      await s.checkpointSave(9);
      // The same training model padded (the engine ignores bytes past its records) to end 4 bytes
      // into the saved state, just below the record.
      const padded = new Uint8Array(store - record - 4);
      padded.set(small);
      padded.fill(0x5a, small.length);
      new DataView(padded.buffer).setUint32(4 * HEADER_FIELDS.indexOf("blobBytes"), padded.length, true);
      const t0 = Date.now();
      await s.loadModel(padded);
      t.diagnostic(`${padded.length} B uploaded in ${Date.now() - t0} ms`);
      await s.trainInit();
      await assert.rejects(s.checkpointRestore(), isBoardError("NO_CHECKPOINT", CHECKPOINT_MISSES.OTHER_MODEL));
      await assert.rejects(s.checkpointSave(1), (e: Error) => isBoardError("TOO_LARGE", 4)(e) && /room for 4/.test(e.message));
      await s.loadModel(small);
      await s.trainInit();
      await assert.rejects(s.checkpointRestore(), (e: Error) =>
        isBoardError("NO_CHECKPOINT", CHECKPOINT_MISSES.DAMAGED)(e) && /fails its CRC/.test(e.message));
      await s.checkpointSave(10); // a new save makes it whole again
      assert.equal(await s.checkpointRestore(), 10);
    });

    test("a trap during TRAIN_STEP is reported; model and training are set up again and the board keeps serving", async (t) => {
      if (runtime === "wamr") return t.skip("WAMR's linear memory is whole 64 KiB pages: no partial page to trap in (board-wamr.test.ts covers its traps)");
      const info = await s.info();
      const trapsBefore = (await s.stats()).traps;
      const blob = trainTrapBlob(info.wasmMemBytes);
      await s.loadModel(blob);
      await s.trainInit();
      await assert.rejects(s.trainStep(new Uint8Array(16), 0), isBoardError("TRAP"));
      assert.equal((await s.stats()).traps, trapsBefore + 1);
      await assert.rejects(s.trainStep(new Uint8Array(16), 0), /no model loaded/);
      await assert.rejects(s.rawCall("TRAIN_INIT"), isBoardError("BAD_STATE"));
      await s.loadModel(small);
      await s.trainInit();
      await s.trainConfig(0.05, 0);
      assert.deepEqual(await boardTrain(s, run.slice(0, 2)), nodeTrain(small, run.slice(0, 2)).steps);
    });

    test("damaged, duplicated and lost TRAIN_STEP frames: each step still runs exactly once", async () => {
      const before = await s.stats();
      const seen = new Set<number>();
      opts.timeoutMs = opts.invokeTimeoutMs = 1500; // TRAIN_STEP waits invokeTimeoutMs per attempt
      opts.tamper = (wire, { command, attempt, index }) => {
        if (command !== "TRAIN_STEP" || attempt > 0 || seen.has(index)) return undefined;
        seen.add(index);
        if (seen.size === 1) { const bad = wire.slice(); bad[12] ^= 0x08; return [bad]; } // CRC fails: BAD_FRAME, resend
        if (seen.size === 2) return [wire, wire]; // duplicate: the cached response, not a second step
        if (seen.size === 3) return []; // lost: timeout, resend of the same seq
        if (seen.size === 4) return [wire.subarray(0, wire.length >> 1), new Uint8Array([0])]; // truncated
        return undefined;
      };
      try {
        await s.loadModel(small);
        await s.trainInit();
        await s.trainConfig(0.05, 0);
        assert.deepEqual(await boardTrain(s, run), nodeTrain(small, run).steps);
      } finally {
        opts.tamper = undefined;
        opts.timeoutMs = opts.invokeTimeoutMs = undefined;
      }
      assert.ok(s.linkCounters.timeouts >= 1, "the lost frame timed out");
      assert.deepEqual(await s.readTrainState(), nodeTrain(small, run).state);
      const st = await s.stats();
      assert.ok(st.badFrames - before.badFrames >= 2, `board saw ${st.badFrames - before.badFrames} bad frames`);
      assert.ok(st.duplicates - before.duplicates >= 1, `board saw ${st.duplicates - before.duplicates} duplicates`);
    });

    test("a compiled training model (kws_ref_model, last layer) trains on the board exactly as in Node", async (t) => {
      let compile: typeof import("../../host/train/compile-training.ts").compileTrainingTflite;
      try {
        ({ compileTrainingTflite: compile } = await import("../../host/train/compile-training.ts"));
      } catch (e) {
        return t.skip(`host/train/compile-training.ts not usable yet: ${(e as Error).message}`);
      }
      const file = modelPath("kws_ref_model");
      if (!existsSync(file)) return t.skip(`${file} is missing`);
      const { blob, training } = compile(readFileSync(file), file, { kind: "last", k: 1 }, { momentum: true });
      const store = (await s.info()).modelStoreBytes;
      if (blob.length + training.stateBytes > store) return t.skip(`blob and checkpoint exceed this board's ${store} B model store`);
      const loaded = await s.loadModel(blob);
      const kwsRun = samples(4, loaded.inputBytes[0], training.classes, 11);
      const info = await s.trainInit();
      assert.equal(info.stateBytes, training.stateBytes);
      await s.trainConfig(0.01, 0.9);
      const ref = nodeTrain(blob, kwsRun, 0.01, 0.9);
      assert.deepEqual(await boardTrain(s, kwsRun.slice(0, 2)), ref.steps.slice(0, 2));
      await s.checkpointSave(2);
      await s.reset();
      assert.equal(await s.resumeTraining(blob, { lr: 0.01, momentum: 0.9 }), 2);
      assert.deepEqual(await s.readTrainState(), ref.states[1]);
      assert.deepEqual(await boardTrain(s, kwsRun.slice(2)), ref.steps.slice(2));
      assert.deepEqual(await s.readTrainState(), ref.state, "trained state differs from NodeEngine's");
      const st = await s.stats();
      t.diagnostic(`kws last:1: blob ${blob.length} B, state ${training.stateBytes} B, arena peak ${st.peakBytes} B, last step ${st.lastCycles} ticks`);
    });

    test("hybrid fp8 training (IC model, sparse through residual ADDs) gives NodeEngine's loss bits, outputs and state bytes", async (t) => {
      const { compileTrainingTflite } = await import("../../host/train/compile-training.ts");
      const file = modelPath("pretrainedResnet_quant");
      // every fp8 record: E4M3 saves, E5M2 encode/decode, masks, accumulation through ADD, MEAN, conv and FC updates
      const scheme = { kind: "sparse" as const, biasFrom: 6, weights: [{ layer: 6, ratio: 0.5 }, { layer: 9, ratio: 1 }] };
      const { blob, training } = compileTrainingTflite(readFileSync(file), file, scheme, { precision: "fp8", headLr: 30 });
      const store = (await s.info()).modelStoreBytes;
      if (blob.length + training.stateBytes > store) return t.skip(`blob and checkpoint exceed this board's ${store} B model store`);
      let loaded;
      try {
        loaded = await s.loadModel(blob);
      } catch (e) {
        // WAMR's pool on qemu-m4 cannot grow linear memory to this arena (whole 64 KiB pages after the
        // engine's data); the int8 program of the same scheme (81 KB) does not fit it either.
        if (runtime === "wamr" && e instanceof EngineError && e.status === STATUS.MEMORY) {
          return t.skip(`WAMR's memory pool on ${boardName} cannot hold this program's ${training.arenaBytes} B arena`);
        }
        throw e;
      }
      const icRun = samples(3, loaded.inputBytes[0], training.classes, 5);
      await s.trainInit();
      await s.trainConfig(0.01, 0);
      const ref = nodeTrain(blob, icRun, 0.01, 0);
      assert.deepEqual(await boardTrain(s, icRun), ref.steps);
      assert.deepEqual(await s.readTrainState(), ref.state, "trained state differs from NodeEngine's");
      const st = await s.stats();
      assert.ok(st.peakBytes <= training.arenaBytes, `measured ${st.peakBytes} B > planned ${training.arenaBytes} B`);
      t.diagnostic(`IC fp8 sparse: blob ${blob.length} B, state ${training.stateBytes} B, arena peak ${st.peakBytes} B of ${training.arenaBytes} B planned`);
    });
  });
}
