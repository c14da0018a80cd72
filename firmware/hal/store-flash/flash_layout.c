/* See flash_layout.h. Addresses are 32-bit and flash ends below 4 GB, so sums are done in 64
 * bits wherever a length is added, and nothing here can overflow into a wrong unit. */
#include <string.h>

#include "flash_layout.h"

uint32_t flash_size(const flash_geom_t *g) {
  uint64_t n = 0;
  for (uint32_t r = 0; r < g->n_runs; r++) n += (uint64_t)g->runs[r].count * g->runs[r].bytes;
  return (uint32_t)n;
}

int flash_unit_at(const flash_geom_t *g, uint32_t addr, flash_unit_t *u) {
  if (addr < g->origin) return 0;
  uint64_t start = g->origin;
  uint32_t index = 0;
  for (uint32_t r = 0; r < g->n_runs; r++) {
    const flash_run_t *run = &g->runs[r];
    uint64_t end = start + (uint64_t)run->count * run->bytes;
    if (addr < end) {
      uint32_t k = (uint32_t)((addr - start) / run->bytes);
      u->index = index + k;
      u->start = (uint32_t)(start + (uint64_t)k * run->bytes);
      u->end = u->start + run->bytes;
      return 1;
    }
    start = end;
    index += run->count;
  }
  return 0;
}

uint32_t flash_boundary_at_or_after(const flash_geom_t *g, uint32_t addr) {
  flash_unit_t u;
  if (addr <= g->origin) return g->origin;
  if (!flash_unit_at(g, addr, &u)) return g->origin + flash_size(g);
  return u.start == addr ? addr : u.end;
}

int flash_units_covering(const flash_geom_t *g, uint32_t addr, uint32_t len, flash_unit_t *first, flash_unit_t *last) {
  if (len == 0 || (uint64_t)addr + len > (uint64_t)g->origin + flash_size(g)) return 0;
  return flash_unit_at(g, addr, first) && flash_unit_at(g, addr + len - 1u, last);
}

static int word_ok(uint32_t w) { return w != 0 && w <= FLASH_MAX_WORD && (w & (w - 1u)) == 0; }

int flash_wordbuf_flush(flash_wordbuf_t *b, uint32_t word_bytes, flash_emit_fn emit, void *ctx) {
  if (!word_ok(word_bytes)) return FLASH_ERR_WORD;
  if (!b->active) return 0;
  b->active = 0; /* the rest of bytes[] is 0xff already */
  return emit(ctx, b->addr, b->bytes);
}

int flash_wordbuf_put(flash_wordbuf_t *b, uint32_t word_bytes, uint32_t addr, const uint8_t *data, uint32_t len,
                      flash_emit_fn emit, void *ctx) {
  if (!word_ok(word_bytes)) return FLASH_ERR_WORD;
  while (len > 0) {
    uint32_t word = addr & ~(word_bytes - 1u);
    if (b->active && addr != b->addr + b->fill) {
      uint32_t was = b->addr;
      int err = flash_wordbuf_flush(b, word_bytes, emit, ctx);
      if (err) return err;
      if (word == was) return FLASH_ERR_REWRITE;
    }
    if (!b->active) {
      memset(b->bytes, 0xff, sizeof b->bytes);
      b->addr = word;
      b->fill = addr - word;
      b->active = 1;
    }
    uint32_t n = word_bytes - b->fill;
    if (n > len) n = len;
    memcpy(b->bytes + b->fill, data, n);
    b->fill += n;
    addr += n;
    data += n;
    len -= n;
    if (b->fill == word_bytes) {
      int err = flash_wordbuf_flush(b, word_bytes, emit, ctx);
      if (err) return err;
    }
  }
  return 0;
}
