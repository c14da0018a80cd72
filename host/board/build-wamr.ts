// Builds firmware whose engine runs under WAMR (WebAssembly Micro Runtime) instead of wasm2c:
// firmware core + HAL + firmware/port/wamr, engine.wasm embedded as a const C array, linked with a
// WAMR library the USER built with WAMR's own CMake (tinyloop never builds or ships WAMR; see
// docs/wamr.md). Output: build/firmware/<board>-wamr/firmware.elf, same protocol and sizes as
// build.ts's, so every host command (run, bench, hil) works on it unchanged.
//
// The WAMR directory (opts.wamrDir, else $TINYLOOP_WAMR_DIR) is what WAMR's `cmake --install`
// writes under its CMAKE_INSTALL_PREFIX:
//   <wamrDir>/include/wasm_export.h
//   <wamrDir>/lib/libiwasm.a          (lib/libvmlib.a is accepted too)
// built for the board: x86-64 with WAMR's linux platform for "native"; Thumb (THUMBV7EM_VFP for
// the Cortex-M4F boards) with tinyloop's bare-metal platform (firmware/port/wamr/platform) for
// Cortex-M boards. The library's members tell which engine modes it has (fast or classic
// interpreter, AOT); the classic interpreter patches the module in place, so the engine image is
// then placed in RAM.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard, type Board } from "./boards.ts";
// build.ts may import this module (to delegate), so its bindings are used inside functions only.
import {
  BuildError, DEFAULT_ENGINE, FIRMWARE_DIR, REPO, run, listSources, writeIfChanged, toolchain, measure, cortexmFlags, halSourceDirs,
  type BuildOptions, type BuildResult,
} from "./build.ts";
import { linkerScript } from "./linker.ts";
import { cHeader } from "./protocol-spec.ts";

export const WAMR_DIR_ENV = "TINYLOOP_WAMR_DIR";
export const WAMR_DOC = "docs/wamr.md";
const LIB_CANDIDATES = ["lib/libiwasm.a", "lib/libvmlib.a"];
/** Cortex-M: a floor for the link-time check only. By default the firmware measures WAMR's pool
 *  need at boot (module, the fast interpreter's code, instance, wasm stack: ~104 KB for
 *  engine.wasm on the M4) and gives linear memory every whole 64 KiB page left. */
const POOL_FLOOR = 64 * 1024;

export type WasmRuntime = "wasm2c" | "wamr";

export interface WamrBuildOptions extends BuildOptions {
  runtime?: WasmRuntime;
  /** The user's WAMR install prefix (default: $TINYLOOP_WAMR_DIR). */
  wamrDir?: string;
  /** WAMR's wasm stack (frames and operands) per instance, from the pool. Default 8 KiB. */
  wamrStackBytes?: number;
  /** Cortex-M: bytes of the wasm-memory region for WAMR's pool, at least; linear memory gets the
   *  rest in whole 64 KiB pages. Default: measured by the firmware at boot. The native board's pool
   *  is the whole region (WAMR's linux platform maps linear memory itself). */
  wamrPoolBytes?: number;
  /** An AOT image made with WAMR's wamrc from engine.wasm, embedded instead of engine.wasm
   *  (the library must have been built with AOT). */
  wamrAot?: string;
}

/** The environment variable naming the user's wamrc, read by the tests and the benchmark. */
export const WAMRC_ENV = "TINYLOOP_WAMRC";

/**
 * wamrc's flags for a Cortex-M board: its architecture, float ABI and CPU, and execute-in-place
 * code (`--xip`: no text relocations, so the image runs from flash where the firmware keeps it,
 * and no LLVM intrinsics: WAMR's Thumb loader cannot resolve the __aeabi_memmove that LLVM emits
 * for memory.copy) with WAMR's own helpers for every operation the CPU lacks.
 */
export function aotFlags(board: Board): string[] {
  const arch: Record<string, string> = { "cortex-m4": "thumbv7em", "cortex-m7": "thumbv7em", "cortex-m33": "thumbv8m.main", "cortex-m0plus": "thumbv6m" };
  const target = board.cpu.mcpu ? arch[board.cpu.mcpu] : undefined;
  if (board.kind === "native" || !target) throw new BuildError(`${board.name}: WAMR AOT is built for Cortex-M4/M7/M33/M0+ boards here (${board.kind === "native" ? "native" : board.cpu.mcpu ?? "no CPU"} is not one)`);
  return [`--target=${target}`, `--target-abi=${board.cpu.mfloatAbi === "hard" ? "eabihf" : "eabi"}`, `--cpu=${board.cpu.mcpu}`,
    "--xip", "--enable-builtin-intrinsics=all"];
}

/** engine.wasm compiled by the user's wamrc into dir/engine.aot (redone when the engine or flags change). */
function compileAot(board: Board, wamrc: string, engine: string, dir: string, log: (l: string) => void): string {
  if (!existsSync(wamrc)) throw new BuildError(`wamrc ${wamrc} does not exist; build WAMR's wamr-compiler (see ${WAMR_DOC}) or drop the AOT option`);
  const out = join(dir, "engine.aot"), stamp = join(dir, "engine.aot.sha256");
  const flagList = aotFlags(board);
  const digest = createHash("sha256").update(readFileSync(engine)).update(readFileSync(wamrc)).update(flagList.join(" ")).digest("hex");
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return out;
  log(`wamrc ${flagList.join(" ")} ${relative(REPO, engine) || engine} -> ${relative(REPO, out)}`);
  run(wamrc, [...flagList, "-o", out, engine], `compiling engine.wasm ahead of time with ${wamrc}`, `see ${WAMR_DOC}`);
  writeFileSync(stamp, digest);
  return out;
}

/** What the WAMR library holds, from its member names. */
export interface WamrLibrary {
  include: string;
  lib: string;
  machine: "x86-64" | "arm" | "other";
  fastInterp: boolean;
  classicInterp: boolean;
  aot: boolean;
  /** It contains a platform layer (WAMR's linux one); a bare-metal build leaves os_* to the firmware. */
  hasPlatform: boolean;
}

export interface WamrBuildResult extends BuildResult {
  runtime: "wamr";
  wamr: WamrLibrary;
  /** "fast-interp", "classic-interp" or "aot": how engine.wasm runs. */
  wamrMode: string;
}

const missing = (what: string) =>
  new BuildError(`${what}; build WAMR with its own CMake and point tinyloop at its install prefix (see ${WAMR_DOC})`);


/** Member names of a static library (the `ar` format's name fields; GNU long-name table resolved). */
function archiveMembers(bytes: Buffer): string[] {
  if (bytes.subarray(0, 8).toString("latin1") !== "!<arch>\n") return [];
  const names: string[] = [];
  let longNames = "";
  for (let at = 8; at + 60 <= bytes.length;) {
    const name = bytes.subarray(at, at + 16).toString("latin1").trim();
    const size = parseInt(bytes.subarray(at + 48, at + 58).toString("latin1").trim(), 10);
    if (!Number.isFinite(size)) break;
    const body = at + 60;
    if (name === "//") longNames = bytes.subarray(body, body + size).toString("latin1");
    else if (/^\/\d+$/.test(name)) names.push(longNames.slice(Number(name.slice(1))).split("/\n")[0]);
    else if (name !== "/" && name !== "/SYM64/") names.push(name.replace(/\/$/, ""));
    at = body + size + (size & 1);
  }
  return names;
}

/** Finds and inspects the user's WAMR build; every failure names what is missing. */
export function inspectWamr(dirArg?: string): WamrLibrary {
  const dir = dirArg ?? process.env[WAMR_DIR_ENV];
  if (!dir) throw missing(`no WAMR build given: pass wamrDir (CLI: --wamr-dir) or set ${WAMR_DIR_ENV}`);
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw missing(`WAMR directory ${abs} does not exist`);
  const include = join(abs, "include");
  if (!existsSync(join(include, "wasm_export.h"))) throw missing(`WAMR directory ${abs} has no include/wasm_export.h`);
  const lib = LIB_CANDIDATES.map((f) => join(abs, f)).find((f) => existsSync(f));
  if (!lib) throw missing(`WAMR directory ${abs} has no ${LIB_CANDIDATES.join(" or ")} (a static library; WAMR's top-level CMake installs lib/libiwasm.a)`);
  const bytes = readFileSync(lib);
  const members = archiveMembers(bytes);
  if (members.length === 0) throw missing(`${lib} is not a static library (ar archive)`);
  const elf = bytes.indexOf(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  const eMachine = elf >= 0 ? bytes.readUInt16LE(elf + 18) : -1;
  const has = (m: string) => members.some((n) => n.startsWith(m));
  const info: WamrLibrary = {
    include, lib,
    machine: eMachine === 0x3e ? "x86-64" : eMachine === 0x28 ? "arm" : "other",
    fastInterp: has("wasm_interp_fast."), classicInterp: has("wasm_interp_classic."), aot: has("aot_runtime."),
    hasPlatform: has("platform_init.") || has("posix_"),
  };
  if (!info.fastInterp && !info.classicInterp && !info.aot) throw missing(`${lib} has neither an interpreter nor AOT support (no wasm_interp_*.o / aot_runtime.o members)`);
  return info;
}

function checkMatches(board: Board, w: WamrLibrary, aot: boolean): void {
  const native = board.kind === "native";
  const want = native ? "x86-64" : "arm";
  if (native && process.arch !== "x64") throw new BuildError(`board "${board.name}": the WAMR port is tested on x86-64 Linux only`);
  if (w.machine !== want) {
    throw new BuildError(`${w.lib} is built for ${w.machine}, board "${board.name}" needs ${want === "arm" ? "Arm Thumb (WAMR_BUILD_TARGET=THUMBV7EM_VFP for Cortex-M4F)" : "x86-64 (WAMR_BUILD_TARGET=X86_64)"}; see ${WAMR_DOC}`);
  }
  if (native && !w.hasPlatform) throw new BuildError(`${w.lib} has no platform layer; for the native board build WAMR with WAMR_BUILD_PLATFORM=linux (see ${WAMR_DOC})`);
  if (!native && w.hasPlatform) {
    throw new BuildError(`${w.lib} contains an OS platform layer; for ${board.name} build WAMR with SHARED_PLATFORM_CONFIG=firmware/port/wamr/platform/shared_platform.cmake (see ${WAMR_DOC})`);
  }
  if (aot && !w.aot) throw new BuildError(`AOT asked for (wamrAot or wamrc) but ${w.lib} was built without AOT (WAMR_BUILD_AOT=1)`);
  if (!aot && !w.fastInterp && !w.classicInterp) throw new BuildError(`${w.lib} is AOT-only: pass wamrc (your wamrc) or wamrAot (an AOT file made with wamrc from engine.wasm)`);
}




/** The engine image as a C array, 8-byte aligned (WAMR reads LEB128 and AOT sections from it). */
export function engineImageC(bytes: Uint8Array, source: string): string {
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) rows.push("  " + Array.from(bytes.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, "0")},`).join(""));
  return `/* Generated by host/board/build-wamr.ts from ${source} (${bytes.length} bytes). Do not edit. */
#include "engine_image.h"

__attribute__((aligned(8))) TL_ENGINE_IMAGE_QUAL uint8_t tl_engine_image[${Math.max(bytes.length, 1)}] = {
${rows.join("\n")}
};
const uint32_t tl_engine_image_bytes = ${bytes.length}u;
`;
}

function flags(board: Board, dir: string, w: WamrLibrary, inRam: boolean, stackBytes: number, poolBytes: number | undefined): string[] {
  const common = [
    "-std=gnu11", "-O2", "-g", "-ffp-contract=off", "-fno-math-errno", "-DNDEBUG",
    "-Wall", "-Wno-unused-function", "-Wno-unused-variable", "-Wno-unused-but-set-variable",
    "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections",
    `-DTL_BOARD_NAME="${board.name}"`, `-DTL_CLOCK_HZ=${board.clockHz}u`, `-DTL_TIMER_HZ=${board.timing.timerHz}u`,
    `-DTL_WAMR_ENGINE_IN_RAM=${inRam ? 1 : 0}`, `-DTL_WAMR_STACK_BYTES=${stackBytes}u`,
    `-I${w.include}`, `-I${join(FIRMWARE_DIR, "core")}`, `-I${join(FIRMWARE_DIR, "port", "wamr")}`,
  ];
  if (board.kind === "native") {
    return [
      ...common, `-DTL_STORE_BYTES=${board.memory.flash.length}u`, `-DTL_WASM_BYTES=${board.memory.sram.length}u`,
      w.lib, "-lpthread", "-lm", "-ldl",
    ];
  }
  return [
    ...common, ...cortexmFlags(board),
    `-I${join(FIRMWARE_DIR, "port", "wamr", "platform")}`, "-DTL_WAMR_BAREMETAL=1",
    ...(poolBytes === undefined ? [] : [`-DTL_WAMR_POOL_BYTES=${poolBytes}u`]),
    "-nostartfiles", "-specs=nano.specs", `-T${join(dir, "link.ld")}`, `-Wl,-Map=${join(dir, "firmware.map")}`,
    w.lib, "-lm", "-lc", "-lgcc",
  ];
}

/** Builds (or reuses) build/firmware/<board>-wamr/firmware.elf. */
export function buildWamrFirmware(boardName: string, opts: WamrBuildOptions = {}): WamrBuildResult {
  const board = loadBoard(boardName);
  const halSources = halSourceDirs(board);
  if (opts.memcheck !== undefined && opts.memcheck !== "bounds") {
    throw new BuildError(`memcheck "${opts.memcheck}" is a wasm2c build mode; WAMR's interpreter always checks bounds (runtime "wamr" supports memcheck "bounds" only)`);
  }
  const log = opts.log ?? (() => {});
  const w = inspectWamr(opts.wamrDir);
  const aot = opts.wamrAot !== undefined || opts.wamrc !== undefined;
  checkMatches(board, w, aot);
  const engine = opts.engineWasm ?? DEFAULT_ENGINE;
  if (!opts.wamrAot && !existsSync(engine)) throw new BuildError(`engine not built: ${engine} is missing; run \`npm run build\``);
  if (opts.wamrAot && !existsSync(opts.wamrAot)) throw new BuildError(`AOT image ${opts.wamrAot} is missing`);
  const dir = opts.outDir ?? join(REPO, "build", "firmware", `${board.name}-wamr${aot ? "-aot" : ""}`);
  mkdirSync(dir, { recursive: true });
  const image = opts.wamrAot ?? (opts.wamrc ? compileAot(board, opts.wamrc, engine, dir, log) : engine);
  const mode = aot ? "aot" : w.fastInterp ? "fast-interp" : "classic-interp";
  const inRam = mode === "classic-interp";
  const stackBytes = opts.wamrStackBytes ?? 8 * 1024;
  const poolBytes = opts.wamrPoolBytes;
  if (poolBytes !== undefined && (!Number.isInteger(poolBytes) || poolBytes < 16 * 1024)) throw new BuildError(`wamrPoolBytes must be an integer >= 16384, got ${poolBytes}`);
  const tc = toolchain(board);

  writeIfChanged(join(FIRMWARE_DIR, "core", "protocol_gen.h"), cHeader());
  writeIfChanged(join(dir, "engine_image.c"), engineImageC(readFileSync(image), relative(REPO, resolve(image))));
  if (board.kind !== "native") {
    const need = (poolBytes ?? POOL_FLOOR) + 65536;
    const check = `ASSERT(__wasm_mem_end >= __wasm_mem_start + ${need}, "${board.name}: WAMR needs at least ${need} B of SRAM for its pool and one 64 KiB page of linear memory")`;
    writeIfChanged(join(dir, "link.ld"), linkerScript(board).replace(/\}\s*$/, `  ${check}\n}\n`));
  }
  const portFiles = ["engine_port_wamr.c", "engine_image.h", ...(board.kind === "native" ? [] : ["platform_baremetal.c", "platform/platform_internal.h"])]
    .map((f) => join(FIRMWARE_DIR, "port", "wamr", f));
  const sources = [...listSources(["core", ...halSources]), ...portFiles];
  const args = flags(board, dir, w, inRam, stackBytes, poolBytes);
  const elf = join(dir, "firmware.elf");
  const stamp = join(dir, "inputs.sha256");
  const hash = createHash("sha256");
  for (const f of [image, w.lib, join(w.include, "wasm_export.h"), join(dir, "engine_image.c"), ...sources, ...(board.kind === "native" ? [] : [join(dir, "link.ld")])]) {
    hash.update(f).update(readFileSync(f));
  }
  hash.update(JSON.stringify(board)).update(args.join(" "));
  const digest = hash.digest("hex");
  const cached = !opts.force && existsSync(elf) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest;
  if (!cached) {
    log(`${tc.cc} (WAMR ${mode}, ${relative(REPO, w.lib) || w.lib}) -> ${relative(REPO, elf)}`);
    const cFiles = [...sources.filter((f) => f.endsWith(".c")), join(dir, "engine_image.c")];
    // The library comes after the objects that use it, the port's os_* before it is scanned.
    run(tc.cc, [...cFiles, ...args, "-o", elf], `compiling WAMR firmware for ${board.name}`, tc.hint);
    writeFileSync(stamp, digest);
  }
  return { board, memcheck: "bounds", maskBytes: 0, elf, dir, cached, runtime: "wamr", wamr: w, wamrMode: mode, ...measure(board, elf, tc) };
}

// `tsx host/board/build-wamr.ts <board> [--wamr-dir=DIR] [--aot=engine.aot | --wamrc=WAMRC] [--force]`: build and print the sizes.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const opt = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  try {
    const r = buildWamrFirmware(process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : "native", {
      log: (l) => console.log(l), force: process.argv.includes("--force"), wamrDir: opt("wamr-dir"), wamrAot: opt("aot"), wamrc: opt("wamrc"),
      wamrPoolBytes: opt("pool") ? Number(opt("pool")) : undefined, outDir: opt("out"),
    });
    const { board: _b, ...rest } = r;
    console.log(JSON.stringify(rest, null, 2));
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
