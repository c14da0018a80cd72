// The three wasm2c memory-access modes (host/board/build.ts, docs/memory-safety.md) on qemu-m4:
// each builds; bounds and mask run real models byte-identical to NodeEngine; a wild access traps
// under bounds (and the firmware keeps serving), wraps inside the sandbox under mask (the canary the
// port keeps right after the sandbox stays intact), and under none reaches the canary, which the
// port detects and reports as trap 64: the check the mask test relies on is live.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openBoard, type BoardSession } from "../../host/board/session.ts";
import { BoardError } from "../../host/board/link.ts";
import { requantizeCopyBlob, trapBlob, handBlob, ENGINE_DATA_BOUND } from "../../host/board/test-blobs.ts";
import {
  buildFirmware, rewriteMemoryAccess, boardMemcheck, BuildError, CANARY_BYTES, MASK_GUARD_BYTES, MASK_OFFSET_MAX, REPO, type MemCheck,
} from "../../host/board/build.ts";
import { compileTflite } from "../../host/compile.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { EngineError } from "../../host/runners/engine-status.ts";
import { STATUS } from "../../host/format/spec.ts";
import { xorshiftBytes } from "../../host/util/xorshift.ts";
import { modelPath } from "../../host/util/shared-models.ts";

const BOARD = "qemu-m4";
const REAL_MODELS = ["hello_world_int8", "ad01_int8"];
const TRAP_OOB = 1;
const TRAP_SANDBOX = 64; // TL_TRAP_SANDBOX in firmware/port/wasm2c/wasm_rt_bare.h

/**
 * A stand-in engine with the real one's exports whose "inference" is a wild access: input bytes
 * [0,4) an address, [4,8) a memory.fill length (0: an i64 store instead; -1: an i64 store with the
 * largest offset immediate the mask build adds after the mask, MASK_OFFSET_MAX), [8,16) the value stored.
 * The output is the 8 bytes read back from that address (with the same offset).
 */
const WILD_WAT = `(module
  (import "env" "tl_read" (func $tl_read (param i32 i32 i32) (result i32)))
  (memory $memory 1)
  (export "memory" (memory $memory))
  (func (export "_initialize"))
  (func (export "tl_abi_version") (result i32) (i32.const 1))
  (func (export "tl_load") (result i32) (call $tl_read (i32.const 0) (i32.const 0) (i32.const 4)))
  (func (export "tl_num_inputs") (result i32) (i32.const 1))
  (func (export "tl_num_outputs") (result i32) (i32.const 1))
  (func (export "tl_input_ptr") (param i32) (result i32) (i32.const 1024))
  (func (export "tl_input_bytes") (param i32) (result i32) (i32.const 16))
  (func (export "tl_output_ptr") (param i32) (result i32) (i32.const 2048))
  (func (export "tl_output_bytes") (param i32) (result i32) (i32.const 8))
  (func (export "tl_arena_ptr") (result i32) (i32.const 1024))
  (func (export "tl_arena_bytes") (result i32) (i32.const 2048))
  (func (export "tl_op_count") (result i32) (i32.const 1))
  (func (export "tl_peak_bytes") (result i32) (i32.const 0))
  (func (export "tl_op_index") (result i32) (i32.const 0))
  (func (export "tl_begin"))
  (func $invoke (export "tl_invoke") (result i32)
    (local $addr i32) (local $fill i32)
    (local.set $addr (i32.load (i32.const 1024)))
    (local.set $fill (i32.load (i32.const 1028)))
    (if (i32.eq (local.get $fill) (i32.const -1))
      (then
        (i64.store offset=${MASK_OFFSET_MAX} (local.get $addr) (i64.load (i32.const 1032)))
        (i64.store (i32.const 2048) (i64.load offset=${MASK_OFFSET_MAX} (local.get $addr)))
        (return (i32.const 0))))
    (if (local.get $fill)
      (then (memory.fill (local.get $addr) (i32.const 0xee) (local.get $fill)))
      (else (i64.store (local.get $addr) (i64.load (i32.const 1032)))))
    (i64.store (i32.const 2048) (i64.load (local.get $addr)))
    (i32.const 0))
  (func (export "tl_step") (result i32) (call $invoke))
  (func (export "tl_train_init") (result i32) (i32.const 11))
  (func (export "tl_train_set_lr") (param i32))
  (func (export "tl_train_set_momentum") (param i32))
  (func (export "tl_train_step") (param i32) (result i32) (i32.const 11))
  (func (export "tl_train_loss_bits") (result i32) (i32.const 0))
  (func (export "tl_train_state_offset") (result i32) (i32.const 0))
  (func (export "tl_train_state_bytes") (result i32) (i32.const 0)))
`;

function wildEngine(): string | undefined {
  const dir = join(REPO, "build", "test");
  mkdirSync(dir, { recursive: true });
  const wat = join(dir, "wild-engine.wat"), wasm = join(dir, "wild-engine.wasm");
  writeFileSync(wat, WILD_WAT);
  const r = spawnSync("wat2wasm", ["--debug-names", wat, "-o", wasm], { encoding: "utf8" });
  return r.status === 0 ? wasm : undefined;
}

function wildInput(addr: number, fill: number, value: bigint): Uint8Array {
  const b = new Uint8Array(16), dv = new DataView(b.buffer);
  dv.setUint32(0, addr >>> 0, true);
  dv.setUint32(4, fill >>> 0, true);
  dv.setBigUint64(8, value, true);
  return b;
}
const le64 = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return b; };

function pattern(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => { x = (x * 1103515245 + 12345) >>> 0; return x >>> 24; });
}

function reference(blob: Uint8Array, inputs: Uint8Array[]): Uint8Array[] {
  const e = NodeEngine.load(blob);
  inputs.forEach((d, i) => e.setInput(d, i));
  e.invoke();
  return Array.from({ length: e.numOutputs }, (_, i) => e.output(i));
}

async function runOn(s: BoardSession, blob: Uint8Array, inputs: Uint8Array[]): Promise<Uint8Array[]> {
  const m = await s.loadModel(blob);
  for (let i = 0; i < inputs.length; i++) await s.setInput(inputs[i], i);
  await s.invoke();
  const out: Uint8Array[] = [];
  for (let i = 0; i < m.numOutputs; i++) out.push(await s.getOutput(i));
  return out;
}

const isTrap = (detail: number) => (e: Error) => e instanceof BoardError && e.errorName === "TRAP" && e.detail === detail;

describe("memcheck builds", () => {
  test("each mode builds into its own directory; mask picks a power-of-two region", () => {
    const dirs = new Set<string>();
    for (const mode of ["bounds", "mask", "none"] as MemCheck[]) {
      const r = buildFirmware(BOARD, { memcheck: mode });
      assert.equal(r.memcheck, mode);
      assert.ok(existsSync(r.elf));
      dirs.add(r.dir);
      const c = readFileSync(join(r.dir, "w2c", "engine.c"), "utf8");
      assert.equal(c.includes("#define MEMCHECK(mem, a, t) RANGE_CHECK(mem, a, sizeof(t))"), mode === "bounds");
      assert.equal(c.includes("TL_MASKED("), mode === "mask");
      if (mode === "mask") {
        assert.equal(r.maskBytes, 256 * 1024); // 320 KB part: 256 KiB + guard + canary fit, 512 KiB does not
        assert.ok(r.wasmMemoryBytes >= r.maskBytes + MASK_GUARD_BYTES + CANARY_BYTES);
      } else assert.equal(r.maskBytes, 0);
    }
    assert.equal(dirs.size, 3);
  });

  test("the rewrite refuses a prelude it does not know, and none is never a board default", () => {
    assert.equal(rewriteMemoryAccess("int x;", "bounds"), "int x;");
    assert.throws(() => rewriteMemoryAccess("int x;", "mask"), BuildError);
    assert.throws(() => rewriteMemoryAccess("int x;", "none"), BuildError);
    assert.throws(() => buildFirmware(BOARD, { memcheck: "mask", maskBytes: 100_000 }), /power of two/);
    assert.throws(() => buildFirmware(BOARD, { memcheck: "mask", maskBytes: 512 * 1024 }), /does not fit/);
    assert.notEqual(boardMemcheck(BOARD), "none");
  });
});

for (const mode of ["bounds", "mask"] as MemCheck[]) {
  describe(`${BOARD} memcheck ${mode}`, { timeout: 300_000 }, () => {
    let s: BoardSession;
    before(async () => { s = await openBoard(BOARD, { build: { memcheck: mode } }); });
    after(async () => { await s?.close(); });

    for (const model of REAL_MODELS) {
      test(`${model} is byte-identical to NodeEngine`, async (t) => {
        const file = modelPath(model);
        if (!existsSync(file)) return t.skip(`${file} is missing`);
        const c = compileTflite(readFileSync(file), file);
        const inputs = c.meta.inputs.map((ti) => xorshiftBytes(1, c.meta.tensors.find((x) => x.index === ti)!.bytes));
        assert.deepEqual(await runOn(s, c.blob, inputs), reference(c.blob, inputs));
      });
    }

    if (mode === "bounds") {
      test("an out-of-bounds access traps and the firmware keeps serving", async () => {
        const info = await s.info();
        const before = (await s.stats()).traps;
        await s.loadModel(trapBlob(info.wasmMemBytes)); // grow succeeds: the last page is partial
        await s.setInput(new Uint8Array(16));
        await assert.rejects(s.invoke(), isTrap(TRAP_OOB));
        assert.equal((await s.stats()).traps, before + 1);
        const blob = requantizeCopyBlob(300), input = pattern(300, 5);
        assert.deepEqual(await runOn(s, blob, [input]), reference(blob, [input]));
      });
    } else {
      test("the same blob cannot get memory past the region: a clean grow failure, then it keeps serving", async () => {
        const info = await s.info();
        const before = (await s.stats()).traps;
        await assert.rejects(s.loadModel(trapBlob(info.wasmMemBytes)), (e: Error) => e instanceof EngineError && e.status === STATUS.MEMORY);
        assert.equal((await s.stats()).traps, before);
        // An arena that fills the region to its last page still loads and runs.
        const arena = 256 * 1024 - ENGINE_DATA_BOUND;
        const full = handBlob([{ kind: "COPY", params: { input: 0, output: arena - 16, bytes: 16 } }], arena, [[0, 16]], [[arena - 16, 16]]);
        const input = pattern(16, 6);
        assert.deepEqual(await runOn(s, full, [input]), reference(full, [input]));
        assert.equal((await s.stats()).wasmPages, 4);
      });
    }
  });
}

describe(`${BOARD} wild accesses from wasm code`, { timeout: 300_000 }, () => {
  const wasm = wildEngine();
  const P = 256 * 1024;

  async function withWild(mode: MemCheck, fn: (s: BoardSession) => Promise<void>) {
    const s = await openBoard(BOARD, {
      build: { memcheck: mode, engineWasm: wasm, outDir: join(REPO, "build", "firmware", `${BOARD}-${mode}-wild`) },
    });
    try {
      await s.loadModel(new Uint8Array(16));
      await fn(s);
    } finally {
      await s.close();
    }
  }
  async function wild(s: BoardSession, addr: number, value: bigint, fill = 0): Promise<Uint8Array> {
    await s.setInput(wildInput(addr, fill, value));
    await s.invoke();
    return s.getOutput();
  }

  test("mask: stores anywhere in the 4 GiB space wrap inside the region; the canary after it is intact", async (t) => {
    if (!wasm) return t.skip("wat2wasm not found (apt-get install wabt)");
    await withWild("mask", async (s) => {
      const before = (await s.stats()).traps;
      const v = 0x1122334455667788n;
      for (const addr of [P, P - 4, P + MASK_GUARD_BYTES, P + MASK_GUARD_BYTES + CANARY_BYTES, 0x7ffffff8, 0xfffffff8, 0xffffffff]) {
        // The read-back goes through the same mask: what was stored comes back.
        assert.deepEqual(await wild(s, addr, v), le64(v), `address 0x${addr.toString(16)}`);
      }
      // A constant offset is added after the mask: the access lands in the guard tail, never past it.
      for (const addr of [P - 1, P - 8, 0xffffffff]) {
        assert.deepEqual(await wild(s, addr, v, -1), le64(v), `address 0x${addr.toString(16)} + ${MASK_OFFSET_MAX}`);
      }
      // P wrapped to 0, so address 0 holds the value too.
      assert.deepEqual(await wild(s, 0, v), le64(v));
      // Bulk operations keep one bounds check per call, in every mode.
      await assert.rejects(wild(s, P - 8, 0n, 64), isTrap(TRAP_OOB));
      await s.loadModel(new Uint8Array(16));
      assert.deepEqual(await wild(s, 64, 5n), le64(5n));
      assert.equal((await s.stats()).traps, before + 1, "only the memory.fill trapped: no canary break was reported");
    });
  });

  test("bounds: the same wild stores trap and the firmware keeps serving", async (t) => {
    if (!wasm) return t.skip("wat2wasm not found (apt-get install wabt)");
    await withWild("bounds", async (s) => {
      const before = (await s.stats()).traps;
      for (const addr of [65536 - 4, P, 0xfffffff8]) {
        await assert.rejects(wild(s, addr, 1n), isTrap(TRAP_OOB), `address 0x${addr.toString(16)}`);
        await s.loadModel(new Uint8Array(16));
      }
      // An offset immediate past the end traps too (bounds checks ptr + offset).
      await assert.rejects(wild(s, 65536 - 8, 1n, -1), isTrap(TRAP_OOB), "offset store past the end");
      await s.loadModel(new Uint8Array(16));
      assert.deepEqual(await wild(s, 64, 7n), le64(7n));
      assert.equal((await s.stats()).traps, before + 4);
    });
  });

  test("none: a store at the canary is caught after the call (the canary check is live)", async (t) => {
    if (!wasm) return t.skip("wat2wasm not found (apt-get install wabt)");
    await withWild("none", async (s) => {
      const info = await s.info();
      const canaryAt = (info.wasmMemBytes - CANARY_BYTES) & ~15; // sandbox_bytes() in wasm_rt_bare.c
      await assert.rejects(wild(s, canaryAt, 0n), isTrap(TRAP_SANDBOX));
      await s.loadModel(new Uint8Array(16));
      assert.deepEqual(await wild(s, 64, 9n), le64(9n));
    });
  });
});
