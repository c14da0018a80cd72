/* What each request does. State machine for the model: EMPTY -> (LOAD_BEGIN) RECEIVING
 * -> (LOAD_END, CRC ok, tl_load ok) LOADED -> (TRAIN_INIT ok) TRAINING. Any engine trap drops
 * back to "not loaded"; a new load or RESET ends training. */
#include <string.h>

#include "bytes.h"
#include "checkpoint.h"
#include "commands.h"
#include "crc32.h"
#include "link.h"
#include "protocol_gen.h"
#include "../hal/hal.h"
#include "../port/wasm2c/engine_port.h"

#ifndef TL_BOARD_NAME
#define TL_BOARD_NAME "unknown"
#endif

/* TRAINING is LOADED plus a training state the engine has initialised: ordered so >= LOADED means loaded. */
enum { MODEL_EMPTY, MODEL_RECEIVING, MODEL_STORED, MODEL_LOADED, MODEL_TRAINING };

static int g_state;
/* g_expect_crc is also the loaded blob's CRC: checkpoints are tied to it. */
static uint32_t g_total, g_received, g_expect_crc, g_running_crc;
/* Store offset up to which the upload has erased: flash is erased just ahead of the chunks, one
 * unit at a time, so no single request waits for the whole store to erase. */
static uint32_t g_erased_to;
static uint32_t g_invokes;
static uint64_t g_last_cycles;

void commands_init(void) {
  g_state = MODEL_EMPTY;
  engine_set_blob(0);
  engine_reset();
}

static uint8_t error(uint8_t *rsp, uint32_t *len, uint32_t err, uint32_t detail) {
  wr32(rsp + TLP_RSP_ERROR_ERROR, err);
  wr32(rsp + TLP_RSP_ERROR_DETAIL, detail);
  *len = TLP_RSP_ERROR_BYTES;
  return TLP_ERROR_CODE;
}

/* A trap resets the engine, so the model must be loaded again. */
static uint8_t trapped(uint8_t *rsp, uint32_t *len, int trap) {
  if (g_state >= MODEL_LOADED) g_state = MODEL_STORED;
  return error(rsp, len, TLP_ERR_TRAP, (uint32_t)trap);
}

#define CALL(fn, arg, out) do { \
    int trap_ = engine_call((fn), (arg), (out)); \
    if (trap_) return trapped(rsp, rsp_len, trap_); \
  } while (0)

static uint8_t hello(uint8_t *rsp, uint32_t *rsp_len) {
  uint32_t abi;
  CALL(ENG_ABI_VERSION, 0, &abi);
  wr32(rsp + TLP_RSP_HELLO_PROTOCOL_VERSION, TLP_VERSION);
  wr32(rsp + TLP_RSP_HELLO_ENGINE_ABI, abi);
  wr32(rsp + TLP_RSP_HELLO_MAX_PAYLOAD, TLP_MAX_PAYLOAD);
  wr32(rsp + TLP_RSP_HELLO_MODEL_STORE_BYTES, hal_store_bytes());
  wr32(rsp + TLP_RSP_HELLO_WASM_MEM_BYTES, hal_wasm_memory_bytes());
  wr32(rsp + TLP_RSP_HELLO_CLOCK_HZ, hal_clock_hz());
  wr32(rsp + TLP_RSP_HELLO_TIMER_HZ, hal_timer_hz());
  wr32(rsp + TLP_RSP_HELLO_CLOCK_SOURCE, hal_clock_source());
  uint32_t n = (uint32_t)strlen(TL_BOARD_NAME);
  memcpy(rsp + TLP_RSP_HELLO_BYTES, TL_BOARD_NAME, n);
  *rsp_len = TLP_RSP_HELLO_BYTES + n;
  return TLP_CMD_HELLO | TLP_RESPONSE_FLAG;
}

static uint8_t load_begin(const uint8_t *req, uint8_t *rsp, uint32_t *rsp_len) {
  uint32_t total = rd32(req + TLP_REQ_LOAD_BEGIN_TOTAL_BYTES);
  g_state = MODEL_EMPTY;
  engine_set_blob(0);
  if (total > hal_store_bytes()) return error(rsp, rsp_len, TLP_ERR_TOO_LARGE, hal_store_bytes());
  g_total = total;
  g_received = 0;
  g_erased_to = 0;
  g_running_crc = 0;
  g_expect_crc = rd32(req + TLP_REQ_LOAD_BEGIN_CRC32);
  g_state = MODEL_RECEIVING;
  wr32(rsp + TLP_RSP_LOAD_BEGIN_CAPACITY, hal_store_bytes());
  *rsp_len = TLP_RSP_LOAD_BEGIN_BYTES;
  return TLP_CMD_LOAD_BEGIN | TLP_RESPONSE_FLAG;
}

/* Chunks must arrive in order; a chunk we already hold (a resend) is acknowledged, not rewritten. */
static uint8_t load_chunk(const uint8_t *req, uint32_t req_len, uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state != MODEL_RECEIVING) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  uint32_t offset = rd32(req + TLP_REQ_LOAD_CHUNK_OFFSET);
  uint32_t n = req_len - TLP_REQ_LOAD_CHUNK_BYTES;
  const uint8_t *data = req + TLP_REQ_LOAD_CHUNK_BYTES;
  if ((uint64_t)offset + n > g_total) return error(rsp, rsp_len, TLP_ERR_BAD_OFFSET, g_received);
  if (offset == g_received) {
    if (offset + n > g_erased_to && hal_store_erase(g_erased_to, offset + n - g_erased_to, &g_erased_to) != 0) {
      return error(rsp, rsp_len, TLP_ERR_BAD_STATE, offset);
    }
    if (hal_store_write(offset, data, n) != 0) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, offset);
    g_running_crc = crc32_update(g_running_crc, data, n);
    g_received += n;
  } else if ((uint64_t)offset + n > g_received) {
    return error(rsp, rsp_len, TLP_ERR_BAD_OFFSET, g_received);
  }
  wr32(rsp + TLP_RSP_LOAD_CHUNK_RECEIVED, g_received);
  *rsp_len = TLP_RSP_LOAD_CHUNK_BYTES;
  return TLP_CMD_LOAD_CHUNK | TLP_RESPONSE_FLAG;
}

/* Verifies the upload, then lets the engine parse it from a fresh instance. */
static uint8_t load_end(uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state == MODEL_RECEIVING) {
    if (g_received != g_total) return error(rsp, rsp_len, TLP_ERR_BAD_OFFSET, g_received);
    if (hal_store_flush() != 0) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, g_total); /* the padded last word */
    /* Re-read the store rather than trust the running CRC: this also checks the write. */
    uint32_t crc = crc32_update(0, hal_store_base(), g_total);
    if (crc != g_expect_crc || g_running_crc != g_expect_crc) {
      g_state = MODEL_EMPTY;
      return error(rsp, rsp_len, TLP_ERR_BLOB_CRC, crc);
    }
    g_state = MODEL_STORED;
  }
  if (g_state < MODEL_STORED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  g_state = MODEL_STORED;
  int trap = engine_reset();
  if (trap) return trapped(rsp, rsp_len, trap);
  engine_set_blob(g_total);
  uint32_t status, n_in = 0, n_out = 0, arena = 0, ops = 0;
  CALL(ENG_LOAD, 0, &status);
  if (status == 0) {
    CALL(ENG_NUM_INPUTS, 0, &n_in);
    CALL(ENG_NUM_OUTPUTS, 0, &n_out);
    CALL(ENG_ARENA_BYTES, 0, &arena);
    CALL(ENG_OP_COUNT, 0, &ops);
    uint8_t *p = rsp + TLP_RSP_LOAD_END_BYTES;
    for (uint32_t i = 0; i < n_in + n_out; i++, p += 4) {
      uint32_t bytes;
      CALL(i < n_in ? ENG_INPUT_BYTES : ENG_OUTPUT_BYTES, i < n_in ? i : i - n_in, &bytes);
      wr32(p, bytes);
    }
    g_state = MODEL_LOADED;
  }
  wr32(rsp + TLP_RSP_LOAD_END_STATUS, status);
  wr32(rsp + TLP_RSP_LOAD_END_NUM_INPUTS, n_in);
  wr32(rsp + TLP_RSP_LOAD_END_NUM_OUTPUTS, n_out);
  wr32(rsp + TLP_RSP_LOAD_END_ARENA_BYTES, arena);
  wr32(rsp + TLP_RSP_LOAD_END_OP_COUNT, ops);
  *rsp_len = TLP_RSP_LOAD_END_BYTES + 4 * (n_in + n_out);
  return TLP_CMD_LOAD_END | TLP_RESPONSE_FLAG;
}

/* Finds tensor `index` (input or output) and checks [offset, offset+n) against it and memory.
 * Returns 0, or an error number with *detail (a trap also drops the model). */
static uint32_t tensor_span(int output, uint32_t index, uint32_t offset, uint32_t n, uint8_t **at, uint32_t *detail) {
  uint32_t count, ptr, bytes, size;
  int trap = engine_call(output ? ENG_NUM_OUTPUTS : ENG_NUM_INPUTS, 0, &count);
  *detail = 0;
  if (!trap && index >= count) { *detail = count; return TLP_ERR_BAD_INDEX; }
  if (!trap) trap = engine_call(output ? ENG_OUTPUT_PTR : ENG_INPUT_PTR, index, &ptr);
  if (!trap) trap = engine_call(output ? ENG_OUTPUT_BYTES : ENG_INPUT_BYTES, index, &bytes);
  if (trap) {
    g_state = MODEL_STORED;
    *detail = (uint32_t)trap;
    return TLP_ERR_TRAP;
  }
  uint8_t *mem = engine_memory(&size, 0);
  if ((uint64_t)offset + n > bytes || (uint64_t)ptr + bytes > size) { *detail = bytes; return TLP_ERR_BAD_OFFSET; }
  *at = mem + ptr + offset;
  return 0;
}

static uint8_t set_input(const uint8_t *req, uint32_t req_len, uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  uint32_t n = req_len - TLP_REQ_SET_INPUT_BYTES, err;
  uint8_t *at;
  uint32_t detail;
  err = tensor_span(0, rd32(req + TLP_REQ_SET_INPUT_INDEX), rd32(req + TLP_REQ_SET_INPUT_OFFSET), n, &at, &detail);
  if (err) return error(rsp, rsp_len, err, detail);
  memcpy(at, req + TLP_REQ_SET_INPUT_BYTES, n);
  wr32(rsp + TLP_RSP_SET_INPUT_WRITTEN, n);
  *rsp_len = TLP_RSP_SET_INPUT_BYTES;
  return TLP_CMD_SET_INPUT | TLP_RESPONSE_FLAG;
}

static uint8_t invoke(uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  uint32_t status;
  uint64_t t0 = hal_timer_ticks();
  int trap = engine_call(ENG_INVOKE, 0, &status);
  uint64_t t1 = hal_timer_ticks();
  if (trap) return trapped(rsp, rsp_len, trap);
  g_invokes++;
  g_last_cycles = t1 - t0;
  wr32(rsp + TLP_RSP_INVOKE_STATUS, status);
  wr32(rsp + TLP_RSP_INVOKE_CYCLES_LO, (uint32_t)g_last_cycles);
  wr32(rsp + TLP_RSP_INVOKE_CYCLES_HI, (uint32_t)(g_last_cycles >> 32));
  *rsp_len = TLP_RSP_INVOKE_BYTES;
  return TLP_CMD_INVOKE | TLP_RESPONSE_FLAG;
}

/* Rewinds the engine to op 0 (tl_begin), for STEP. Inputs already set stay in the arena. */
static uint8_t begin(uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  uint32_t ignored, ops;
  CALL(ENG_BEGIN, 0, &ignored);
  CALL(ENG_OP_COUNT, 0, &ops);
  wr32(rsp + TLP_RSP_BEGIN_OP_COUNT, ops);
  *rsp_len = TLP_RSP_BEGIN_BYTES;
  return TLP_CMD_BEGIN | TLP_RESPONSE_FLAG;
}

/* Runs exactly one op (tl_step) and times it. After the last op the engine answers DONE
 * (and keeps answering DONE) with op = opCount. A trap is reported like INVOKE's. */
static uint8_t step(uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  uint32_t op, status;
  CALL(ENG_OP_INDEX, 0, &op);
  uint64_t t0 = hal_timer_ticks();
  int trap = engine_call(ENG_STEP, 0, &status);
  uint64_t t1 = hal_timer_ticks();
  if (trap) return trapped(rsp, rsp_len, trap);
  uint64_t cycles = t1 - t0;
  wr32(rsp + TLP_RSP_STEP_STATUS, status);
  wr32(rsp + TLP_RSP_STEP_OP, op);
  wr32(rsp + TLP_RSP_STEP_CYCLES_LO, (uint32_t)cycles);
  wr32(rsp + TLP_RSP_STEP_CYCLES_HI, (uint32_t)(cycles >> 32));
  *rsp_len = TLP_RSP_STEP_BYTES;
  return TLP_CMD_STEP | TLP_RESPONSE_FLAG;
}

/* Arena bytes [offset, offset+length), checked against tl_arena_bytes and linear memory. */
static uint8_t read_arena(const uint8_t *req, uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  uint32_t offset = rd32(req + TLP_REQ_READ_ARENA_OFFSET);
  uint32_t n = rd32(req + TLP_REQ_READ_ARENA_LENGTH);
  if (n > TLP_MAX_PAYLOAD) return error(rsp, rsp_len, TLP_ERR_BAD_LENGTH, TLP_MAX_PAYLOAD);
  uint32_t ptr, arena, size;
  CALL(ENG_ARENA_PTR, 0, &ptr);
  CALL(ENG_ARENA_BYTES, 0, &arena);
  uint8_t *mem = engine_memory(&size, 0);
  if ((uint64_t)offset + n > arena) return error(rsp, rsp_len, TLP_ERR_BAD_OFFSET, arena);
  if ((uint64_t)ptr + arena > size) return error(rsp, rsp_len, TLP_ERR_BAD_OFFSET, size);
  memcpy(rsp, mem + ptr + offset, n);
  *rsp_len = n;
  return TLP_CMD_READ_ARENA | TLP_RESPONSE_FLAG;
}

static uint8_t get_output(const uint8_t *req, uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  uint32_t n = rd32(req + TLP_REQ_GET_OUTPUT_LENGTH), err;
  if (n > TLP_MAX_PAYLOAD) return error(rsp, rsp_len, TLP_ERR_BAD_LENGTH, TLP_MAX_PAYLOAD);
  uint8_t *at;
  uint32_t detail;
  err = tensor_span(1, rd32(req + TLP_REQ_GET_OUTPUT_INDEX), rd32(req + TLP_REQ_GET_OUTPUT_OFFSET), n, &at, &detail);
  if (err) return error(rsp, rsp_len, err, detail);
  memcpy(rsp, at, n);
  *rsp_len = n;
  return TLP_CMD_GET_OUTPUT | TLP_RESPONSE_FLAG;
}

static uint8_t get_stats(uint8_t *rsp, uint32_t *rsp_len) {
  uint32_t peak = 0, arena = 0, ops = 0, size, pages;
  if (g_state >= MODEL_LOADED) {
    CALL(ENG_PEAK_BYTES, 0, &peak);
    CALL(ENG_ARENA_BYTES, 0, &arena);
    CALL(ENG_OP_COUNT, 0, &ops);
  }
  engine_memory(&size, &pages);
  wr32(rsp + TLP_RSP_GET_STATS_PEAK_BYTES, peak);
  wr32(rsp + TLP_RSP_GET_STATS_ARENA_BYTES, arena);
  wr32(rsp + TLP_RSP_GET_STATS_OP_COUNT, ops);
  wr32(rsp + TLP_RSP_GET_STATS_WASM_MEM_BYTES, size);
  wr32(rsp + TLP_RSP_GET_STATS_WASM_PAGES, pages);
  wr32(rsp + TLP_RSP_GET_STATS_STACK_USED, hal_stack_used());
  wr32(rsp + TLP_RSP_GET_STATS_STACK_BYTES, hal_stack_bytes());
  wr32(rsp + TLP_RSP_GET_STATS_INVOKES, g_invokes);
  wr32(rsp + TLP_RSP_GET_STATS_BAD_FRAMES, link_bad_frames());
  wr32(rsp + TLP_RSP_GET_STATS_DUPLICATES, link_duplicates());
  wr32(rsp + TLP_RSP_GET_STATS_TRAPS, engine_trap_count());
  wr32(rsp + TLP_RSP_GET_STATS_LAST_CYCLES_LO, (uint32_t)g_last_cycles);
  wr32(rsp + TLP_RSP_GET_STATS_LAST_CYCLES_HI, (uint32_t)(g_last_cycles >> 32));
  *rsp_len = TLP_RSP_GET_STATS_BYTES;
  return TLP_CMD_GET_STATS | TLP_RESPONSE_FLAG;
}

/* ---- Training ---- */

/* For helpers that report errors by number: a trap re-created the engine, so the model is gone. */
static uint32_t lost_model(int trap, uint32_t *detail) {
  if (g_state >= MODEL_LOADED) g_state = MODEL_STORED;
  *detail = (uint32_t)trap;
  return TLP_ERR_TRAP;
}

static uint8_t not_training(uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  return error(rsp, rsp_len, TLP_ERR_NOT_TRAINING, (uint32_t)g_state);
}

/* The persistent training state in linear memory, checked against the arena and real memory.
 * Returns 0, or an error number with *detail (a trap also drops the model). */
static uint32_t state_span(uint8_t **at, uint32_t *off, uint32_t *n, uint32_t *detail) {
  uint32_t ptr, arena, size;
  int trap = engine_call(ENG_ARENA_PTR, 0, &ptr);
  if (!trap) trap = engine_call(ENG_ARENA_BYTES, 0, &arena);
  if (!trap) trap = engine_call(ENG_TRAIN_STATE_OFFSET, 0, off);
  if (!trap) trap = engine_call(ENG_TRAIN_STATE_BYTES, 0, n);
  if (trap) return lost_model(trap, detail);
  uint8_t *mem = engine_memory(&size, 0);
  *detail = arena;
  if ((uint64_t)*off + *n > arena || (uint64_t)ptr + *off + *n > size) return TLP_ERR_BAD_OFFSET;
  *at = mem + ptr + *off;
  return 0;
}

/* tl_train_init: the training state from the blob's parameters, momentum zeroed. An
 * inference-only model is NOT_TRAINABLE; the model stays loaded for inference either way. */
static uint8_t train_init(uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state < MODEL_LOADED) return error(rsp, rsp_len, TLP_ERR_BAD_STATE, (uint32_t)g_state);
  g_state = MODEL_LOADED; /* until this init succeeds */
  uint32_t status, off, n, detail;
  uint8_t *at;
  CALL(ENG_TRAIN_INIT, 0, &status);
  if (status == TL_STATUS_NOT_TRAINABLE) return error(rsp, rsp_len, TLP_ERR_NOT_TRAINABLE, status);
  if (status != TL_STATUS_OK) return error(rsp, rsp_len, TLP_ERR_ENGINE, status);
  uint32_t err = state_span(&at, &off, &n, &detail);
  if (err) return error(rsp, rsp_len, err, detail);
  g_state = MODEL_TRAINING;
  wr32(rsp + TLP_RSP_TRAIN_INIT_STATE_OFFSET, off);
  wr32(rsp + TLP_RSP_TRAIN_INIT_STATE_BYTES, n);
  *rsp_len = TLP_RSP_TRAIN_INIT_BYTES;
  return TLP_CMD_TRAIN_INIT | TLP_RESPONSE_FLAG;
}

static uint8_t train_config(const uint8_t *req, uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state != MODEL_TRAINING) return not_training(rsp, rsp_len);
  uint32_t ignored;
  CALL(ENG_TRAIN_SET_LR, rd32(req + TLP_REQ_TRAIN_CONFIG_LR_BITS), &ignored);
  CALL(ENG_TRAIN_SET_MOMENTUM, rd32(req + TLP_REQ_TRAIN_CONFIG_MOMENTUM_BITS), &ignored);
  *rsp_len = TLP_RSP_TRAIN_CONFIG_BYTES;
  return TLP_CMD_TRAIN_CONFIG | TLP_RESPONSE_FLAG;
}

/* Writes a TRAIN_STEP's input tail: all of input 0 at once (a larger input comes by SET_INPUT). */
static uint32_t write_whole_input(const uint8_t *data, uint32_t n, uint32_t *detail) {
  uint32_t want;
  uint8_t *at;
  int trap = engine_call(ENG_INPUT_BYTES, 0, &want);
  if (trap) return lost_model(trap, detail);
  if (n != want) { *detail = want; return TLP_ERR_BAD_LENGTH; }
  uint32_t err = tensor_span(0, 0, 0, n, &at, detail);
  if (err) return err;
  memcpy(at, data, n);
  return 0;
}

/* Copies output 0 to tail when it fits in room (*n = its size), else *n = 0: the host reads
 * it with GET_OUTPUT. Returns 0 or an error number with *detail. */
static uint32_t output_tail(uint8_t *tail, uint32_t room, uint32_t *n, uint32_t *detail) {
  uint8_t *at;
  int trap = engine_call(ENG_OUTPUT_BYTES, 0, n);
  if (trap) return lost_model(trap, detail);
  if (*n > room) { *n = 0; return 0; }
  uint32_t err = tensor_span(1, 0, 0, *n, &at, detail);
  if (!err) memcpy(tail, at, *n);
  return err;
}

/* One training step (forward, loss, backward, update) on input 0, timed like INVOKE. A status
 * other than OK (e.g. BAD_LABEL) is returned, not turned into an error; a trap ends training. */
static uint8_t train_step(const uint8_t *req, uint32_t req_len, uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state != MODEL_TRAINING) return not_training(rsp, rsp_len);
  uint32_t n = req_len - TLP_REQ_TRAIN_STEP_BYTES, status, loss, detail, out = 0;
  if (n) {
    uint32_t err = write_whole_input(req + TLP_REQ_TRAIN_STEP_BYTES, n, &detail);
    if (err) return error(rsp, rsp_len, err, detail);
  }
  uint64_t t0 = hal_timer_ticks();
  int trap = engine_call(ENG_TRAIN_STEP, rd32(req + TLP_REQ_TRAIN_STEP_LABEL), &status);
  uint64_t t1 = hal_timer_ticks();
  if (trap) return trapped(rsp, rsp_len, trap);
  CALL(ENG_TRAIN_LOSS_BITS, 0, &loss);
  if (status == TL_STATUS_OK) {
    uint32_t err = output_tail(rsp + TLP_RSP_TRAIN_STEP_BYTES, TLP_MAX_PAYLOAD - TLP_RSP_TRAIN_STEP_BYTES, &out, &detail);
    if (err) return error(rsp, rsp_len, err, detail);
  }
  g_last_cycles = t1 - t0;
  wr32(rsp + TLP_RSP_TRAIN_STEP_STATUS, status);
  wr32(rsp + TLP_RSP_TRAIN_STEP_LOSS_BITS, loss);
  wr32(rsp + TLP_RSP_TRAIN_STEP_CYCLES_LO, (uint32_t)g_last_cycles);
  wr32(rsp + TLP_RSP_TRAIN_STEP_CYCLES_HI, (uint32_t)(g_last_cycles >> 32));
  *rsp_len = TLP_RSP_TRAIN_STEP_BYTES + out;
  return TLP_CMD_TRAIN_STEP | TLP_RESPONSE_FLAG;
}

/* Stores the training state with the host's step counter (checkpoint.c), tied to this blob's CRC. */
static uint8_t checkpoint_save_cmd(const uint8_t *req, uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state != MODEL_TRAINING) return not_training(rsp, rsp_len);
  uint8_t *at;
  uint32_t off, n, detail, written, crc;
  uint32_t err = state_span(&at, &off, &n, &detail);
  if (err) return error(rsp, rsp_len, err, detail);
  err = checkpoint_save(g_expect_crc, rd32(req + TLP_REQ_CHECKPOINT_SAVE_STEP), at, n, g_total, &written, &crc);
  if (err) return error(rsp, rsp_len, err, written);
  wr32(rsp + TLP_RSP_CHECKPOINT_SAVE_WRITTEN, written);
  wr32(rsp + TLP_RSP_CHECKPOINT_SAVE_STATE_CRC, crc);
  *rsp_len = TLP_RSP_CHECKPOINT_SAVE_BYTES;
  return TLP_CMD_CHECKPOINT_SAVE | TLP_RESPONSE_FLAG;
}

/* Writes a saved state for this blob back over the one TRAIN_INIT made. */
static uint8_t checkpoint_restore_cmd(uint8_t *rsp, uint32_t *rsp_len) {
  if (g_state != MODEL_TRAINING) return not_training(rsp, rsp_len);
  uint8_t *at;
  const uint8_t *saved;
  uint32_t off, n, detail, step, crc;
  uint32_t err = state_span(&at, &off, &n, &detail);
  if (err) return error(rsp, rsp_len, err, detail);
  uint32_t miss = checkpoint_find(g_expect_crc, n, &saved, &step, &crc);
  if (miss) return error(rsp, rsp_len, TLP_ERR_NO_CHECKPOINT, miss);
  memcpy(at, saved, n);
  wr32(rsp + TLP_RSP_CHECKPOINT_RESTORE_STEP, step);
  wr32(rsp + TLP_RSP_CHECKPOINT_RESTORE_STATE_CRC, crc);
  *rsp_len = TLP_RSP_CHECKPOINT_RESTORE_BYTES;
  return TLP_CMD_CHECKPOINT_RESTORE | TLP_RESPONSE_FLAG;
}

static uint8_t reset(uint32_t *rsp_len) {
  commands_init();
  *rsp_len = 0;
  return TLP_CMD_RESET | TLP_RESPONSE_FLAG;
}

/* Payload sizes: exact for fixed layouts, at least the fixed part for those with a tail. */
static int length_ok(uint8_t code, uint32_t len) {
  switch (code) {
    case TLP_CMD_HELLO: return len == TLP_REQ_HELLO_BYTES;
    case TLP_CMD_LOAD_BEGIN: return len == TLP_REQ_LOAD_BEGIN_BYTES;
    case TLP_CMD_LOAD_CHUNK: return len >= TLP_REQ_LOAD_CHUNK_BYTES;
    case TLP_CMD_LOAD_END: return len == TLP_REQ_LOAD_END_BYTES;
    case TLP_CMD_SET_INPUT: return len >= TLP_REQ_SET_INPUT_BYTES;
    case TLP_CMD_INVOKE: return len == TLP_REQ_INVOKE_BYTES;
    case TLP_CMD_GET_OUTPUT: return len == TLP_REQ_GET_OUTPUT_BYTES;
    case TLP_CMD_BEGIN: return len == TLP_REQ_BEGIN_BYTES;
    case TLP_CMD_STEP: return len == TLP_REQ_STEP_BYTES;
    case TLP_CMD_READ_ARENA: return len == TLP_REQ_READ_ARENA_BYTES;
    case TLP_CMD_GET_STATS: return len == TLP_REQ_GET_STATS_BYTES;
    case TLP_CMD_RESET: return len == TLP_REQ_RESET_BYTES;
    case TLP_CMD_TRAIN_INIT: return len == TLP_REQ_TRAIN_INIT_BYTES;
    case TLP_CMD_TRAIN_CONFIG: return len == TLP_REQ_TRAIN_CONFIG_BYTES;
    case TLP_CMD_TRAIN_STEP: return len >= TLP_REQ_TRAIN_STEP_BYTES;
    case TLP_CMD_CHECKPOINT_SAVE: return len == TLP_REQ_CHECKPOINT_SAVE_BYTES;
    case TLP_CMD_CHECKPOINT_RESTORE: return len == TLP_REQ_CHECKPOINT_RESTORE_BYTES;
  }
  return 1;
}

uint8_t commands_handle(uint8_t code, const uint8_t *req, uint32_t req_len, uint8_t *rsp, uint32_t *rsp_len) {
  if (!length_ok(code, req_len)) return error(rsp, rsp_len, TLP_ERR_BAD_LENGTH, req_len);
  switch (code) {
    case TLP_CMD_HELLO: return hello(rsp, rsp_len);
    case TLP_CMD_LOAD_BEGIN: return load_begin(req, rsp, rsp_len);
    case TLP_CMD_LOAD_CHUNK: return load_chunk(req, req_len, rsp, rsp_len);
    case TLP_CMD_LOAD_END: return load_end(rsp, rsp_len);
    case TLP_CMD_SET_INPUT: return set_input(req, req_len, rsp, rsp_len);
    case TLP_CMD_INVOKE: return invoke(rsp, rsp_len);
    case TLP_CMD_GET_OUTPUT: return get_output(req, rsp, rsp_len);
    case TLP_CMD_BEGIN: return begin(rsp, rsp_len);
    case TLP_CMD_STEP: return step(rsp, rsp_len);
    case TLP_CMD_READ_ARENA: return read_arena(req, rsp, rsp_len);
    case TLP_CMD_GET_STATS: return get_stats(rsp, rsp_len);
    case TLP_CMD_RESET: return reset(rsp_len);
    case TLP_CMD_TRAIN_INIT: return train_init(rsp, rsp_len);
    case TLP_CMD_TRAIN_CONFIG: return train_config(req, rsp, rsp_len);
    case TLP_CMD_TRAIN_STEP: return train_step(req, req_len, rsp, rsp_len);
    case TLP_CMD_CHECKPOINT_SAVE: return checkpoint_save_cmd(req, rsp, rsp_len);
    case TLP_CMD_CHECKPOINT_RESTORE: return checkpoint_restore_cmd(rsp, rsp_len);
  }
  return error(rsp, rsp_len, TLP_ERR_UNKNOWN_COMMAND, code);
}
