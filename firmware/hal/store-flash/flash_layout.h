/* Pure arithmetic of a flash model store, free of registers so it is unit-tested on the host
 * (test/firmware/flash_layout_test.c): which erase units (sectors or pages) cover an address
 * range, and how a stream of writes becomes whole program words with a padded tail. */
#ifndef TL_FLASH_LAYOUT_H
#define TL_FLASH_LAYOUT_H
#include <stdint.h>

/* `count` consecutive erase units of `bytes` each. */
typedef struct {
  uint32_t count, bytes;
} flash_run_t;

/* A part's flash: erase units from `origin` in runs of equal size (F4/F7 sectors of mixed
 * sizes, H7 128 KB sectors, L4 pages), programmed in words of `word_bytes` (a power of two). */
typedef struct {
  uint32_t origin;
  const flash_run_t *runs;
  uint32_t n_runs;
  uint32_t word_bytes;
} flash_geom_t;

typedef struct {
  uint32_t index, start, end; /* [start, end): absolute addresses */
} flash_unit_t;

#define FLASH_MAX_WORD 32u

/* Total bytes of flash the geometry describes. */
uint32_t flash_size(const flash_geom_t *g);
/* The unit holding addr; 0 if addr is outside the flash. */
int flash_unit_at(const flash_geom_t *g, uint32_t addr, flash_unit_t *u);
/* The first unit boundary at or after addr (the flash end if none is left). */
uint32_t flash_boundary_at_or_after(const flash_geom_t *g, uint32_t addr);
/* The units overlapping [addr, addr + len): first and last (inclusive). 0 if len is 0 or the
 * range leaves the flash. */
int flash_units_covering(const flash_geom_t *g, uint32_t addr, uint32_t len, flash_unit_t *first, flash_unit_t *last);

/* Collects written bytes into program words. A word is emitted once, whole: when it fills,
 * or padded with 0xff (the erased value, so padding programs nothing) by flush. */
typedef int (*flash_emit_fn)(void *ctx, uint32_t addr, const uint8_t *word);
typedef struct {
  uint32_t addr;   /* the pending word's address */
  uint32_t fill;   /* bytes of it known so far */
  int active;
  uint8_t bytes[FLASH_MAX_WORD];
} flash_wordbuf_t;

#define FLASH_ERR_REWRITE (-100) /* a write into a word already programmed (it would need an erase) */
#define FLASH_ERR_WORD (-101)    /* word_bytes is not a power of two <= FLASH_MAX_WORD */

/* Adds len bytes at addr. A write that does not continue the pending word flushes it first;
 * bytes of a new word before addr are left erased (0xff). Returns 0, an emit error, or FLASH_ERR_*. */
int flash_wordbuf_put(flash_wordbuf_t *b, uint32_t word_bytes, uint32_t addr, const uint8_t *data, uint32_t len,
                      flash_emit_fn emit, void *ctx);
int flash_wordbuf_flush(flash_wordbuf_t *b, uint32_t word_bytes, flash_emit_fn emit, void *ctx);

#endif
