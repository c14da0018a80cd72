// Builds firmware for a board: engine.wasm -> C (wasm2c 1.0.32), protocol header from the
// spec, linker script from the board JSON, one compiler run, then the ELF's sizes.
// Output: build/firmware/<board>/firmware.elf. Rebuilds only when an input changed.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard, type Board } from "./boards.ts";
import { cHeader } from "./protocol-spec.ts";
import { linkerScript } from "./linker.ts";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const FIRMWARE_DIR = join(REPO, "firmware");
export const DEFAULT_ENGINE = join(REPO, "build", "engine.wasm");
const WASM_RT_HEADER_DIRS = ["/usr/src/wasm2c", "/usr/share/wabt/wasm2c", "/usr/include"];
const WABT_VERSION = "1.0.32";

/** HAL directories per board "hal" value; cortexm is shared by every Cortex-M HAL. */
const HAL_SOURCES: Record<string, string[]> = {
  mps2: ["hal/mps2", "hal/cortexm"],
  "stm32f4-qemu": ["hal/stm32-usart-v1", "hal/cortexm"],
  posix: ["hal/posix"],
};

export interface BuildOptions {
  engineWasm?: string;
  outDir?: string;
  /** Rebuild even if nothing changed. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface FirmwareSizes {
  /** Code + constants + .data load image: what goes into flash, without any model. */
  flashBytes: number;
  /** .data + .bss (excluding stack, wasm memory and model store). */
  staticRamBytes: number;
  stackBytes: number;
  /** Linear memory the runtime can hand the engine. */
  wasmMemoryBytes: number;
  modelStoreBytes: number;
}

export interface BuildResult extends FirmwareSizes {
  board: Board;
  elf: string;
  dir: string;
  /** True when the previous build was reused. */
  cached: boolean;
}

export class BuildError extends Error {}

function run(cmd: string, args: string[], what: string, hint: string, timeoutMs = 300_000): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) {
    const e = r.error as NodeJS.ErrnoException;
    if (e.code === "ENOENT") throw new BuildError(`${what}: \`${cmd}\` not found; ${hint}`);
    throw new BuildError(`${what}: ${cmd} failed to run (${e.message})`);
  }
  if (r.status !== 0) {
    throw new BuildError(`${what} failed (${cmd} exit ${r.status ?? r.signal}):\n${(r.stderr || r.stdout).trim().slice(0, 4000)}`);
  }
  return r.stdout;
}

function listSources(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const abs = join(FIRMWARE_DIR, d);
    if (!existsSync(abs)) throw new BuildError(`firmware directory ${relative(REPO, abs)} is missing`);
    for (const f of readdirSync(abs).sort()) if (f.endsWith(".c") || f.endsWith(".h")) out.push(join(abs, f));
  }
  return out;
}

/** Writes only on change, so timestamps (and editors) are not disturbed needlessly. */
function writeIfChanged(file: string, text: string): void {
  if (!existsSync(file) || readFileSync(file, "utf8") !== text) writeFileSync(file, text);
}

function wasmRtHeader(): string {
  for (const d of WASM_RT_HEADER_DIRS) if (existsSync(join(d, "wasm-rt.h"))) return join(d, "wasm-rt.h");
  throw new BuildError("wasm-rt.h not found; install wabt 1.0.32 (apt-get install wabt)");
}

function toolchain(board: Board) {
  if (board.kind === "native") return { cc: "gcc", size: "size", nm: "nm", hint: "install gcc (apt-get install build-essential)" };
  return {
    cc: "arm-none-eabi-gcc", size: "arm-none-eabi-size", nm: "arm-none-eabi-nm",
    hint: "install gcc-arm-none-eabi and libnewlib-arm-none-eabi (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)",
  };
}

/** Compiler flags; -ffp-contract=off keeps float results identical to Node (no fused multiply-add). */
function flags(board: Board, dir: string): string[] {
  const common = [
    "-std=c11", "-O2", "-g", "-ffp-contract=off", "-fno-math-errno", "-DNDEBUG",
    "-Wall", "-Wno-unused-function", "-Wno-unused-variable", "-Wno-unused-but-set-variable",
    "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections",
    // Explicit bounds checks and trap-by-longjmp on every target, the host build included.
    "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0", "-DWASM_RT_USE_STACK_DEPTH_COUNT=1", "-DWASM_RT_MAX_CALL_STACK_DEPTH=200",
    `-DTL_BOARD_NAME="${board.name}"`, `-DTL_CLOCK_HZ=${board.clockHz}u`, `-DTL_TIMER_HZ=${board.timing.timerHz}u`,
    `-I${join(dir, "w2c")}`, `-I${join(FIRMWARE_DIR, "core")}`,
  ];
  if (board.kind === "native") {
    return [...common, `-DTL_STORE_BYTES=${board.memory.flash.length}u`, `-DTL_WASM_BYTES=${board.memory.sram.length}u`, "-lm"];
  }
  const cpu = [`-mcpu=${board.cpu.mcpu}`, "-mthumb"];
  if (board.cpu.mfpu) cpu.push(`-mfpu=${board.cpu.mfpu}`);
  if (board.cpu.mfloatAbi) cpu.push(`-mfloat-abi=${board.cpu.mfloatAbi}`);
  const uart = board.uart.base === undefined ? [] : [`-DTL_UART_BASE=0x${board.uart.base.toString(16)}u`];
  if (board.uart.irq !== undefined) uart.push(`-DTL_UART_IRQ=${board.uart.irq}u`);
  return [
    ...common, ...cpu, ...uart, `-DTL_UART_BAUD=${board.uart.baud ?? 115200}u`,
    "-nostartfiles", "-specs=nano.specs", `-T${join(dir, "link.ld")}`, `-Wl,-Map=${join(dir, "firmware.map")}`,
    "-lm", "-lc", "-lgcc",
  ];
}

function checkBuildable(board: Board): void {
  if (!HAL_SOURCES[board.hal]) {
    throw new BuildError(
      `board "${board.name}": its HAL "${board.hal}" is not written yet (board facts only; buildable HALs: ${Object.keys(HAL_SOURCES).join(", ")})`,
    );
  }
  if (board.modelStore.writer !== "ram") {
    throw new BuildError(`board "${board.name}": model store writer "${board.modelStore.writer}" is not implemented yet (only "ram")`);
  }
}

export function buildFirmware(boardName: string, opts: BuildOptions = {}): BuildResult {
  const board = loadBoard(boardName);
  checkBuildable(board);
  const log = opts.log ?? (() => {});
  const engine = opts.engineWasm ?? DEFAULT_ENGINE;
  if (!existsSync(engine)) throw new BuildError(`engine not built: ${engine} is missing; run \`npm run build\``);
  const dir = opts.outDir ?? join(REPO, "build", "firmware", board.name);
  mkdirSync(join(dir, "w2c"), { recursive: true });
  const tc = toolchain(board);

  writeIfChanged(join(FIRMWARE_DIR, "core", "protocol_gen.h"), cHeader());
  if (board.kind !== "native") writeIfChanged(join(dir, "link.ld"), linkerScript(board));

  const sources = listSources(["core", "port/wasm2c", ...HAL_SOURCES[board.hal]]);
  const args = flags(board, dir);
  const elf = join(dir, "firmware.elf");
  const stamp = join(dir, "inputs.sha256");
  const hash = createHash("sha256");
  for (const f of [engine, ...sources, ...(board.kind === "native" ? [] : [join(dir, "link.ld")])]) hash.update(f).update(readFileSync(f));
  hash.update(JSON.stringify(board)).update(args.join(" "));
  const digest = hash.digest("hex");
  const cached = !opts.force && existsSync(elf) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest;

  if (!cached) {
    const wabt = run("wasm2c", ["--version"], "wasm2c", "install wabt 1.0.32 (apt-get install wabt)").trim();
    if (wabt !== WABT_VERSION) log(`warning: wasm2c ${wabt}; the port is written for ${WABT_VERSION} (newer wabt renames the API)`);
    log(`wasm2c ${relative(REPO, engine)}`);
    run("wasm2c", [engine, "-n", "engine", "-o", join(dir, "w2c", "engine.c")], "wasm2c", "install wabt");
    copyFileSync(wasmRtHeader(), join(dir, "w2c", "wasm-rt.h"));
    log(`${tc.cc} -> ${relative(REPO, elf)}`);
    const cFiles = [...sources.filter((f) => f.endsWith(".c")), join(dir, "w2c", "engine.c")];
    run(tc.cc, [...cFiles, ...args, "-o", elf], `compiling firmware for ${board.name}`, tc.hint);
    writeFileSync(stamp, digest);
  }
  return { board, elf, dir, cached, ...measure(board, elf, tc) };
}

/** Sizes from the ELF's section table and the layout symbols. */
function measure(board: Board, elf: string, tc: { size: string; nm: string; hint: string }): FirmwareSizes {
  const sections = new Map<string, number>();
  for (const line of run(tc.size, ["-A", elf], "reading firmware sizes", tc.hint).split("\n")) {
    const m = /^(\.\S+)\s+(\d+)\s+(\d+)/.exec(line.trim());
    if (m) sections.set(m[1], Number(m[2]));
  }
  const sec = (n: string) => sections.get(n) ?? 0;
  const symbols = new Map<string, { addr: number; size: number }>();
  for (const line of run(tc.nm, ["-S", elf], "reading firmware symbols", tc.hint).split("\n")) {
    const p = line.trim().split(/\s+/);
    if (p.length === 4) symbols.set(p[3], { addr: parseInt(p[0], 16), size: parseInt(p[1], 16) });
    else if (p.length === 3) symbols.set(p[2], { addr: parseInt(p[0], 16), size: 0 });
  }
  const addr = (n: string) => symbols.get(n)?.addr ?? 0;
  if (board.kind === "native") {
    const store = symbols.get("g_store")?.size ?? 0, wasm = symbols.get("g_wasm")?.size ?? 0;
    const code = [".text", ".rodata", ".eh_frame", ".eh_frame_hdr", ".init", ".fini", ".plt", ".plt.got", ".data", ".data.rel.ro"]
      .reduce((s, n) => s + sec(n), 0);
    return {
      flashBytes: code, staticRamBytes: sec(".data") + sec(".bss") - store - wasm, stackBytes: 0,
      wasmMemoryBytes: wasm, modelStoreBytes: store,
    };
  }
  return {
    flashBytes: sec(".isr_vector") + sec(".text") + sec(".ARM.exidx") + sec(".data"),
    staticRamBytes: sec(".data") + sec(".bss"),
    stackBytes: sec(".stack"),
    wasmMemoryBytes: addr("__wasm_mem_end") - addr("__wasm_mem_start"),
    modelStoreBytes: addr("__model_store_end") - addr("__model_store_start"),
  };
}

// `tsx host/board/build.ts <board>`: build and print the sizes.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = buildFirmware(process.argv[2] ?? "qemu-m4", { log: (l) => console.log(l), force: process.argv.includes("--force") });
  const { board: _b, ...rest } = r;
  console.log(JSON.stringify(rest, null, 2));
}
