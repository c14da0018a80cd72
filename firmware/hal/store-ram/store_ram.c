/* Model store in memory the CPU writes directly: QEMU's RAM-backed "flash" (mps2) or a slice of
 * SRAM. It keeps the flash rules of hal.h cheaply (erase = fill with 0xff, no word buffering), so
 * the core's erase-then-write sequences run unchanged on virtual boards. */
#include <string.h>

#include "../hal.h"

extern uint8_t __model_store_start[], __model_store_end[];

uint8_t *hal_store_base(void) { return __model_store_start; }
uint32_t hal_store_bytes(void) { return (uint32_t)(__model_store_end - __model_store_start); }

void hal_store_unit(uint32_t offset, uint32_t *start, uint32_t *end) {
  *start = offset;
  *end = offset + 1u;
}

int hal_store_erase(uint32_t offset, uint32_t len, uint32_t *end) {
  memset(__model_store_start + offset, 0xff, len);
  *end = offset + len;
  return 0;
}

int hal_store_write(uint32_t offset, const uint8_t *data, uint32_t len) {
  memcpy(__model_store_start + offset, data, len);
  return 0;
}

int hal_store_flush(void) { return 0; }
uint32_t hal_store_word_bytes(void) { return 4u; }
