// Programs a real board with the firmware: st-flash or OpenOCD as the board JSON's run.stFlash /
// run.openocd say, or a copy of the .bin onto the ST-LINK's mass-storage drive (NOD_*/NODE_*),
// which programs the part itself. Then names the serial port to use (the ST-LINK virtual COM port).
import { spawnSync } from "node:child_process";
import { accessSync, constants, copyFileSync, existsSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { basename, delimiter, join, resolve } from "node:path";
import type { Board } from "./boards.ts";

export type FlashTool = "st-flash" | "openocd" | "copy";
export const FLASH_TOOLS: readonly FlashTool[] = ["st-flash", "openocd", "copy"];

export class FlashError extends Error {}

/** What to install for each external tool (Debian package names). */
const INSTALL: Record<string, string> = {
  "st-flash": "apt-get install stlink-tools",
  openocd: "apt-get install openocd",
};

/** The executable's path on PATH, or undefined. */
export function which(cmd: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const f = join(dir, cmd);
    try {
      accessSync(f, constants.X_OK);
      if (statSync(f).isFile()) return f;
    } catch { /* not here */ }
  }
  return undefined;
}

/** The board definition's command for a tool, with {bin} and {elf} filled in. */
export function flashArgv(board: Board, tool: "st-flash" | "openocd", files: { elf: string; bin: string }): string[] {
  if (board.run.kind !== "flash") throw new FlashError(`board "${board.name}" is not a real board; \`flash\` starts virtual boards instead`);
  const argv = tool === "st-flash" ? board.run.stFlash : board.run.openocd;
  if (!argv?.length) throw new FlashError(`board "${board.name}": its definition has no ${tool === "st-flash" ? "run.stFlash" : "run.openocd"} command`);
  return argv.map((a) => a.replaceAll("{bin}", files.bin).replaceAll("{elf}", files.elf));
}

/** Mount points where desktop Linux puts removable drives. */
function mountRoots(): string[] {
  const user = process.env.USER ?? "";
  return [join("/media", user), "/media", join("/run/media", user), "/mnt"];
}

/**
 * The ST-LINK drive of a Nucleo: a mounted directory named NOD_<part> or NODE_<part>
 * (e.g. NOD_F746ZG). Prefers one naming this board's part when several are mounted.
 */
export function findNucleoDrive(board: Board, roots = mountRoots()): string | undefined {
  const found: string[] = [];
  for (const root of roots) {
    let names: string[] = [];
    try { names = readdirSync(root); } catch { continue; }
    for (const n of names) if (/^NODE?_/i.test(n)) found.push(join(root, n));
  }
  const part = board.name.replace(/^nucleo-/, "").toUpperCase(); // F746ZG, H743ZI2, ...
  return found.find((d) => part.startsWith(basename(d).replace(/^NODE?_/i, "").toUpperCase())) ?? found[0];
}

/** Serial ports an ST-LINK exposes (its virtual COM port), from udev's stable names. */
export function stlinkPorts(dir = "/dev/serial/by-id"): string[] {
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return []; }
  return names.filter((n) => /stlink|st-link/i.test(n)).map((n) => {
    try { return resolve(dir, readlinkSync(join(dir, n))); } catch { return join(dir, n); }
  });
}

export interface FlashOptions {
  tool?: FlashTool;
  /** copy: the mounted NOD_* directory (default: found under /media, /run/media, /mnt). */
  drive?: string;
  log?: (line: string) => void;
  /** For tests: where to look for tools. */
  path?: string;
}

/** The tool to use: the one asked for, else st-flash, else openocd, else a mounted drive. */
export function chooseTool(board: Board, opts: FlashOptions): FlashTool {
  if (opts.tool) {
    if (!FLASH_TOOLS.includes(opts.tool)) throw new FlashError(`--tool must be one of ${FLASH_TOOLS.join(", ")}, got "${opts.tool}"`);
    return opts.tool;
  }
  if (which("st-flash", opts.path)) return "st-flash";
  if (which("openocd", opts.path)) return "openocd";
  if (opts.drive || findNucleoDrive(board)) return "copy";
  throw new FlashError(
    `${board.name}: no way to program the board found: install st-flash (${INSTALL["st-flash"]}) or OpenOCD (${INSTALL.openocd}), ` +
    `or plug the board in so its NOD_* drive is mounted and pass --tool copy`,
  );
}

/** Programs the board; returns a line saying what was done. Throws FlashError with what to do. */
export function flashBoard(board: Board, files: { elf: string; bin: string }, opts: FlashOptions = {}): string {
  const tool = chooseTool(board, opts);
  const log = opts.log ?? (() => {});
  if (tool === "copy") {
    const drive = opts.drive ?? findNucleoDrive(board);
    if (!drive || !existsSync(drive) || !statSync(drive).isDirectory()) {
      throw new FlashError(`${board.name}: ${drive ? `drive ${drive} is not a mounted directory` : "no NOD_* drive mounted"}; plug the board in (ST-LINK USB) and mount its drive, or pass --drive DIR`);
    }
    const to = join(drive, basename(files.bin));
    log(`copying ${files.bin} -> ${to}`);
    try {
      copyFileSync(files.bin, to);
    } catch (e) {
      throw new FlashError(`${board.name}: copying the firmware to ${drive} failed (${(e as Error).message})`);
    }
    return `${board.name}: firmware copied to ${drive}; the ST-LINK programs and resets the board (its LED blinks while it does)`;
  }
  const argv = flashArgv(board, tool, files);
  const exe = which(argv[0], opts.path);
  if (!exe) throw new FlashError(`${board.name}: \`${argv[0]}\` not found; install it (${INSTALL[tool]}) or pass --tool ${tool === "st-flash" ? "openocd" : "st-flash"} or --tool copy`);
  log(argv.join(" "));
  const r = spawnSync(exe, argv.slice(1), { encoding: "utf8", timeout: 180_000 });
  if (r.error) throw new FlashError(`${board.name}: ${argv[0]} failed to run (${r.error.message})`);
  if (r.status !== 0) {
    const out = `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").slice(-15).join("\n");
    throw new FlashError(`${board.name}: ${argv[0]} exited with ${r.status ?? r.signal}; is the board plugged in (ST-LINK USB) and not held by another debugger?\n${out}`);
  }
  return `${board.name}: programmed with ${argv[0]}`;
}
