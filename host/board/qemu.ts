// Runs firmware on a QEMU virtual board: serial on a pty, deterministic instruction-driven
// time (-icount shift=0), guest held at reset (-S) until the host has the port open, then
// released through QMP. Any failure stops QEMU.
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Board } from "./boards.ts";
import { spawnTracked, type Spawned } from "./proc.ts";

export interface BoardProcess {
  ptyPath: string;
  /** Lets the firmware run (QEMU starts halted); resolves once it runs. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What the process printed, for error messages. */
  output(): string;
  exited(): boolean;
}

export interface QemuOptions {
  /** Extra QEMU arguments (after the board's own). */
  args?: string[];
  startTimeoutMs?: number;
}

export function qemuArgs(board: Board, elf: string, qmpSocket: string): string[] {
  if (board.run.kind !== "qemu") throw new Error(`board "${board.name}" is not a QEMU board`);
  return [
    "-M", board.run.machine, "-kernel", elf,
    "-display", "none", "-nodefaults", "-monitor", "none",
    "-serial", "pty",
    "-S", "-qmp", `unix:${qmpSocket},server=on,wait=off`,
    "-icount", `shift=${board.timing.icountShift ?? 0}`,
    ...board.run.args,
  ];
}

export async function startQemu(board: Board, elf: string, opts: QemuOptions = {}): Promise<BoardProcess> {
  const dir = mkdtempSync(join(tmpdir(), "tinyloop-qemu-"));
  const sock = join(dir, "qmp.sock");
  const timeout = opts.startTimeoutMs ?? 10_000;
  let proc: Spawned | undefined;
  const cleanup = async () => { await proc?.stop(); rmSync(dir, { recursive: true, force: true }); };
  try {
    proc = spawnTracked("qemu-system-arm", [...qemuArgs(board, elf, sock), ...(opts.args ?? [])], `qemu-system-arm (${board.name})`);
    const m = await proc.waitFor(/char device redirected to (\/dev\/\S+)/, timeout, "serial pty").catch((e: Error) => {
      throw new Error(/could not start/.test(e.message) ? `${e.message}; install QEMU (apt-get install qemu-system-arm)` : e.message);
    });
    const p = proc;
    return {
      ptyPath: m[1],
      start: () => qmpCont(sock, timeout),
      stop: cleanup,
      output: () => p.output(),
      exited: () => p.exited(),
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** QMP: read the greeting, negotiate capabilities, send `cont`; every step under one timeout. */
function qmpCont(sock: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(sock);
    let buf = "";
    let step = 0;
    const fail = (msg: string) => { clearTimeout(timer); s.destroy(); reject(new Error(`QEMU monitor (QMP): ${msg}`)); };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    s.on("error", (e) => fail(e.message));
    s.on("data", (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg.error) return fail(JSON.stringify(msg.error));
        if (step === 0 && msg.QMP) { step = 1; s.write('{"execute":"qmp_capabilities"}\n'); }
        else if (step === 1 && "return" in msg) { step = 2; s.write('{"execute":"cont"}\n'); }
        else if (step === 2 && "return" in msg) { clearTimeout(timer); s.end(); resolve(); }
      }
    });
  });
}
