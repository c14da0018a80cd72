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

/* Free-running timer in board ticks, 64-bit so it never wraps. */
uint64_t hal_timer_ticks(void);
/* The core clock and timer rate actually running (a real part may have fallen back to its
 * internal oscillator), and where the clock comes from: HAL_CLOCK_* below. */
uint32_t hal_clock_hz(void);
uint32_t hal_timer_hz(void);
uint32_t hal_clock_source(void);
#define HAL_CLOCK_FIXED 0u      /* virtual board or host: the board JSON's clock */
#define HAL_CLOCK_EXTERNAL 1u   /* PLL from the external clock (ST-LINK MCO on a Nucleo) */
#define HAL_CLOCK_INTERNAL 2u   /* PLL from the internal RC oscillator (by design, or the external one did not start) */
#define HAL_CLOCK_RC_ONLY 3u    /* the PLL did not lock: running on the internal RC oscillator itself */

/* Bytes of C stack used so far (deepest point), and its size; 0 where unknown. */
uint32_t hal_stack_used(void);
uint32_t hal_stack_bytes(void);

/* The model store: where uploaded blobs live (flash on real parts, outside SRAM where possible).
 * Every writer follows flash rules, so the core has one way to write: a range is erased before
 * it is written, and writes are programmed in words of hal_store_word_bytes(); a partial last
 * word waits for the next contiguous write or hal_store_flush(), which pads it with 0xff.
 * Offsets are relative to hal_store_base(); ranges are checked by the caller. 0 = ok. */
uint8_t *hal_store_base(void);
uint32_t hal_store_bytes(void);
/* The erase unit (flash sector or page) holding offset: [*start, *end). RAM stores erase byte by byte. */
void hal_store_unit(uint32_t offset, uint32_t *start, uint32_t *end);
/* Erases every unit overlapping [offset, offset + len); *end = the offset just past the last one. */
int hal_store_erase(uint32_t offset, uint32_t len, uint32_t *end);
int hal_store_write(uint32_t offset, const uint8_t *data, uint32_t len);
int hal_store_flush(void);
uint32_t hal_store_word_bytes(void);

/* Static buffer for wasm linear memory. */
uint8_t *hal_wasm_memory(void);
uint32_t hal_wasm_memory_bytes(void);

#endif
