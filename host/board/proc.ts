// Child processes (QEMU, native firmware) that must never outlive the host: tracked here,
// killed on stop(), and SIGKILLed synchronously when the Node process exits for any reason.
import { spawn, type ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of live) { try { c.kill("SIGKILL"); } catch { /* gone */ } }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  // Ctrl-C / kill: "exit" does not run on a fatal signal, so kill children first, then
  // re-raise the signal with its default action (the listener is gone after once()).
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => { killAll(); process.kill(process.pid, sig); });
  }
}

export interface Spawned {
  child: ChildProcess;
  /** stdout + stderr so far, for error messages. */
  output(): string;
  /** Resolves with the first line (stdout or stderr) matching `re`; rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray>;
  exited(): boolean;
  stop(): Promise<void>;
}

export function spawnTracked(cmd: string, args: string[], label: string): Spawned {
  hookExit();
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  let exitInfo: string | undefined;
  const watchers = new Set<() => void>();
  const notify = () => { for (const w of watchers) w(); };
  child.stdout!.on("data", (d) => { out += d; notify(); });
  child.stderr!.on("data", (d) => { out += d; notify(); });
  child.on("error", (e) => { exitInfo = `could not start ${cmd}: ${e.message}`; live.delete(child); notify(); });
  child.on("exit", (code, sig) => { exitInfo = `${label} exited (${sig ?? `code ${code}`})`; live.delete(child); notify(); });

  const waitFor = (re: RegExp, timeoutMs: number, what: string) => new Promise<RegExpExecArray>((resolve, reject) => {
    const finish = (fn: () => void) => { clearTimeout(timer); watchers.delete(check); fn(); };
    const check = () => {
      const m = re.exec(out);
      if (m) return finish(() => resolve(m));
      if (exitInfo) finish(() => reject(new Error(`${exitInfo} before ${what}; its output:\n${out.trim() || "(none)"}`)));
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`${label}: no ${what} within ${timeoutMs} ms; its output:\n${out.trim() || "(none)"}`))), timeoutMs);
    watchers.add(check);
    check();
  });

  const stop = async () => {
    if (exitInfo || child.exitCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 2000);
    await Promise.race([gone, new Promise((r) => setTimeout(r, 4000))]);
    clearTimeout(t);
    live.delete(child);
  };

  return { child, output: () => out, waitFor, exited: () => exitInfo !== undefined, stop };
}
