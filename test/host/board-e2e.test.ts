// End to end on virtual boards: build the firmware, start the board, upload a model over
// the serial protocol, run it, and require the output bytes to equal NodeEngine's on the
// same blob and input. Also: damaged, duplicated and lost frames during upload, an engine
// error, and a wasm trap, after each of which the board must keep serving.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openBoard, type BoardSession, type OpenOptions } from "../../host/board/session.ts";
import { BoardError } from "../../host/board/link.ts";
import { requantizeCopyBlob, badMagicBlob, trapBlob } from "../../host/board/test-blobs.ts";
import { startNative } from "../../host/board/native.ts";
import { buildFirmware } from "../../host/board/build.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { EngineError } from "../../host/runners/engine-status.ts";
import { SHARED } from "./shared.ts";

const BOARDS = (process.env.TINYLOOP_TEST_BOARDS ?? "native,qemu-m4").split(",");
const REAL_MODELS = ["hello_world_int8", "ad01_int8"];

function pattern(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => { x = (x * 1103515245 + 12345) >>> 0; return x >>> 24; });
}

function reference(blob: Uint8Array, input: Uint8Array): Uint8Array {
  const e = NodeEngine.load(blob);
  e.setInput(input);
  e.invoke();
  return e.output();
}

/** Loads, runs and returns the board's output and timing. */
async function runOn(s: BoardSession, blob: Uint8Array, input: Uint8Array) {
  await s.loadModel(blob);
  await s.setInput(input);
  const timing = await s.invoke();
  return { output: await s.getOutput(), ...timing };
}

type Compile = (bytes: Uint8Array, file?: string) => { blob: Uint8Array };
async function realCompiler(): Promise<Compile | undefined> {
  try {
    // Whichever name the compiler module ends up exporting.
    const m = (await import("../../host/compile.ts")) as Record<string, unknown>;
    return (m.compileModel ?? m.compileTflite) as Compile | undefined;
  } catch {
    return undefined;
  }
}

for (const boardName of BOARDS) {
  describe(`board ${boardName}`, { timeout: 300_000 }, () => {
    // Per-access bounds checks, so the trap tests below can trap (boards default to address
    // masking, where a wild access wraps inside the sandbox: board-memcheck.test.ts).
    const opts: OpenOptions = { build: { memcheck: "bounds" } };
    let s: BoardSession;

    before(async () => { s = await openBoard(boardName, opts); });
    after(async () => { await s?.close(); });

    test("HELLO reports the board", async (t) => {
      const info = await s.info();
      assert.equal(info.board, boardName);
      assert.equal(info.protocolVersion, 1);
      assert.ok(info.wasmMemBytes > 64 * 1024 && info.modelStoreBytes >= 64 * 1024);
      if (s.firmware) t.diagnostic(`firmware: ${JSON.stringify({ ...s.firmware, board: undefined })}`);
    });

    test("a hand-built model runs byte-identical to NodeEngine (chunked input and output)", async (t) => {
      const blob = requantizeCopyBlob(3000);
      const input = pattern(3000, 1);
      const r = await runOn(s, blob, input);
      assert.deepEqual(r.output, reference(blob, input));
      const st = await s.stats();
      assert.equal(st.opCount, 2);
      assert.equal(st.peakBytes, 9000);
      t.diagnostic(`cycles ${r.cycles}${r.instructions ? `, ~${r.instructions} instructions` : ""}; stack used ${st.stackUsed}/${st.stackBytes}`);
    });

    test("corrupted, truncated, duplicated and lost frames during upload are survived", async () => {
      const before = await s.stats();
      const blob = requantizeCopyBlob(6000);
      // Pad the blob to several upload chunks (the engine ignores bytes past its records).
      const big = new Uint8Array(blob.length + 5000);
      big.set(blob);
      new DataView(big.buffer).setUint32(8, big.length, true); // blobBytes; the tail is ignored by the engine
      const seen = new Set<string>();
      opts.timeoutMs = 400;
      opts.tamper = (wire, { command, attempt, index }) => {
        if (command !== "LOAD_CHUNK" && command !== "SET_INPUT") return undefined;
        const key = `${command}:${index}`;
        if (attempt > 0 || seen.has(key)) return undefined;
        seen.add(key);
        const n = seen.size;
        if (n === 1) { const bad = wire.slice(); bad[10] ^= 0x40; return [bad]; } // CRC fails: BAD_FRAME, resend
        if (n === 2) return [wire, wire]; // duplicate: answered from the cache, not re-executed
        if (n === 3) return [wire.subarray(0, wire.length >> 1), new Uint8Array([0])]; // truncated: BAD_FRAME
        if (n === 4) return []; // lost: the host times out and resends the same seq
        if (n === 5) return [wire, wire]; // a duplicated SET_INPUT must not write twice (harmless) nor desync
        return undefined;
      };
      try {
        const input = pattern(6000, 2);
        const r = await runOn(s, big, input);
        assert.deepEqual(r.output, reference(big, input));
      } finally {
        opts.tamper = undefined;
        opts.timeoutMs = undefined;
      }
      const st = await s.stats();
      assert.ok(st.badFrames - before.badFrames >= 2, `board saw ${st.badFrames - before.badFrames} bad frames`);
      assert.ok(st.duplicates - before.duplicates >= 2, `board saw ${st.duplicates - before.duplicates} duplicates`);
      assert.ok(s.linkCounters.timeouts >= 1);
    });

    test("an engine error is reported, then a good model still runs", async () => {
      await assert.rejects(s.loadModel(badMagicBlob()), (e: Error) => e instanceof EngineError && e.status === 1);
      await assert.rejects(s.invoke(), /no model loaded/);
      const blob = requantizeCopyBlob(100);
      const input = pattern(100, 3);
      assert.deepEqual((await runOn(s, blob, input)).output, reference(blob, input));
    });

    test("a wasm trap is reported as an error and the firmware keeps serving", async () => {
      const info = await s.info();
      const trapsBefore = (await s.stats()).traps;
      await s.loadModel(trapBlob(info.wasmMemBytes)); // memory.grow succeeds: the last page is partial
      await s.setInput(new Uint8Array(16));
      await assert.rejects(s.invoke(), (e: Error) => e instanceof BoardError && e.errorName === "TRAP" && e.detail === 1 /* OOB */);
      assert.equal((await s.stats()).traps, trapsBefore + 1);
      const blob = requantizeCopyBlob(500);
      const input = pattern(500, 4);
      assert.deepEqual((await runOn(s, blob, input)).output, reference(blob, input));
    });

    for (const model of REAL_MODELS) {
      test(`real model ${model} (compiled by host/compile.ts) matches NodeEngine and TFLM golden`, async (t) => {
        const compile = await realCompiler();
        const file = join(SHARED, "models", `${model}.tflite`);
        const golden = join(SHARED, "golden", model);
        if (!compile) return t.skip("host/compile.ts has no compile function yet");
        if (!existsSync(file) || !existsSync(golden)) return t.skip(`${file} or its golden data is missing`);
        const { blob } = compile(readFileSync(file), file);
        const store = (await s.info()).modelStoreBytes;
        if (blob.length > store) return t.skip(`blob of ${blob.length} B exceeds this board's ${store} B model store`);
        const input = readFileSync(join(golden, "input_1.bin"));
        const want = readFileSync(join(golden, "output_1.bin"));
        const node = reference(blob, input);
        const r = await runOn(s, blob, input);
        assert.deepEqual(r.output, node, "board output differs from NodeEngine");
        const st = await s.stats();
        t.diagnostic(`${model}: blob ${blob.length} B, cycles ${r.cycles}${r.instructions ? `, ~${r.instructions} instructions` : ""}, arena peak ${st.peakBytes}, stack ${st.stackUsed}`);
        if (Buffer.from(node).equals(want)) assert.deepEqual(r.output, new Uint8Array(want));
        else t.diagnostic(`NodeEngine itself differs from the TFLM golden output for ${model} (engine issue, not a board one)`);
      });
    }

    test("RESET forgets the model; the board still answers", async () => {
      await s.reset();
      await assert.rejects(s.invoke(), /no model loaded/);
      assert.equal((await s.stats()).opCount, 0);
      assert.equal((await s.info()).board, boardName);
    });
  });
}

test("a board that does not exist is a clear error", async () => {
  await assert.rejects(openBoard("qemu-m9"), /unknown board "qemu-m9"; known boards: .*qemu-m4/);
});

test("a real board without a port is a clear error", async () => {
  await assert.rejects(openBoard("nucleo-l4r5zi"), /real board: pass its serial port/);
});

test("a port that does not exist is a clear error", async () => {
  await assert.rejects(openBoard("nucleo-l4r5zi", { port: "/dev/does-not-exist" }), /cannot open serial port \/dev\/does-not-exist/);
});

test("firmware that dies at start is a clear error", async () => {
  // /bin/true as "firmware": the process exits without ever announcing a uart.
  await assert.rejects(openBoard("native", { elf: "/bin/true" }), /exited .*before uart announcement/);
});

test("a silent serial port is a timeout error, not a hang", async () => {
  // A pty nobody serves: python holds the master and never reads it.
  const py = spawn("python3", ["-c", "import os,pty,time\nm,s=pty.openpty()\nprint(os.ttyname(s),flush=True)\ntime.sleep(60)"]);
  try {
    const path = await new Promise<string>((resolve, reject) => {
      py.stdout.once("data", (d) => resolve(String(d).trim()));
      py.once("error", reject);
    });
    const t0 = Date.now();
    await assert.rejects(openBoard("native", { port: path, timeoutMs: 200, attempts: 3 }), /did not answer HELLO after 3 attempts/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    py.kill("SIGKILL");
  }
});

test("firmware built for another board is refused by name", async () => {
  const fw = startNative(buildFirmware("native").elf);
  const proc = await fw;
  try {
    await assert.rejects(openBoard("qemu-m4", { port: proc.ptyPath }), /built for "native", not "qemu-m4"/);
  } finally {
    await proc.stop();
  }
});
