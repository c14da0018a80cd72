// The exports every runner calls (Node, wasm2c firmware, WAMR firmware).
// A runner: instantiate with env.tl_read, call tl_load(), write inputs at
// tl_input_ptr(i), call tl_invoke() (or tl_begin() + tl_step() per op), read
// outputs at tl_output_ptr(i). Every call returns a status (0 = ok) where it can fail.
import {
  TLM_MAGIC, TLM_VERSION, HEADER_BYTES, MAX_IO, MAX_RECORD_BYTES,
  H_MAGIC, H_VERSION, H_ARENA_BYTES, H_OP_COUNT, H_OPS_OFFSET, H_OPS_BYTES, H_MAX_RECORD_BYTES,
  H_NUM_INPUTS, H_NUM_OUTPUTS, H_IO_TABLE,
  STATUS_OK, STATUS_BAD_MAGIC, STATUS_BAD_VERSION, STATUS_READ_FAILED, STATUS_BAD_RECORD,
  STATUS_NOT_LOADED, STATUS_MEMORY, STATUS_DONE, STATUS_OUT_OF_ARENA,
} from "./format";
import { ARENA, ARENA_BYTES, HIGH_WATER, setArena, ensureMemory } from "./arena";
import { tl_read } from "./io";
import { readRecord, execRecord } from "./exec";

const HEADER: usize = memory.data(HEADER_BYTES, 16);
let loaded = false;
let opIndex: i32 = 0;
let cursor: u32 = 0;

function header(field: i32): i32 { return load<i32>(HEADER + <usize>field); }

/** Engine ABI version, bumped when exports change. */
export function tl_abi_version(): i32 { return 1; }

/** Reads and checks the header of the blob the runner holds; sizes the arena. */
export function tl_load(): i32 {
  loaded = false;
  if (tl_read(0, HEADER, HEADER_BYTES) != 0) return STATUS_READ_FAILED;
  if (<u32>header(H_MAGIC) != TLM_MAGIC) return STATUS_BAD_MAGIC;
  if (<u32>header(H_VERSION) != TLM_VERSION) return STATUS_BAD_VERSION;
  if (header(H_MAX_RECORD_BYTES) > MAX_RECORD_BYTES) return STATUS_BAD_RECORD;
  const nIn = header(H_NUM_INPUTS), nOut = header(H_NUM_OUTPUTS);
  if (nIn < 0 || nOut < 0 || nIn + nOut > 2 * MAX_IO || header(H_OP_COUNT) < 0) return STATUS_BAD_RECORD;
  const arenaBytes = <u32>header(H_ARENA_BYTES);
  const base = (__heap_base + 15) & ~<usize>15;
  if (arenaBytes > 0x7fff0000 || !ensureMemory(base + <usize>arenaBytes)) return STATUS_MEMORY;
  setArena(base, arenaBytes);
  for (let i = 0; i < nIn + nOut; i++) {
    const off = <u64><u32>ioField(i, 0), len = <u64><u32>ioField(i, 1);
    if (off + len > <u64>arenaBytes) return STATUS_OUT_OF_ARENA;
  }
  loaded = true;
  tl_begin();
  return STATUS_OK;
}

function ioField(i: i32, word: i32): i32 { return header(H_IO_TABLE + (i << 3) + (word << 2)); }

export function tl_num_inputs(): i32 { return loaded ? header(H_NUM_INPUTS) : 0; }
export function tl_num_outputs(): i32 { return loaded ? header(H_NUM_OUTPUTS) : 0; }
export function tl_input_ptr(i: i32): usize { return ARENA + <usize>ioField(i, 0); }
export function tl_input_bytes(i: i32): i32 { return ioField(i, 1); }
export function tl_output_ptr(i: i32): usize { return ARENA + <usize>ioField(header(H_NUM_INPUTS) + i, 0); }
export function tl_output_bytes(i: i32): i32 { return ioField(header(H_NUM_INPUTS) + i, 1); }
export function tl_arena_ptr(): usize { return ARENA; }
export function tl_arena_bytes(): u32 { return ARENA_BYTES; }
export function tl_op_count(): i32 { return loaded ? header(H_OP_COUNT) : 0; }
/** Highest arena byte any op has touched since load: the measured arena high-water mark. */
export function tl_peak_bytes(): u32 { return HIGH_WATER; }
/** Index of the op the next tl_step() runs. */
export function tl_op_index(): i32 { return opIndex; }

/** Rewinds to the first op. */
export function tl_begin(): void {
  opIndex = 0;
  cursor = <u32>header(H_OPS_OFFSET);
}

/** Runs the next op; STATUS_DONE after the last. */
export function tl_step(): i32 {
  if (!loaded) return STATUS_NOT_LOADED;
  if (opIndex >= header(H_OP_COUNT)) return STATUS_DONE;
  const end = <u64><u32>header(H_OPS_OFFSET) + <u64><u32>header(H_OPS_BYTES);
  const bytes = readRecord(cursor);
  if (bytes < 0) return -bytes;
  if (<u64>cursor + <u64>bytes > end) return STATUS_BAD_RECORD;
  const s = execRecord();
  if (s != STATUS_OK) return s;
  cursor += <u32>bytes;
  opIndex++;
  return STATUS_OK;
}

/** Runs the whole op list once. */
export function tl_invoke(): i32 {
  if (!loaded) return STATUS_NOT_LOADED;
  tl_begin();
  let s = tl_step();
  while (s == STATUS_OK) s = tl_step();
  return s == STATUS_DONE ? STATUS_OK : s;
}

export { fp8_decode, fp8_encode } from "./fp8";
