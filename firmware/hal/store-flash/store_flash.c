/* The model store in the part's own flash, after the firmware: hal.h's store API over a flash
 * controller driver. The store starts at the first erase-unit boundary past the firmware image
 * (the linker's __model_store_start), so erasing the store can never touch the firmware. */
#include "../hal.h"
#include "flash_driver.h"
#include "flash_layout.h"

extern uint8_t __model_store_start[];

static flash_wordbuf_t g_pending;

static uint32_t store_start(void) {
  return flash_boundary_at_or_after(flash_geometry(), (uint32_t)(uintptr_t)__model_store_start);
}

static uint32_t store_end(void) {
  const flash_geom_t *g = flash_geometry();
  return g->origin + flash_size(g);
}

uint8_t *hal_store_base(void) { return (uint8_t *)(uintptr_t)store_start(); }
uint32_t hal_store_bytes(void) { return store_end() - store_start(); }
uint32_t hal_store_word_bytes(void) { return flash_geometry()->word_bytes; }

void hal_store_unit(uint32_t offset, uint32_t *start, uint32_t *end) {
  flash_unit_t u;
  uint32_t base = store_start();
  if (!flash_unit_at(flash_geometry(), base + offset, &u)) {
    *start = *end = hal_store_bytes();
    return;
  }
  *start = u.start - base;
  *end = u.end - base;
}

static int emit(void *ctx, uint32_t addr, const uint8_t *word) {
  (void)ctx;
  return flash_program_word(addr, word);
}

int hal_store_flush(void) { return flash_wordbuf_flush(&g_pending, hal_store_word_bytes(), emit, 0); }

int hal_store_erase(uint32_t offset, uint32_t len, uint32_t *end) {
  const flash_geom_t *g = flash_geometry();
  uint32_t base = store_start();
  flash_unit_t first, last;
  int err = hal_store_flush(); /* a pending word must not land in a freshly erased unit */
  if (err) return err;
  if (!flash_units_covering(g, base + offset, len, &first, &last) || first.start < base) return -1;
  for (uint32_t addr = first.start; addr < last.end;) {
    flash_unit_t u;
    if (!flash_unit_at(g, addr, &u)) return -1;
    err = flash_erase_unit(&u);
    if (err) return err;
    addr = u.end;
  }
  *end = last.end - base;
  return 0;
}

int hal_store_write(uint32_t offset, const uint8_t *data, uint32_t len) {
  return flash_wordbuf_put(&g_pending, hal_store_word_bytes(), store_start() + offset, data, len, emit, 0);
}
