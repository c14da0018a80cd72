/* Wasm linear memory as placed by the generated linker script (the model store is the
 * writer's: store-ram/ or store-flash/). */
#include "../hal.h"

extern uint8_t __wasm_mem_start[], __wasm_mem_end[];

uint8_t *hal_wasm_memory(void) { return __wasm_mem_start; }
uint32_t hal_wasm_memory_bytes(void) { return (uint32_t)(__wasm_mem_end - __wasm_mem_start); }
