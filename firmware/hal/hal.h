/* What the core needs from a board: a byte pipe, a timer, and memory facts.
 * One implementation per hal/<name>/ directory; build.ts picks it from the board JSON. */
#ifndef TL_HAL_H
#define TL_HAL_H
#include <stddef.h>
#include <stdint.h>

void hal_init(void);

/* Serial port. getc returns -1 when no byte is waiting (never blocks). */
int hal_uart_getc(void);
void hal_uart_write(const uint8_t *data, size_t len);
/* Waits (low power) until a byte may have arrived; may return early. Called when getc had nothing,
 * so an idle board does not spin (and an idle QEMU does not burn a host core). */
void hal_idle(void);

/* Free-running timer in board ticks (timerHz in the board JSON), 64-bit so it never wraps. */
uint64_t hal_timer_ticks(void);

/* Bytes of C stack used so far (deepest point), and its size; 0 where unknown. */
uint32_t hal_stack_used(void);
uint32_t hal_stack_bytes(void);

/* The model store: where uploaded blobs live (flash-like, outside SRAM where possible). */
uint8_t *hal_store_base(void);
uint32_t hal_store_bytes(void);
/* Copies len bytes into the store at offset (range already checked); 0 = ok. */
int hal_store_write(uint32_t offset, const uint8_t *data, uint32_t len);

/* Static buffer for wasm linear memory. */
uint8_t *hal_wasm_memory(void);
uint32_t hal_wasm_memory_bytes(void);

#endif
