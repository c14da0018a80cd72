// The exports every runner calls (Node, wasm2c firmware, WAMR firmware).
// A runner: instantiate with env.tl_read, call tl_load(), write inputs at
// tl_input_ptr(i), call tl_invoke() (or tl_begin() + tl_step() per op), read
// outputs at tl_output_ptr(i). Every call returns a status (0 = ok) where it can fail.
import {
  TLM_MAGIC, TLM_VERSION, HEADER_BYTES, MAX_IO, MAX_RECORD_BYTES,
  H_MAGIC, H_VERSION, H_ARENA_BYTES, H_OP_COUNT, H_OPS_OFFSET, H_OPS_BYTES, H_MAX_RECORD_BYTES,
  H_NUM_INPUTS, H_NUM_OUTPUTS, H_IO_TABLE,
  H_TRAIN_OPS_OFFSET, H_TRAIN_OPS_BYTES, H_TRAIN_OP_COUNT, H_TRAIN_STATE_BYTES, H_OVERLAY_OFFSET, H_OVERLAY_COUNT,
  STATUS_OK, STATUS_BAD_MAGIC, STATUS_BAD_VERSION, STATUS_READ_FAILED, STATUS_BAD_RECORD,
  STATUS_NOT_LOADED, STATUS_MEMORY, STATUS_DONE, STATUS_OUT_OF_ARENA, STATUS_NOT_TRAINABLE,
} from "./format";
import { ARENA, ARENA_BYTES, HIGH_WATER, setArena, ensureMemory, touch } from "./arena";
import { tl_read } from "./io";
import { RECORD, readRecord, execRecord } from "./exec";
import { setOverlays, overlayTableBytes } from "./overlay";
import { execTrainRecord, initLayerState, setLearningRate, setMomentum, setLabel, loss } from "./training";

const HEADER: usize = memory.data(HEADER_BYTES, 16);
let loaded = false;
let opIndex: i32 = 0;
let cursor: u32 = 0;

function header(field: i32): i32 { return load<i32>(HEADER + <usize>field); }

/** Engine ABI version, bumped when exports change. */
export function tl_abi_version(): i32 { return 2; }

/** Reads and checks the header of the blob the runner holds; sizes the arena. */
export function tl_load(): i32 {
  loaded = false;
  trainReady = false;
  setOverlays(0, 0);
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
  if (<u32>header(H_TRAIN_STATE_BYTES) > arenaBytes || header(H_TRAIN_OP_COUNT) < 0) return STATUS_BAD_RECORD;
  if (<u64>overlayTableBytes(<u32>header(H_OVERLAY_COUNT)) > <u64><u32>header(H_TRAIN_STATE_BYTES)) return STATUS_BAD_RECORD;
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

// ---- training (a training .tlm: see "Training" in host/format/spec.ts) ----

let trainReady = false;

/** Runs every record of a list: `count` records from blob offset `at`, `bytes` long in all. */
function runList(at: u32, bytes: u32, count: i32, train: bool): i32 {
  const end = <u64>at + <u64>bytes;
  let cursor = at;
  for (let i = 0; i < count; i++) {
    const n = readRecord(cursor);
    if (n < 0) return -n;
    if (<u64>cursor + <u64>n > end) return STATUS_BAD_RECORD;
    const s = !train ? initLayerState() : load<i32>(RECORD) >= 32 ? execTrainRecord() : execRecord();
    if (s != STATUS_OK) return s;
    cursor += <u32>n;
  }
  return STATUS_OK;
}

/**
 * Starts training: copies the trained parameters into their arena overlays, fills the f32
 * master copies and zeroes momentum. From then on forward passes use the arena copies.
 */
export function tl_train_init(): i32 {
  if (!loaded) return STATUS_NOT_LOADED;
  trainReady = false;
  setOverlays(0, 0);
  if (header(H_TRAIN_OP_COUNT) == 0) return STATUS_NOT_TRAINABLE;
  const count = <u32>header(H_OVERLAY_COUNT), state = <u32>header(H_TRAIN_STATE_BYTES);
  const table = overlayTableBytes(count);
  if (!touch(0, <i32>state)) return STATUS_OUT_OF_ARENA;
  if (tl_read(<u32>header(H_OVERLAY_OFFSET), ARENA, table) != 0) return STATUS_READ_FAILED;
  for (let i: u32 = 0; i < count; i++) {
    const e = ARENA + <usize>overlayTableBytes(i); // entry i
    const src = load<u32>(e), bytes = load<u32>(e, 4), dst = load<u32>(e, 8);
    if (dst < table || <u64>dst + <u64>bytes > <u64>state) return STATUS_BAD_RECORD;
    if (tl_read(src, ARENA + <usize>dst, bytes) != 0) return STATUS_READ_FAILED;
  }
  const s = runList(<u32>header(H_TRAIN_OPS_OFFSET), <u32>header(H_TRAIN_OPS_BYTES), header(H_TRAIN_OP_COUNT), false);
  if (s != STATUS_OK) return s;
  setOverlays(count, state);
  trainReady = true;
  return STATUS_OK;
}

export function tl_train_set_lr(bits: u32): void { setLearningRate(reinterpret<f32>(bits)); }
export function tl_train_set_momentum(bits: u32): void { setMomentum(reinterpret<f32>(bits)); }

/** One training step on input 0 with this label: forward, loss, backward, in-place updates. */
export function tl_train_step(label: i32): i32 {
  if (!loaded) return STATUS_NOT_LOADED;
  if (!trainReady) return STATUS_NOT_TRAINABLE;
  setLabel(label);
  return runList(<u32>header(H_TRAIN_OPS_OFFSET), <u32>header(H_TRAIN_OPS_BYTES), header(H_TRAIN_OP_COUNT), true);
}

export function tl_train_loss_bits(): u32 { return reinterpret<u32>(loss); }
/** The persistent training state is arena bytes [offset, offset + bytes): save it to checkpoint. */
export function tl_train_state_offset(): u32 { return 0; }
export function tl_train_state_bytes(): u32 { return loaded ? <u32>header(H_TRAIN_STATE_BYTES) : 0; }

export { fp8_decode, fp8_encode } from "./fp8";
