// Loads and checks the board definitions in boards/*.json. One file per board so a
// new board is a data change; this module is the only place that knows their shape.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BOARDS_DIR = fileURLToPath(new URL("../../boards", import.meta.url));
export const DEFAULT_BOARD = "qemu-m4";

export interface Region { origin: number; length: number }

export type RunSpec =
  | { kind: "qemu"; machine: string; args: string[] }
  | { kind: "native"; args: string[] }
  | { kind: "flash"; stFlash?: string[]; openocd?: string[] };

export interface Board {
  name: string;
  description: string;
  kind: "qemu" | "native" | "real";
  /** false: facts only, never run here. */
  tested: boolean;
  core: string;
  cpu: { mcpu?: string; mfpu?: string; mfloatAbi?: string };
  clockHz: number;
  memory: { flash: Region; sram: Region };
  stackBytes: number;
  /** Where uploaded model blobs live; `bytes` only for a store carved out of SRAM. */
  modelStore: ModelStore;
  uart: { kind: string; base?: number; baud?: number; irq?: number; instance?: string; pins?: string };
  hal: string;
  run: RunSpec;
  timing: { kind: "systick-icount" | "dwt" | "clock-monotonic"; timerHz: number; icountShift?: number };
}

/**
 * `writer` "ram": the CPU writes the store directly (QEMU's RAM-backed flash, or SRAM).
 * "stm32-flash": the part's flash controller erases and programs it; `units` are its erase units
 * from the flash origin as [count, bytes] runs (sectors or pages) and `wordBytes` its program unit.
 */
export interface ModelStore {
  region: "flash" | "sram";
  writer: "ram" | "stm32-flash";
  bytes?: number;
  units?: { count: number; bytes: number }[];
  wordBytes?: number;
}

export class BoardError extends Error {}

/** Names of every board definition, sorted. */
export function boardNames(dir = BOARDS_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

export function loadBoard(name: string = DEFAULT_BOARD, dir = BOARDS_DIR): Board {
  const known = boardNames(dir);
  if (!known.includes(name)) {
    throw new BoardError(`unknown board "${name}"; known boards: ${known.join(", ") || "(none found in " + dir + ")"}`);
  }
  const file = join(dir, `${name}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new BoardError(`board "${name}": ${file} is not valid JSON (${(e as Error).message})`);
  }
  return validateBoard(raw, name);
}

export function loadAllBoards(dir = BOARDS_DIR): Board[] {
  return boardNames(dir).map((n) => loadBoard(n, dir));
}

/** Accepts 123 or "0x7b"; JSON has no hex literals and addresses read better in hex. */
function num(v: unknown, what: string, board: string): number {
  const n = typeof v === "string" && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new BoardError(`board "${board}": ${what} must be a non-negative integer or hex string, got ${JSON.stringify(v)}`);
  }
  return n;
}

function region(v: unknown, what: string, board: string): Region {
  const r = v as Record<string, unknown> | undefined;
  if (!r || typeof r !== "object") throw new BoardError(`board "${board}": memory.${what} is missing`);
  const out = { origin: num(r.origin, `memory.${what}.origin`, board), length: num(r.length, `memory.${what}.length`, board) };
  if (out.length === 0) throw new BoardError(`board "${board}": memory.${what}.length is 0`);
  return out;
}

export function validateBoard(raw: unknown, name: string): Board {
  const b = raw as Record<string, any>;
  const need = (k: string, type: string) => {
    if (typeof b?.[k] !== type) throw new BoardError(`board "${name}": field "${k}" must be a ${type}`);
  };
  need("name", "string");
  if (b.name !== name) throw new BoardError(`board "${name}": its "name" field says "${b.name}"; the file name and the name must agree`);
  for (const k of ["description", "kind", "core", "hal"]) need(k, "string");
  need("tested", "boolean");
  for (const k of ["cpu", "memory", "modelStore", "uart", "run", "timing"]) need(k, "object");
  if (!["qemu", "native", "real"].includes(b.kind)) throw new BoardError(`board "${name}": kind must be qemu, native or real`);
  if (b.run.kind !== (b.kind === "real" ? "flash" : b.kind)) {
    throw new BoardError(`board "${name}": run.kind "${b.run.kind}" does not fit a ${b.kind} board`);
  }
  if (b.run.kind === "qemu" && typeof b.run.machine !== "string") throw new BoardError(`board "${name}": run.machine is missing`);
  if (!["flash", "sram"].includes(b.modelStore.region)) throw new BoardError(`board "${name}": modelStore.region must be flash or sram`);
  if (!["systick-icount", "dwt", "clock-monotonic"].includes(b.timing.kind)) {
    throw new BoardError(`board "${name}": timing.kind must be systick-icount, dwt or clock-monotonic`);
  }
  const flash = region(b.memory.flash, "flash", name);
  const sram = region(b.memory.sram, "sram", name);
  const stackBytes = num(b.stackBytes, "stackBytes", name);
  const storeBytes = b.modelStore.bytes === undefined ? undefined : num(b.modelStore.bytes, "modelStore.bytes", name);
  if (b.modelStore.region === "sram" && !storeBytes) throw new BoardError(`board "${name}": a model store in SRAM needs modelStore.bytes`);
  if (stackBytes + (storeBytes ?? 0) >= sram.length) throw new BoardError(`board "${name}": stack and model store do not fit in SRAM`);
  const modelStore = storeDefinition(b.modelStore, storeBytes, flash, name);
  return {
    name, description: b.description, kind: b.kind, tested: b.tested, core: b.core, cpu: { ...b.cpu },
    clockHz: num(b.clockHz, "clockHz", name),
    memory: { flash, sram }, stackBytes,
    modelStore,
    uart: { ...b.uart, base: b.uart.base === undefined ? undefined : num(b.uart.base, "uart.base", name) },
    hal: b.hal,
    run: { ...b.run, args: b.run.args ?? [] },
    timing: { kind: b.timing.kind, timerHz: num(b.timing.timerHz, "timing.timerHz", name), icountShift: b.timing.icountShift },
  };
}

/** The model store's writer and, for a flash writer, its erase units, which must tile the flash exactly. */
function storeDefinition(raw: Record<string, any>, bytes: number | undefined, flash: Region, board: string): ModelStore {
  if (raw.writer !== "ram" && raw.writer !== "stm32-flash") {
    throw new BoardError(`board "${board}": modelStore.writer must be "ram" or "stm32-flash", got ${JSON.stringify(raw.writer)}`);
  }
  if (raw.writer === "ram") return { region: raw.region, writer: "ram", bytes };
  if (raw.region !== "flash") throw new BoardError(`board "${board}": a stm32-flash model store must be in flash`);
  if (!Array.isArray(raw.units) || raw.units.length === 0) {
    throw new BoardError(`board "${board}": a stm32-flash model store needs modelStore.units, the erase units as [count, bytes] runs`);
  }
  const units = raw.units.map((u: unknown, i: number) => {
    if (!Array.isArray(u) || u.length !== 2) throw new BoardError(`board "${board}": modelStore.units[${i}] must be [count, bytes]`);
    return { count: num(u[0], `modelStore.units[${i}] count`, board), bytes: num(u[1], `modelStore.units[${i}] bytes`, board) };
  });
  const total = units.reduce((s: number, u: { count: number; bytes: number }) => s + u.count * u.bytes, 0);
  if (total !== flash.length) {
    throw new BoardError(`board "${board}": modelStore.units cover ${total} bytes but memory.flash.length is ${flash.length}`);
  }
  const wordBytes = num(raw.wordBytes, "modelStore.wordBytes", board);
  if (![4, 8, 16, 32].includes(wordBytes)) throw new BoardError(`board "${board}": modelStore.wordBytes must be 4, 8, 16 or 32, got ${wordBytes}`);
  return { region: "flash", writer: "stm32-flash", units, wordBytes };
}
