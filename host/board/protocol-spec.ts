// The one definition of the host <-> board serial protocol (see docs/protocol.md).
// The host codec (protocol.ts) reads these tables; `cHeader()` turns the same tables
// into firmware/core/protocol_gen.h, so the two ends cannot drift.
//
// Wire: COBS(frame) 0x00, where frame = header | payload | crc32 and
//   header = version u8, code u8, seq u16, payloadBytes u16   (little-endian)
//   crc32  = CRC-32/ISO-HDLC (zlib's) of header + payload, little-endian.

import { STATUS } from "../format/spec.ts";

export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 6;
export const CRC_BYTES = 4;
/** Largest payload either side sends; the firmware's buffers are sized from it. */
export const MAX_PAYLOAD = 1024;
/** Seq used by frames the board sends on its own (a fault report), never by the host. */
export const UNSOLICITED_SEQ = 0xffff;

/** Request codes. A successful response carries code | RESPONSE_FLAG. */
export const COMMANDS = {
  HELLO: 0x01,
  LOAD_BEGIN: 0x10,
  LOAD_CHUNK: 0x11,
  LOAD_END: 0x12,
  SET_INPUT: 0x20,
  INVOKE: 0x21,
  GET_OUTPUT: 0x22,
  BEGIN: 0x23,
  STEP: 0x24,
  READ_ARENA: 0x25,
  GET_STATS: 0x30,
  RESET: 0x3f,
  TRAIN_INIT: 0x40,
  TRAIN_CONFIG: 0x41,
  TRAIN_STEP: 0x42,
  CHECKPOINT_SAVE: 0x48,
  CHECKPOINT_RESTORE: 0x49,
} as const;
export type CommandName = keyof typeof COMMANDS;
export const RESPONSE_FLAG = 0x80;
/** Response code of every failure; payload is ErrorResponse. */
export const ERROR_CODE = 0x7f;

/** Error numbers carried in ErrorResponse.error. */
export const ERRORS = {
  BAD_FRAME: 1, // CRC mismatch, truncated or oversized frame: retryable, resend the same frame
  BAD_VERSION: 2, // protocol version differs: rebuild the firmware
  UNKNOWN_COMMAND: 3,
  BAD_LENGTH: 4, // payload size does not fit the command
  TOO_LARGE: 5, // blob larger than the model store
  BAD_OFFSET: 6, // chunk out of order or outside the blob / tensor / arena
  BAD_STATE: 7, // e.g. LOAD_CHUNK without LOAD_BEGIN, INVOKE / STEP without a model
  BLOB_CRC: 8, // stored blob's CRC differs from LOAD_BEGIN's: upload again
  TRAP: 9, // the wasm engine trapped; detail = wasm2c trap code; the engine was reset
  BAD_INDEX: 10, // input/output index out of range
  FAULT: 11, // unsolicited: the CPU faulted; detail = faulting PC. The board needs a restart.
  NOT_TRAINABLE: 12, // TRAIN_INIT on an inference-only model; detail = engine status (STATUS.NOT_TRAINABLE)
  ENGINE: 13, // an engine call that has no status field failed; detail = engine status
  NO_CHECKPOINT: 14, // no valid checkpoint for the loaded model; detail = CHECKPOINT_MISSES value
  NOT_TRAINING: 15, // a training command before TRAIN_INIT (or after a load, RESET or trap)
} as const;
export type ErrorName = keyof typeof ERRORS;
/** ERROR NO_CHECKPOINT's detail: why the stored checkpoint cannot be restored. */
export const CHECKPOINT_MISSES = {
  NONE: 1, // nothing saved (or a save was interrupted)
  OTHER_MODEL: 2, // saved for a blob with another CRC
  SIZE: 3, // its state size differs from the loaded model's
  DAMAGED: 4, // the state bytes fail their CRC
} as const;
/** HELLO's clockSource: where the running core clock comes from (firmware/hal/hal.h HAL_CLOCK_*). */
export const CLOCK_SOURCES = {
  FIXED: 0, // a virtual board or the host: the board definition's clock
  EXTERNAL: 1, // PLL from the external clock (the ST-LINK's 8 MHz MCO on a Nucleo)
  INTERNAL: 2, // PLL from the internal RC oscillator (by design, or the external clock did not start)
  RC_ONLY: 3, // the PLL did not lock: the core runs on the internal RC oscillator, far below clockHz
} as const;
export const CLOCK_SOURCE_TEXT: Record<number, string> = {
  0: "fixed", 1: "PLL from the external clock (ST-LINK MCO)", 2: "PLL from the internal RC oscillator", 3: "internal RC oscillator only (the PLL did not lock)",
};

/** Checkpoint record magic ("TLC1"). */
export const CHECKPOINT_MAGIC = 0x31434c54;
/**
 * The record CHECKPOINT_SAVE writes at the top of one of the two checkpoint slots at the top of
 * the model store (firmware/core/checkpoint.c), with the state bytes right below it; `seq` tells
 * the newer slot. Storage, not wire, but both ends read it from here.
 */
export const CHECKPOINT_RECORD: Layout = { fields: ["magic", "blobCrc", "step", "stateBytes", "stateCrc", "seq"] };

/** Errors the host answers by resending the same frame (same seq). */
export const RETRYABLE_ERRORS: readonly number[] = [ERRORS.BAD_FRAME];

/** Fixed payload fields, every one a little-endian u32; `tail` = trailing bytes after them. */
export interface Layout { fields: readonly string[]; tail?: string }

export const REQUESTS: Record<CommandName, Layout> = {
  HELLO: { fields: [] },
  LOAD_BEGIN: { fields: ["totalBytes", "crc32"] },
  LOAD_CHUNK: { fields: ["offset"], tail: "data" },
  LOAD_END: { fields: [] },
  SET_INPUT: { fields: ["index", "offset"], tail: "data" },
  INVOKE: { fields: [] },
  GET_OUTPUT: { fields: ["index", "offset", "length"] },
  BEGIN: { fields: [] },
  STEP: { fields: [] },
  READ_ARENA: { fields: ["offset", "length"] }, // arena bytes [offset, offset+length), length <= MAX_PAYLOAD
  GET_STATS: { fields: [] },
  RESET: { fields: [] },
  TRAIN_INIT: { fields: [] },
  TRAIN_CONFIG: { fields: ["lrBits", "momentumBits"] }, // f32 bit patterns
  // tail: the whole of input 0, or empty to train on the input already set with SET_INPUT
  TRAIN_STEP: { fields: ["label"], tail: "input" },
  CHECKPOINT_SAVE: { fields: ["step"] }, // the host's step counter, stored with the state
  CHECKPOINT_RESTORE: { fields: [] },
};

export const RESPONSES: Record<CommandName, Layout> = {
  HELLO: {
    fields: ["protocolVersion", "engineAbi", "maxPayload", "modelStoreBytes", "wasmMemBytes", "clockHz", "timerHz", "clockSource"],
    tail: "boardName",
  },
  LOAD_BEGIN: { fields: ["capacity"] },
  LOAD_CHUNK: { fields: ["received"] }, // bytes of the blob stored so far, in order
  // tail: u32 byte sizes, inputs then outputs
  LOAD_END: { fields: ["status", "numInputs", "numOutputs", "arenaBytes", "opCount"], tail: "ioBytes" },
  SET_INPUT: { fields: ["written"] },
  INVOKE: { fields: ["status", "cyclesLo", "cyclesHi"] },
  GET_OUTPUT: { fields: [], tail: "data" },
  BEGIN: { fields: ["opCount"] }, // the engine is rewound to op 0
  // op = index of the op that ran (= opCount once DONE); cycles for that one op
  STEP: { fields: ["status", "op", "cyclesLo", "cyclesHi"] },
  READ_ARENA: { fields: [], tail: "data" },
  GET_STATS: {
    fields: [
      "peakBytes", // engine arena high-water mark (tl_peak_bytes)
      "arenaBytes", "opCount",
      "wasmMemBytes", // bytes the bounds checks allow now
      "wasmPages", // pages the module believes it has
      "stackUsed", "stackBytes", // C stack high-water (painted at boot), 0 where unknown
      "invokes", "badFrames", "duplicates", "traps",
      "lastCyclesLo", "lastCyclesHi",
    ],
  },
  RESET: { fields: [] },
  // the persistent training state: arena bytes [stateOffset, stateOffset + stateBytes)
  TRAIN_INIT: { fields: ["stateOffset", "stateBytes"] },
  TRAIN_CONFIG: { fields: [] },
  // tail: output 0 after the step's forward pass, when it fits the frame (else empty: GET_OUTPUT)
  TRAIN_STEP: { fields: ["status", "lossBits", "cyclesLo", "cyclesHi"], tail: "output" },
  CHECKPOINT_SAVE: { fields: ["written", "stateCrc"] }, // written: bytes stored (record + state)
  CHECKPOINT_RESTORE: { fields: ["step", "stateCrc"] },
};
export const ERROR_RESPONSE: Layout = { fields: ["error", "detail"], tail: "message" };

function cName(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

function layoutDefines(prefix: string, l: Layout): string[] {
  // A field called "bytes" would collide with the layout's own _BYTES size define.
  if (l.fields.some((f) => cName(f) === "BYTES")) throw new Error(`${prefix}: a payload field may not be named "bytes"`);
  const lines = l.fields.map((f, i) => `#define ${prefix}_${cName(f)} ${i * 4}u`);
  lines.push(`#define ${prefix}_BYTES ${l.fields.length * 4}u /* fixed part${l.tail ? `; then ${l.tail}` : ""} */`);
  return lines;
}

/** The C header the firmware includes: same numbers as above, as #defines. */
export function cHeader(): string {
  const out = [
    "/* Generated from host/board/protocol-spec.ts by host/board/build.ts. Do not edit. */",
    "#ifndef TINYLOOP_PROTOCOL_GEN_H",
    "#define TINYLOOP_PROTOCOL_GEN_H",
    "",
    `#define TLP_VERSION ${PROTOCOL_VERSION}u`,
    `#define TLP_HEADER_BYTES ${HEADER_BYTES}u`,
    `#define TLP_CRC_BYTES ${CRC_BYTES}u`,
    `#define TLP_MAX_PAYLOAD ${MAX_PAYLOAD}u`,
    `#define TLP_UNSOLICITED_SEQ 0x${UNSOLICITED_SEQ.toString(16)}u`,
    `#define TLP_RESPONSE_FLAG 0x${RESPONSE_FLAG.toString(16)}u`,
    `#define TLP_ERROR_CODE 0x${ERROR_CODE.toString(16)}u`,
    "",
    ...Object.entries(COMMANDS).map(([k, v]) => `#define TLP_CMD_${k} 0x${v.toString(16).padStart(2, "0")}u`),
    "",
    ...Object.entries(ERRORS).map(([k, v]) => `#define TLP_ERR_${k} ${v}u`),
    "",
    ...Object.entries(CHECKPOINT_MISSES).map(([k, v]) => `#define TLP_CKPT_${k} ${v}u`),
    `#define TLP_CHECKPOINT_MAGIC 0x${CHECKPOINT_MAGIC.toString(16)}u`,
    ...layoutDefines("TLP_CKPT_RECORD", CHECKPOINT_RECORD),
    "",
    "/* Engine statuses (host/format/spec.ts STATUS). */",
    ...Object.entries(STATUS).map(([k, v]) => `#define TL_STATUS_${k} ${v}u`),
    "",
    ...Object.entries(REQUESTS).flatMap(([k, l]) => layoutDefines(`TLP_REQ_${k}`, l)),
    "",
    ...Object.entries(RESPONSES).flatMap(([k, l]) => layoutDefines(`TLP_RSP_${k}`, l)),
    "",
    ...layoutDefines("TLP_RSP_ERROR", ERROR_RESPONSE),
    "",
    "#endif",
    "",
  ];
  return out.join("\n");
}
