/* Model store and wasm memory as placed by the generated linker script. The store writer
 * here is a plain copy: right for RAM-backed "flash" (QEMU mps2) or a store in SRAM. */
#include <string.h>

#include "../hal.h"

extern uint8_t __model_store_start[], __model_store_end[];
extern uint8_t __wasm_mem_start[], __wasm_mem_end[];

uint8_t *hal_store_base(void) { return __model_store_start; }
uint32_t hal_store_bytes(void) { return (uint32_t)(__model_store_end - __model_store_start); }
int hal_store_write(uint32_t offset, const uint8_t *data, uint32_t len) {
  memcpy(__model_store_start + offset, data, len);
  return 0;
}

uint8_t *hal_wasm_memory(void) { return __wasm_mem_start; }
uint32_t hal_wasm_memory_bytes(void) { return (uint32_t)(__wasm_mem_end - __wasm_mem_start); }
