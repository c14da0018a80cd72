// The WAMR runtime port (firmware/port/wamr, host/board/build-wamr.ts) against the wasm2c build and
// NodeEngine. WAMR is not in any registry: these tests run only when the user's WAMR build is
// given in TINYLOOP_WAMR_DIR (an x86-64 Linux build for the native board, see docs/wamr.md), and
// are reported as skipped, with the reason, when it is not. TINYLOOP_WAMR_M4_DIR (a Cortex-M4F
// build with tinyloop's bare-metal platform) adds the same comparison on qemu-m4.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { openBoard, BoardError, type BoardSession } from "../../host/board/session.ts";
import { buildFirmware, BuildError } from "../../host/board/build.ts";
import { buildWamrFirmware, inspectWamr, aotFlags, WAMR_DIR_ENV, WAMRC_ENV, type WamrBuildResult } from "../../host/board/build-wamr.ts";
import { loadBoard } from "../../host/board/boards.ts";
import { compileTflite } from "../../host/compile.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { modelPath, SHARED, xorshiftBytes } from "./shared.ts";

/** Two real MLPerf Tiny models: a fully connected autoencoder and a depthwise-separable CNN. */
const MODELS = ["ad01_int8", "kws_ref_model"];
const SEEDS = [1, 7];

const nativeDir = process.env[WAMR_DIR_ENV];
const m4Dir = process.env.TINYLOOP_WAMR_M4_DIR;
const wamrc = process.env[WAMRC_ENV];
const modelsMissing = MODELS.filter((m) => !existsSync(modelPath(m)));
const noModels = modelsMissing.length ? `shared models missing (${modelsMissing.join(", ")} under ${SHARED}/models)` : false;

function reference(blob: Uint8Array, input: Uint8Array): Uint8Array {
  const e = NodeEngine.load(blob);
  e.setInput(input);
  e.invoke();
  return e.output();
}

async function runLoaded(s: BoardSession, input: Uint8Array): Promise<Uint8Array> {
  await s.setInput(input);
  await s.invoke();
  return s.getOutput();
}

describe("WAMR build errors (no WAMR needed)", () => {
  test("a missing WAMR directory is named, with the doc to read", () => {
    const saved = process.env[WAMR_DIR_ENV];
    delete process.env[WAMR_DIR_ENV];
    try {
      assert.throws(() => inspectWamr(), (e: Error) => e instanceof BuildError && /TINYLOOP_WAMR_DIR/.test(e.message) && /docs\/wamr\.md/.test(e.message));
    } finally {
      if (saved !== undefined) process.env[WAMR_DIR_ENV] = saved;
    }
    assert.throws(() => inspectWamr("/nonexistent/wamr"), /\/nonexistent\/wamr does not exist.*docs\/wamr\.md/s);
  });

  test("a directory without the header or the library says which is missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "tl-wamr-"));
    try {
      assert.throws(() => inspectWamr(dir), /has no include\/wasm_export\.h/);
      mkdirSync(join(dir, "include"));
      writeFileSync(join(dir, "include", "wasm_export.h"), "");
      assert.throws(() => inspectWamr(dir), /has no lib\/libiwasm\.a or lib\/libvmlib\.a/);
      mkdirSync(join(dir, "lib"));
      writeFileSync(join(dir, "lib", "libiwasm.a"), "not an archive");
      assert.throws(() => inspectWamr(dir), /is not a static library/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Every export the port looks up, with the real signatures; the blob's first word is the mode:
 *  0 works, 1 divides by zero in tl_invoke, 2 makes tl_read write past memory, 3 hits unreachable. */
function trapEngineWat(abi: number): string {
  const zero = (name: string, params = "") => `(func (export "${name}") ${params} (result i32) (i32.const 0))`;
  return `(module
  (import "env" "tl_read" (func $tl_read (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $mode (mut i32) (i32.const 0))
  (func (export "_initialize"))
  (func (export "tl_abi_version") (result i32) (i32.const ${abi}))
  (func (export "tl_load") (result i32)
    (drop (call $tl_read (i32.const 0) (i32.const 16) (i32.const 4)))
    (global.set $mode (i32.load (i32.const 16)))
    (if (i32.eq (global.get $mode) (i32.const 2))
      (then (drop (call $tl_read (i32.const 0) (i32.const 65534) (i32.const 4)))))
    (i32.const 0))
  (func (export "tl_invoke") (result i32)
    (if (i32.eq (global.get $mode) (i32.const 3)) (then unreachable))
    (i32.div_u (i32.const 0) (i32.sub (global.get $mode) (i32.const 1))))
  ${zero("tl_num_inputs")} ${zero("tl_num_outputs")}
  ${zero("tl_input_ptr", "(param i32)")} ${zero("tl_input_bytes", "(param i32)")}
  ${zero("tl_output_ptr", "(param i32)")} ${zero("tl_output_bytes", "(param i32)")}
  ${zero("tl_arena_bytes")} ${zero("tl_op_count")} ${zero("tl_peak_bytes")} ${zero("tl_arena_ptr")} ${zero("tl_op_index")}
  (func (export "tl_begin"))
  (func (export "tl_step") (result i32) (i32.const 9))
  ${zero("tl_train_init")} ${zero("tl_train_step", "(param i32)")} ${zero("tl_train_loss_bits")}
  ${zero("tl_train_state_offset")} ${zero("tl_train_state_bytes")}
  (func (export "tl_train_set_lr") (param i32)) (func (export "tl_train_set_momentum") (param i32)))
`;
}

const boards: { board: string; dir: string | undefined; env: string }[] = [
  { board: "native", dir: nativeDir, env: WAMR_DIR_ENV },
  { board: "qemu-m4", dir: m4Dir, env: "TINYLOOP_WAMR_M4_DIR" },
];

for (const { board, dir, env } of boards) {
  const skip = !dir
    ? `${env} is not set: no WAMR build to test (build WAMR with its own CMake, see docs/wamr.md)`
    : noModels;
  // Skipped per test (not per suite), so the runner counts and lists every skipped test with its reason.
  describe(`WAMR on ${board}`, { timeout: 600_000 }, () => {
    let wamr: BoardSession, wasm2c: BoardSession;
    let fw: WamrBuildResult;
    const blobs = new Map<string, Uint8Array>();

    before(async () => {
      if (skip) return;
      fw = buildWamrFirmware(board, { wamrDir: dir });
      wamr = await openBoard(board, { elf: fw.elf });
      wasm2c = await openBoard(board, { elf: buildFirmware(board, { memcheck: "bounds" }).elf });
      for (const m of MODELS) blobs.set(m, compileTflite(readFileSync(modelPath(m)), `${m}.tflite`).blob);
    });
    after(async () => {
      await wamr?.close();
      await wasm2c?.close();
    });

    test("HELLO: same board, protocol and engine ABI as the wasm2c build", { skip }, async (t) => {
      const a = await wamr.info(), b = await wasm2c.info();
      assert.equal(a.board, board);
      assert.equal(a.protocolVersion, b.protocolVersion);
      assert.equal(a.engineAbi, b.engineAbi);
      t.diagnostic(`WAMR ${fw.wamrMode}: flash ${fw.flashBytes} B, static RAM ${fw.staticRamBytes} B, wasm region (WAMR pool + linear memory) ${fw.wasmMemoryBytes} B`);
    });

    for (const m of MODELS) {
      test(`${m}: outputs byte-identical to the wasm2c build and to NodeEngine`, { skip }, async (t) => {
        const blob = blobs.get(m)!;
        // Uploaded once per board (over QEMU's emulated UART that is most of the time), then run per input.
        const loaded = await wamr.loadModel(blob);
        await wasm2c.loadModel(blob);
        for (const seed of SEEDS) {
          const input = xorshiftBytes(seed, loaded.inputBytes[0]);
          const ref = reference(blob, input);
          const outWamr = await runLoaded(wamr, input);
          const outW2c = await runLoaded(wasm2c, input);
          assert.deepEqual(outWamr, ref, `${m} seed ${seed}: WAMR differs from NodeEngine`);
          assert.deepEqual(outW2c, ref, `${m} seed ${seed}: wasm2c differs from NodeEngine`);
        }
        const st = await wamr.stats();
        assert.equal(st.traps, 0);
        t.diagnostic(`${m}: arena ${st.arenaBytes} B, linear memory ${st.wasmMemBytes} B (${st.wasmPages} pages), last invoke ${st.lastCycles} ticks`);
      });
    }

    test("traps: WAMR's exception becomes the protocol's TRAP (wasm2c codes), and the board keeps serving", { skip }, async (t) => {
      // A stand-in engine with the real exports: its blob's first word picks a trap.
      const wat = trapEngineWat((await wamr.info()).engineAbi);
      const tmp = mkdtempSync(join(tmpdir(), "tl-wamr-trap-"));
      let s: BoardSession | undefined;
      try {
        writeFileSync(join(tmp, "trap.wat"), wat);
        const r = spawnSync("wat2wasm", [join(tmp, "trap.wat"), "-o", join(tmp, "trap.wasm")], { encoding: "utf8" });
        if (r.error || r.status !== 0) return t.skip(`wat2wasm (wabt) unavailable or failed: ${r.error?.message ?? r.stderr}`);
        const trapFw = buildWamrFirmware(board, { wamrDir: dir, engineWasm: join(tmp, "trap.wasm"), outDir: join(tmp, "fw") });
        s = await openBoard(board, { elf: trapFw.elf });
        const word = (v: number) => new Uint8Array(new Uint32Array([v, 0, 0, 0]).buffer);
        const isTrap = (detail: number) => (e: Error) => e instanceof BoardError && e.errorName === "TRAP" && e.detail === detail;
        // tl_read into a destination past linear memory: refused by WAMR's "(i*~)i" check, reported as OOB (1).
        await assert.rejects(s.loadModel(word(2)), isTrap(1));
        // integer divide by zero inside tl_invoke (3).
        await s.loadModel(word(1));
        await assert.rejects(s.invoke(), isTrap(3));
        // unreachable (5).
        await s.loadModel(word(3));
        await assert.rejects(s.invoke(), isTrap(5));
        assert.equal((await s.stats()).traps, 3);
        // Still serving, on a fresh instance.
        await s.loadModel(word(0));
        await s.invoke();
        assert.equal((await s.info()).board, board);
      } finally {
        await s?.close();
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}

test("wamrc flags follow the board's CPU and float ABI; boards without a Thumb target are refused", () => {
  assert.deepEqual(aotFlags(loadBoard("qemu-m4")), ["--target=thumbv7em", "--target-abi=eabihf", "--cpu=cortex-m4", "--xip", "--enable-builtin-intrinsics=all"]);
  assert.equal(aotFlags(loadBoard("qemu-m7"))[2], "--cpu=cortex-m7");
  assert.throws(() => aotFlags(loadBoard("native")), (e: Error) => e instanceof BuildError && /WAMR AOT is built for Cortex-M/.test(e.message));
});

// WAMR's AOT mode: engine.wasm compiled by the user's wamrc (TINYLOOP_WAMRC) for the M4 and run in
// place from flash, with a library built with WAMR_BUILD_AOT=1 (TINYLOOP_WAMR_M4_DIR).
describe("WAMR AOT on qemu-m4", { timeout: 600_000 }, () => {
  const lib = m4Dir && existsSync(m4Dir) ? inspectWamr(m4Dir) : undefined;
  const skip = !m4Dir ? "TINYLOOP_WAMR_M4_DIR is not set: no WAMR build to test (see docs/wamr.md)"
    : !wamrc ? `${WAMRC_ENV} is not set: no wamrc to compile engine.wasm with (see docs/wamr.md)`
    : !lib?.aot ? `${m4Dir} was built without AOT (WAMR_BUILD_AOT=1)` : noModels;
  let s: BoardSession | undefined;
  let fw: WamrBuildResult;
  before(async () => {
    if (skip) return;
    fw = buildWamrFirmware("qemu-m4", { wamrDir: m4Dir, wamrc });
    s = await openBoard("qemu-m4", { elf: fw.elf });
  });
  after(async () => { await s?.close(); });

  for (const m of MODELS) {
    test(`${m}: AOT outputs byte-identical to NodeEngine`, { skip }, async (t) => {
      assert.equal(fw.wamrMode, "aot");
      const blob = compileTflite(readFileSync(modelPath(m)), `${m}.tflite`).blob;
      const loaded = await s!.loadModel(blob);
      for (const seed of SEEDS) {
        const input = xorshiftBytes(seed, loaded.inputBytes[0]);
        assert.deepEqual(await runLoaded(s!, input), reference(blob, input), `${m} seed ${seed}`);
      }
      assert.equal((await s!.stats()).traps, 0);
      t.diagnostic(`WAMR aot: flash ${fw.flashBytes} B, static RAM ${fw.staticRamBytes} B`);
    });
  }
});
