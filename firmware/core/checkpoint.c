/* Layout, from the top of the model store down (models fill it from the bottom):
 *
 *   ... model blob ... | free | state (n bytes, padded to a word) | record (TLP_CKPT_RECORD_BYTES) | end
 *
 * The record sits at a fixed place (the store's last word-aligned bytes), so it can be found
 * without knowing the state size. Words are the store's program unit (hal_store_word_bytes(), at
 * least 4): on flash each word is programmed once per erase. A save first erases from the erase
 * unit holding the state's start to the end of the store (which also clears the record), then
 * writes the state, then the record: an interrupted save leaves no checkpoint rather than a wrong
 * one. The erase must not reach the model, so on flash the state starts no lower than the first
 * erase-unit boundary above the model. A later upload of a bigger model may overwrite the state;
 * the state CRC then fails and restore says so. */
#include "checkpoint.h"
#include "bytes.h"
#include "crc32.h"
#include "protocol_gen.h"
#include "../hal/hal.h"

static uint32_t word(void) {
  uint32_t w = hal_store_word_bytes();
  return w < 4u ? 4u : w;
}

static uint32_t record_at(void) { return (hal_store_bytes() - TLP_CKPT_RECORD_BYTES) & ~(word() - 1u); }

static uint64_t align_word(uint32_t n) { return ((uint64_t)n + word() - 1u) & ~(uint64_t)(word() - 1u); }

/* Store offset where n state bytes begin, or -1 when they cannot fit at all. */
static int64_t state_at(uint32_t n) {
  return align_word(n) > record_at() ? -1 : (int64_t)(record_at() - align_word(n));
}

/* Lowest offset a save may erase from: the first erase-unit boundary at or above the model. */
static uint32_t floor_above(uint32_t model_bytes) {
  uint64_t m = align_word(model_bytes);
  if (m >= hal_store_bytes()) return hal_store_bytes();
  uint32_t start, end;
  hal_store_unit((uint32_t)m, &start, &end);
  return start == m ? (uint32_t)m : end;
}

uint32_t checkpoint_save(uint32_t blob_crc, uint32_t step, const uint8_t *state, uint32_t n,
                         uint32_t model_bytes, uint32_t *written, uint32_t *state_crc) {
  int64_t at = state_at(n);
  uint32_t floor = floor_above(model_bytes), erase_from = 0, end = 0, unit_end;
  if (at >= 0) hal_store_unit((uint32_t)at, &erase_from, &unit_end);
  if (at < 0 || erase_from < floor) {
    *written = record_at() > floor ? record_at() - floor : 0;
    return TLP_ERR_TOO_LARGE;
  }
  uint8_t rec[TLP_CKPT_RECORD_BYTES] = { 0 };
  *written = 0;
  /* No valid checkpoint while the state changes: the erase clears the record too. */
  if (hal_store_erase(erase_from, hal_store_bytes() - erase_from, &end) != 0 ||
      hal_store_write((uint32_t)at, state, n) != 0 || hal_store_flush() != 0) {
    return TLP_ERR_BAD_STATE;
  }
  *state_crc = crc32_update(0, hal_store_base() + at, n); /* of what was stored: checks the write too */
  wr32(rec + TLP_CKPT_RECORD_MAGIC, TLP_CHECKPOINT_MAGIC);
  wr32(rec + TLP_CKPT_RECORD_BLOB_CRC, blob_crc);
  wr32(rec + TLP_CKPT_RECORD_STEP, step);
  wr32(rec + TLP_CKPT_RECORD_STATE_BYTES, n);
  wr32(rec + TLP_CKPT_RECORD_STATE_CRC, *state_crc);
  if (hal_store_write(record_at(), rec, sizeof rec) != 0 || hal_store_flush() != 0) return TLP_ERR_BAD_STATE;
  *written = hal_store_bytes() - (uint32_t)at;
  return 0;
}

uint32_t checkpoint_find(uint32_t blob_crc, uint32_t n, const uint8_t **state, uint32_t *step, uint32_t *state_crc) {
  const uint8_t *rec = hal_store_base() + record_at();
  if (rd32(rec + TLP_CKPT_RECORD_MAGIC) != TLP_CHECKPOINT_MAGIC) return TLP_CKPT_NONE;
  if (rd32(rec + TLP_CKPT_RECORD_BLOB_CRC) != blob_crc) return TLP_CKPT_OTHER_MODEL;
  int64_t at = state_at(n);
  if (rd32(rec + TLP_CKPT_RECORD_STATE_BYTES) != n || at < 0) return TLP_CKPT_SIZE;
  uint32_t crc = crc32_update(0, hal_store_base() + at, n);
  if (crc != rd32(rec + TLP_CKPT_RECORD_STATE_CRC)) return TLP_CKPT_DAMAGED;
  *state = hal_store_base() + at;
  *step = rd32(rec + TLP_CKPT_RECORD_STEP);
  *state_crc = crc;
  return 0;
}
