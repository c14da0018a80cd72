// Builds firmware for a board: engine.wasm -> C (wasm2c 1.0.32), protocol header from the
// spec, linker script from the board JSON, one compiler run, then the ELF's sizes.
// Output: build/firmware/<board>-<memcheck>/firmware.elf. Rebuilds only when an input changed.
//
// Memory-access modes (BuildOptions.memcheck, default from the board JSON's "memcheck", else
// DEFAULT_MEMCHECK); see docs/memory-safety.md:
//   bounds  every load/store compares against the memory size and traps when out of bounds (wasm2c's own code)
//   mask    every load/store address is `addr & (P - 1)` inside a power-of-two region of P bytes plus a
//           guard tail (constant offsets up to MASK_OFFSET_MAX are added after the mask): no compare, no
//           trap, and no access can leave the region whatever the code does
//   none    unchecked: only for measuring what the checks cost; never a default
// mask and none are made by rewriting the generated load/store macros of wasm2c 1.0.32 (rewriteMemoryAccess).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { BOARDS_DIR, loadBoard, type Board } from "./boards.ts";
import { cHeader } from "./protocol-spec.ts";
import { linkerScript } from "./linker.ts";
import { buildWamrFirmware } from "./build-wamr.ts";
import { halDefines, halDirs, HalError } from "./hal-sources.ts";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const FIRMWARE_DIR = join(REPO, "firmware");
export const DEFAULT_ENGINE = join(REPO, "build", "engine.wasm");
const WASM_RT_HEADER_DIRS = ["/usr/src/wasm2c", "/usr/share/wabt/wasm2c", "/usr/include"];
const WABT_VERSION = "1.0.32";

export type MemCheck = "bounds" | "mask" | "none";
export const MEMCHECK_MODES: readonly MemCheck[] = ["bounds", "mask", "none"];
/** Used when neither the caller nor the board JSON names a mode. */
export const DEFAULT_MEMCHECK: MemCheck = "bounds";
/**
 * mask mode: the largest constant offset (a wasm load/store's offset immediate) added after the
 * mask instead of before it, so accesses at several offsets from one pointer share one masked base.
 */
export const MASK_OFFSET_MAX = 240;
/** Bytes past the mask an access can reach: MASK_OFFSET_MAX plus the widest access (i64/f64), rounded up. */
export const MASK_GUARD_BYTES = 256;
/** Sentinel the port keeps right after the sandbox and checks after every engine call. */
export const CANARY_BYTES = 16;
/** Room .data/.bss need on the Cortex-M parts, reserved when choosing the mask region before linking. */
const STATIC_RAM_RESERVE = 8 * 1024;

export interface BuildOptions {
  engineWasm?: string;
  /** Memory-access mode (default: the board's "memcheck", else DEFAULT_MEMCHECK). */
  memcheck?: MemCheck;
  /** mask mode: the region size P (a power of two >= 64 KiB); default: the largest that fits the board's SRAM. */
  maskBytes?: number;
  outDir?: string;
  /** Rebuild even if nothing changed. */
  force?: boolean;
  log?: (line: string) => void;
  /** The runtime that runs engine.wasm: wasm2c ahead of time (default) or the user's WAMR build (docs/wamr.md). */
  runtime?: "wasm2c" | "wamr";
  /** The user's WAMR install (include/ and lib/); default $TINYLOOP_WAMR_DIR. */
  wamrDir?: string;
  /** WAMR's wasm stack (default 8 KiB). */
  wamrStackBytes?: number;
  /** WAMR's pool on Cortex-M (default: measured by the firmware at boot). */
  wamrPoolBytes?: number;
  /** An AOT file to embed instead of engine.wasm (made with wamrc from engine.wasm). */
  wamrAot?: string;
  /** The user's wamrc: engine.wasm is compiled ahead of time for the board and run as AOT. */
  wamrc?: string;
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
  memcheck: MemCheck;
  /** mask mode: the power-of-two region P; 0 otherwise. The engine can grow to P / 64 KiB pages. */
  maskBytes: number;
  elf: string;
  /** Real boards: the raw image for st-flash or the ST-LINK drive (firmware.bin beside the ELF). */
  bin?: string;
  dir: string;
  /** True when the previous build was reused. */
  cached: boolean;
}

export class BuildError extends Error {}

export function run(cmd: string, args: string[], what: string, hint: string, timeoutMs = 300_000): string {
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

export function listSources(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const abs = join(FIRMWARE_DIR, d);
    if (!existsSync(abs)) throw new BuildError(`firmware directory ${relative(REPO, abs)} is missing`);
    for (const f of readdirSync(abs).sort()) if (f.endsWith(".c") || f.endsWith(".h")) out.push(join(abs, f));
  }
  return out;
}

/** Writes only on change, so timestamps (and editors) are not disturbed needlessly. */
export function writeIfChanged(file: string, text: string): void {
  if (!existsSync(file) || readFileSync(file, "utf8") !== text) writeFileSync(file, text);
}

function wasmRtHeader(): string {
  for (const d of WASM_RT_HEADER_DIRS) if (existsSync(join(d, "wasm-rt.h"))) return join(d, "wasm-rt.h");
  throw new BuildError("wasm-rt.h not found; install wabt 1.0.32 (apt-get install wabt)");
}

export function toolchain(board: Board) {
  if (board.kind === "native") return { cc: "gcc", size: "size", nm: "nm", hint: "install gcc (apt-get install build-essential)" };
  return {
    cc: "arm-none-eabi-gcc", size: "arm-none-eabi-size", nm: "arm-none-eabi-nm", objcopy: "arm-none-eabi-objcopy",
    hint: "install gcc-arm-none-eabi and libnewlib-arm-none-eabi (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)",
  };
}

/** The core's code-generation flags and the board's UART, for every Cortex-M firmware build. */
export function cortexmFlags(board: Board): string[] {
  const cpu = [`-mcpu=${board.cpu.mcpu}`, "-mthumb"];
  if (board.cpu.mfpu) cpu.push(`-mfpu=${board.cpu.mfpu}`);
  if (board.cpu.mfloatAbi) cpu.push(`-mfloat-abi=${board.cpu.mfloatAbi}`);
  const uart = board.uart.base === undefined ? [] : [`-DTL_UART_BASE=0x${board.uart.base.toString(16)}u`];
  if (board.uart.irq !== undefined) uart.push(`-DTL_UART_IRQ=${board.uart.irq}u`);
  return [...cpu, ...uart, `-DTL_UART_BAUD=${board.uart.baud ?? 115200}u`, ...halDefines(board)];
}

/** Compiler flags; -ffp-contract=off keeps float results identical to Node (no fused multiply-add). */
function flags(board: Board, dir: string, mode: MemCheck, maskBytes: number): string[] {
  const common = [
    // -fno-tree-reassoc: gcc's reassociation splits the kernels' multiply-add chains into separate
    // sums added at the end, which needs more registers and spills; without it every model runs fewer instructions.
    "-std=c11", "-O2", "-fno-tree-reassoc", "-g", "-ffp-contract=off", "-fno-math-errno", "-DNDEBUG",
    "-Wall", "-Wno-unused-function", "-Wno-unused-variable", "-Wno-unused-but-set-variable",
    "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections",
    // Explicit bounds checks and trap-by-longjmp on every target, the host build included.
    "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0", "-DWASM_RT_USE_STACK_DEPTH_COUNT=1", "-DWASM_RT_MAX_CALL_STACK_DEPTH=200",
    `-DTL_BOARD_NAME="${board.name}"`, `-DTL_CLOCK_HZ=${board.clockHz}u`, `-DTL_TIMER_HZ=${board.timing.timerHz}u`,
    `-I${join(dir, "w2c")}`, `-I${join(FIRMWARE_DIR, "core")}`,
    `-DTL_MEMCHECK=TL_MEMCHECK_${mode.toUpperCase()}`, `-DTL_CANARY_BYTES=${CANARY_BYTES}u`,
    ...(mode === "mask" ? [`-DTL_MASK_BYTES=${maskBytes}u`, `-DTL_MASK_GUARD=${MASK_GUARD_BYTES}u`] : []),
    // Cortex-M: the region starts at a link-time constant, so the masked address needs no load of mem->data.
    ...(mode === "mask" && board.kind !== "native" ? ["-DTL_WASM_BASE_SYMBOL=__wasm_mem_start"] : []),
  ];
  if (board.kind === "native") {
    return [...common, `-DTL_STORE_BYTES=${board.memory.flash.length}u`, `-DTL_WASM_BYTES=${board.memory.sram.length}u`, "-lm"];
  }
  return [
    ...common, ...cortexmFlags(board),
    "-nostartfiles", "-specs=nano.specs", `-T${join(dir, "link.ld")}`, `-Wl,-Map=${join(dir, "firmware.map")}`,
    "-lm", "-lc", "-lgcc",
  ];
}

/** The board's HAL source directories; a board definition the HALs cannot build is a BuildError. */
export function halSourceDirs(board: Board): string[] {
  try {
    halDefines(board); // checks uart.pins and the flash geometry early, with the board named
    return halDirs(board);
  } catch (e) {
    if (e instanceof HalError) throw new BuildError(e.message);
    throw e;
  }
}

/** The board JSON's "memcheck" default (boards.ts keeps only the fields it knows, so read the file). */
export function boardMemcheck(boardName: string): MemCheck | undefined {
  const file = join(BOARDS_DIR, `${boardName}.json`);
  if (!existsSync(file)) return undefined;
  const v = (JSON.parse(readFileSync(file, "utf8")) as { memcheck?: unknown }).memcheck;
  if (v === undefined) return undefined;
  if (v === "none") throw new BuildError(`board "${boardName}": "memcheck": "none" is for measurements only and cannot be a board default`);
  if (!MEMCHECK_MODES.includes(v as MemCheck)) throw new BuildError(`board "${boardName}": "memcheck" must be "bounds" or "mask", got ${JSON.stringify(v)}`);
  return v as MemCheck;
}

/** Bytes the HAL will give the wasm runtime, estimated before linking (verified after). */
function estimatedWasmBytes(board: Board): number {
  if (board.kind === "native") return board.memory.sram.length;
  const sramStore = board.modelStore.region === "sram" ? board.modelStore.bytes! : 0;
  return board.memory.sram.length - board.stackBytes - sramStore - STATIC_RAM_RESERVE;
}

/** mask mode's region: the largest power of two (>= 64 KiB) that fits with its guard tail and canary. */
export function chooseMaskBytes(board: Board, requested?: number): number {
  const room = estimatedWasmBytes(board) - MASK_GUARD_BYTES - CANARY_BYTES;
  if (requested !== undefined) {
    if (requested < 65536 || (requested & (requested - 1)) !== 0) throw new BuildError(`maskBytes must be a power of two >= 65536, got ${requested}`);
    if (requested > room) throw new BuildError(`board "${board.name}": maskBytes ${requested} does not fit its SRAM (about ${room} bytes free)`);
    return requested;
  }
  let p = 65536;
  if (room < p) throw new BuildError(`board "${board.name}": mask mode needs at least 64 KiB + ${MASK_GUARD_BYTES + CANARY_BYTES} bytes of SRAM for linear memory`);
  while (p * 2 <= room && p < 2 ** 31) p *= 2;
  return p;
}

const MEMCHECK_LINE = "#define MEMCHECK(mem, a, t) RANGE_CHECK(mem, a, sizeof(t))";
const FIRST_LOAD = "\nDEFINE_LOAD(i32_load, u32, u32, u32)\n";

/**
 * Rewrites wasm2c 1.0.32's per-access memory check in the generated engine.c. "bounds" keeps it.
 * "none" empties MEMCHECK. "mask" also empties it and redefines DEFINE_LOAD/DEFINE_STORE (little-endian
 * branch) so the address is `addr & (TL_MASK_BYTES - 1)` from the region base. The bulk operations
 * (memory.fill/copy/init) keep their single RANGE_CHECK per call in every mode.
 */
export function rewriteMemoryAccess(c: string, mode: MemCheck): string {
  if (mode === "bounds") return c;
  const count = (needle: string) => c.split(needle).length - 1;
  if (count(MEMCHECK_LINE) !== 1 || count(FIRST_LOAD) !== 1) {
    throw new BuildError(`memcheck "${mode}": the wasm2c output does not have the 1.0.32 prelude this build rewrites (MEMCHECK / DEFINE_LOAD); use memcheck "bounds" or wasm2c ${WABT_VERSION}`);
  }
  const out = c.replace(MEMCHECK_LINE, `/* tinyloop build (memcheck ${mode}): no per-access bounds check. */\n#define MEMCHECK(mem, a, t)`);
  if (mode === "none") return out;
  const masked = `
/* tinyloop build (memcheck mask): every access lands in [base, base + TL_MASK_BYTES + TL_MASK_GUARD). */
#if WABT_BIG_ENDIAN
#error "memcheck mask is written for little-endian targets"
#endif
#if !defined(TL_MASK_BYTES) || !defined(TL_MASK_GUARD) || (TL_MASK_BYTES & (TL_MASK_BYTES - 1)) || TL_MASK_GUARD < 8
#error "memcheck mask needs -DTL_MASK_BYTES=<power of two> and -DTL_MASK_GUARD>=8"
#endif
#ifdef TL_WASM_BASE_SYMBOL
extern uint8_t TL_WASM_BASE_SYMBOL[];
#define TL_MASKED(mem, addr) (&TL_WASM_BASE_SYMBOL[(u32)(addr) & (TL_MASK_BYTES - 1u)])
#else
#define TL_MASKED(mem, addr) (&(mem)->data[(u32)(addr) & (TL_MASK_BYTES - 1u)])
#endif
#undef DEFINE_LOAD
#undef DEFINE_STORE
/* name##_off: the pointer masked, then a small constant offset added (at most TL_MASK_OFFSET_MAX, inside the guard). */
#define DEFINE_LOAD(name, t1, t2, t3)                               \
  static inline t3 name(wasm_rt_memory_t* mem, u64 addr) {          \
    t1 result;                                                      \
    wasm_rt_memcpy(&result, TL_MASKED(mem, addr), sizeof(t1));      \
    wasm_asm("" ::"r"(result));                                     \
    return (t3)(t2)result;                                          \
  }                                                                 \
  static inline t3 name##_off(wasm_rt_memory_t* mem, u64 addr, u32 off) { \
    t1 result;                                                      \
    wasm_rt_memcpy(&result, TL_MASKED(mem, addr) + off, sizeof(t1)); \
    wasm_asm("" ::"r"(result));                                     \
    return (t3)(t2)result;                                          \
  }
#define DEFINE_STORE(name, t1, t2)                                  \
  static inline void name(wasm_rt_memory_t* mem, u64 addr, t2 value) { \
    t1 wrapped = (t1)value;                                         \
    wasm_rt_memcpy(TL_MASKED(mem, addr), &wrapped, sizeof(t1));     \
  }                                                                 \
  static inline void name##_off(wasm_rt_memory_t* mem, u64 addr, u32 off, t2 value) { \
    t1 wrapped = (t1)value;                                         \
    wasm_rt_memcpy(TL_MASKED(mem, addr) + off, &wrapped, sizeof(t1)); \
  }
#if TL_MASK_GUARD < ${MASK_OFFSET_MAX + 8}
#error "memcheck mask: TL_MASK_GUARD must cover offsets up to ${MASK_OFFSET_MAX} plus an 8-byte access"
#endif
`;
  return offsetsAfterMask(out.replace(FIRST_LOAD, `\n${masked}${FIRST_LOAD}`));
}

/** A load or store of linear memory at `(u64)(var) + offset` in wasm2c 1.0.32's output. */
const OFFSET_ACCESS = /\b([if](?:32|64)_(?:load|store)\w*)\(&instance->w2c_memory, \(u64\)\((w2c_\w+)\) \+ (\d+)u?([,)])/g;

/** Rewrites accesses with a constant offset up to MASK_OFFSET_MAX to the name##_off forms (mask after, offset after). */
function offsetsAfterMask(c: string): string {
  return c.replace(OFFSET_ACCESS, (all, name: string, v: string, off: string, end: string) =>
    Number(off) > MASK_OFFSET_MAX ? all : `${name}_off(&instance->w2c_memory, (u64)(${v}), ${off}u${end}`);
}

export function buildFirmware(boardName: string, opts: BuildOptions = {}): BuildResult {
  if (opts.runtime === "wamr") return buildWamrFirmware(boardName, opts);
  const board = loadBoard(boardName);
  const halSources = halSourceDirs(board);
  const log = opts.log ?? (() => {});
  const engine = opts.engineWasm ?? DEFAULT_ENGINE;
  if (!existsSync(engine)) throw new BuildError(`engine not built: ${engine} is missing; run \`npm run build\``);
  const mode = opts.memcheck ?? boardMemcheck(board.name) ?? DEFAULT_MEMCHECK;
  if (!MEMCHECK_MODES.includes(mode)) throw new BuildError(`memcheck must be one of ${MEMCHECK_MODES.join(", ")}, got ${JSON.stringify(mode)}`);
  const maskBytes = mode === "mask" ? chooseMaskBytes(board, opts.maskBytes) : 0;
  const dir = opts.outDir ?? join(REPO, "build", "firmware", `${board.name}-${mode}`);
  mkdirSync(join(dir, "w2c"), { recursive: true });
  const tc = toolchain(board);

  writeIfChanged(join(FIRMWARE_DIR, "core", "protocol_gen.h"), cHeader());
  if (board.kind !== "native") {
    // The region, its guard tail and the canary must fit the linear-memory space the layout leaves.
    const tail = mode === "mask" ? maskBytes + MASK_GUARD_BYTES + CANARY_BYTES : CANARY_BYTES + 16 * 1024;
    const check = `ASSERT(__wasm_mem_end >= __wasm_mem_start + ${tail}, "${board.name}: memcheck ${mode} needs ${tail} bytes of linear-memory space")`;
    writeIfChanged(join(dir, "link.ld"), linkerScript(board).replace(/\}\s*$/, `  ${check}\n}\n`));
  }

  const sources = listSources(["core", "port/wasm2c", ...halSources]);
  const args = flags(board, dir, mode, maskBytes);
  const elf = join(dir, "firmware.elf");
  const stamp = join(dir, "inputs.sha256");
  const hash = createHash("sha256");
  for (const f of [engine, ...sources, ...(board.kind === "native" ? [] : [join(dir, "link.ld")])]) hash.update(f).update(readFileSync(f));
  hash.update(JSON.stringify(board)).update(args.join(" ")).update(rewriteMemoryAccess.toString());
  const digest = hash.digest("hex");
  const cached = !opts.force && existsSync(elf) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest;

  if (!cached) {
    const wabt = run("wasm2c", ["--version"], "wasm2c", "install wabt 1.0.32 (apt-get install wabt)").trim();
    if (wabt !== WABT_VERSION) log(`warning: wasm2c ${wabt}; the port is written for ${WABT_VERSION} (newer wabt renames the API)`);
    log(`wasm2c ${relative(REPO, engine)}`);
    run("wasm2c", [engine, "-n", "engine", "-o", join(dir, "w2c", "engine.c")], "wasm2c", "install wabt");
    const cFile = join(dir, "w2c", "engine.c");
    writeFileSync(cFile, rewriteMemoryAccess(readFileSync(cFile, "utf8"), mode));
    copyFileSync(wasmRtHeader(), join(dir, "w2c", "wasm-rt.h"));
    log(`${tc.cc} -> ${relative(REPO, elf)}`);
    const cFiles = [...sources.filter((f) => f.endsWith(".c")), join(dir, "w2c", "engine.c")];
    run(tc.cc, [...cFiles, ...args, "-o", elf], `compiling firmware for ${board.name}`, tc.hint);
    writeFileSync(stamp, digest);
  }
  const sizes = measure(board, elf, tc);
  const bin = board.kind === "real" ? rawImage(elf, tc, cached) : undefined;
  if (mode === "mask" && sizes.wasmMemoryBytes < maskBytes + MASK_GUARD_BYTES + CANARY_BYTES) {
    throw new BuildError(`board "${board.name}": memcheck mask region of ${maskBytes} B does not fit the ${sizes.wasmMemoryBytes} B left for linear memory; pass a smaller maskBytes`);
  }
  return { board, memcheck: mode, maskBytes, elf, bin, dir, cached, ...sizes };
}

/** firmware.bin: the ELF's flash image from the flash origin (vectors, code, .data's load image). */
function rawImage(elf: string, tc: { objcopy?: string; hint: string }, cached: boolean): string {
  const bin = elf.replace(/\.elf$/, ".bin");
  if (!cached || !existsSync(bin)) run(tc.objcopy!, ["-O", "binary", elf, bin], "making firmware.bin", tc.hint);
  return bin;
}

/** Sizes from the ELF's section table and the layout symbols. */
export function measure(board: Board, elf: string, tc: { size: string; nm: string; hint: string }): FirmwareSizes {
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
  const modeArg = process.argv.find((a) => a.startsWith("--memcheck="))?.slice("--memcheck=".length) as MemCheck | undefined;
  const r = buildFirmware(process.argv[2] ?? "qemu-m4", { log: (l) => console.log(l), force: process.argv.includes("--force"), memcheck: modeArg });
  const { board: _b, ...rest } = r;
  console.log(JSON.stringify(rest, null, 2));
}
