/* Two alternating checkpoint slots at the top of the model store (models fill it from the bottom):
 *
 *   ... model blob ... | free | slot B: state, record | slot A: state, record | end
 *
 * A slot is the erase units holding its state (padded to a word) and its record (in the slot's
 * last word-aligned bytes). Slot A ends at the store's end, so its record is always in the same
 * place; slot B ends where slot A's first erase unit begins. Both depend only on the state size
 * n, which save and find both know. Words are the store's program unit (hal_store_word_bytes(),
 * at least 4): on flash each is programmed once per erase.
 *
 * A save writes the slot that does not hold the newest good checkpoint of this model: it erases
 * the slot (which clears its record), writes the state, then the record, with a sequence number
 * one above every record in the store. An interrupted save leaves the other slot's checkpoint,
 * so a reset mid-save loses at most the save under way and never restores a wrong state (the
 * state CRC is checked). When the model leaves room for slot A only, saves reuse slot A, and an
 * interrupted save then leaves no checkpoint. The erase never reaches the model: a slot starts
 * no lower than the first erase-unit boundary above the model. A later upload of a bigger model
 * may overwrite a slot's state; its CRC then fails and restore says so. */
#include "checkpoint.h"
#include "bytes.h"
#include "crc32.h"
#include "protocol_gen.h"
#include "../hal/hal.h"

typedef struct {
  uint32_t lo;     /* first byte of its first erase unit */
  uint32_t state;  /* where the state begins */
  uint32_t record; /* where the record begins */
  int fits;        /* the slot lies inside the store */
} slot_t;

static uint32_t word(void) {
  uint32_t w = hal_store_word_bytes();
  return w < 4u ? 4u : w;
}

static uint64_t align_word(uint64_t n) { return (n + word() - 1u) & ~(uint64_t)(word() - 1u); }

/* The slot for n state bytes that ends at `hi`. */
static slot_t slot_below(uint32_t hi, uint32_t n) {
  slot_t s = { 0, 0, 0, 0 };
  if (hi < TLP_CKPT_RECORD_BYTES) return s;
  s.record = (hi - TLP_CKPT_RECORD_BYTES) & ~(word() - 1u);
  if (align_word(n) > s.record) return s;
  s.state = s.record - (uint32_t)align_word(n);
  uint32_t unit_end;
  hal_store_unit(s.state, &s.lo, &unit_end);
  s.fits = 1;
  return s;
}

static void slots(uint32_t n, slot_t *a, slot_t *b) {
  *a = slot_below(hal_store_bytes(), n);
  *b = a->fits ? slot_below(a->lo, n) : (slot_t){ 0, 0, 0, 0 };
}

static const uint8_t *record_of(const slot_t *s) { return hal_store_base() + s->record; }
static int has_record(const slot_t *s) { return s->fits && rd32(record_of(s) + TLP_CKPT_RECORD_MAGIC) == TLP_CHECKPOINT_MAGIC; }
static uint32_t seq_of(const slot_t *s) { return rd32(record_of(s) + TLP_CKPT_RECORD_SEQ); }

/* Why slot s holds no good checkpoint of blob_crc with n state bytes (0 = it does). */
static uint32_t miss(const slot_t *s, uint32_t blob_crc, uint32_t n) {
  if (!has_record(s)) return TLP_CKPT_NONE;
  const uint8_t *rec = record_of(s);
  if (rd32(rec + TLP_CKPT_RECORD_BLOB_CRC) != blob_crc) return TLP_CKPT_OTHER_MODEL;
  if (rd32(rec + TLP_CKPT_RECORD_STATE_BYTES) != n) return TLP_CKPT_SIZE;
  if (crc32_update(0, hal_store_base() + s->state, n) != rd32(rec + TLP_CKPT_RECORD_STATE_CRC)) return TLP_CKPT_DAMAGED;
  return 0;
}

/* seq a is newer than seq b (wrap-around safe). */
static int newer(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* The slot holding the newest good checkpoint, or 0; *why = the most telling miss otherwise
 * (a damaged state says more than another model, which says more than nothing). */
static const slot_t *newest(const slot_t *a, const slot_t *b, uint32_t blob_crc, uint32_t n, uint32_t *why) {
  uint32_t ma = miss(a, blob_crc, n), mb = miss(b, blob_crc, n);
  if (!ma && !mb) return newer(seq_of(b), seq_of(a)) ? b : a;
  if (!ma) return a;
  if (!mb) return b;
  *why = ma > mb ? ma : mb; /* TLP_CKPT_* grow with how close the slot came */
  return 0;
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
  slot_t a, b;
  slots(n, &a, &b);
  uint32_t floor = floor_above(model_bytes), why = 0;
  *written = 0;
  if (!a.fits || a.lo < floor) {
    slot_t room = slot_below(hal_store_bytes(), 0);
    *written = room.record > floor ? room.record - floor : 0;
    return TLP_ERR_TOO_LARGE;
  }
  int two = b.fits && b.lo >= floor;
  const slot_t *keep = two ? newest(&a, &b, blob_crc, n, &why) : 0;
  /* Write the slot that does not hold the newest good checkpoint; else an empty one (A first), else the older. */
  const slot_t *to = &a;
  if (keep) to = keep == &a ? &b : &a;
  else if (two && has_record(&a) && (!has_record(&b) || newer(seq_of(&a), seq_of(&b)))) to = &b;
  uint32_t seq = 1;
  if (has_record(&a)) seq = seq_of(&a) + 1u;
  if (has_record(&b) && newer(seq_of(&b) + 1u, seq)) seq = seq_of(&b) + 1u;

  uint32_t slot_end = to == &a ? hal_store_bytes() : a.lo, end = 0;
  uint8_t rec[TLP_CKPT_RECORD_BYTES] = { 0 };
  /* No checkpoint in this slot while its state changes: the erase clears its record too. */
  if (hal_store_erase(to->lo, slot_end - to->lo, &end) != 0 ||
      hal_store_write(to->state, state, n) != 0 || hal_store_flush() != 0) {
    return TLP_ERR_BAD_STATE;
  }
  *state_crc = crc32_update(0, hal_store_base() + to->state, n); /* of what was stored: checks the write too */
  wr32(rec + TLP_CKPT_RECORD_MAGIC, TLP_CHECKPOINT_MAGIC);
  wr32(rec + TLP_CKPT_RECORD_BLOB_CRC, blob_crc);
  wr32(rec + TLP_CKPT_RECORD_STEP, step);
  wr32(rec + TLP_CKPT_RECORD_STATE_BYTES, n);
  wr32(rec + TLP_CKPT_RECORD_STATE_CRC, *state_crc);
  wr32(rec + TLP_CKPT_RECORD_SEQ, seq);
  if (hal_store_write(to->record, rec, sizeof rec) != 0 || hal_store_flush() != 0) return TLP_ERR_BAD_STATE;
  *written = slot_end - to->state;
  return 0;
}

uint32_t checkpoint_find(uint32_t blob_crc, uint32_t n, const uint8_t **state, uint32_t *step, uint32_t *state_crc) {
  slot_t a, b;
  slots(n, &a, &b);
  uint32_t why = TLP_CKPT_NONE;
  const slot_t *s = newest(&a, &b, blob_crc, n, &why);
  if (!s) return why;
  *state = hal_store_base() + s->state;
  *step = rd32(record_of(s) + TLP_CKPT_RECORD_STEP);
  *state_crc = rd32(record_of(s) + TLP_CKPT_RECORD_STATE_CRC);
  return 0;
}
