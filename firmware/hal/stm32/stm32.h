/* What the shared STM32 code (hal_init, GPIO, timer, flash store) needs from one family's files
 * (hal/stm32f4, stm32f7, stm32h7, stm32l4). Register addresses are facts from each family's
 * reference manual; the code is ours. */
#ifndef TL_STM32_H
#define TL_STM32_H
#include <stdint.h>

#include "../cortexm/cortexm.h"

typedef struct {
  uint32_t sysclk_hz; /* core clock reached */
  uint32_t uart_hz;   /* the VCP UART's kernel clock */
  uint32_t source;    /* HAL_CLOCK_* (hal.h) */
} stm32_clock_t;

/* Sets up the clock tree for the board's TL_CLOCK_HZ. Never hangs: every wait is bounded and
 * a clock that does not start falls back (external -> internal RC -> RC without PLL). */
void stm32_clock_init(stm32_clock_t *out);
/* Turns on the clocks of the VCP UART and its GPIO port (and whatever else the pins need). */
void stm32_vcp_power(uint32_t gpio_port);
/* Base address of GPIO port 0 = A, 1 = B, ... */
uint32_t stm32_gpio_base(uint32_t port);

/* Polls until (REG & mask) == want or about `spins` reads have passed; 1 = reached. */
int stm32_wait(volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t spins);

/* Bound of the clock waits, in polling reads: oscillators and PLLs start in microseconds to a
 * few milliseconds; this is well above that even at 480 MHz, and under a second at 16 MHz. */
#define STM32_CLOCK_SPINS 2000000u
/* Bound of a flash erase or program wait, scaled to the clock reached: at least 8 s (a poll
 * takes 2 cycles or more), above the slowest sector erase (seconds for the F7/H7's 128-256 KB
 * sectors), yet a dead flash controller costs seconds, not forever. */
uint32_t stm32_flash_spins(void);

/* The F4/F7 and L4 flash controllers: KEYR, SR and CR at family addresses, the same key
 * sequence, LOCK bit, BSY flag and write-1-to-clear error flags (with EOP at bit 0). */
typedef struct {
  volatile uint32_t *keyr, *sr, *cr;
  uint32_t lock, busy, errors;
} stm32_flash_regs_t;
/* Unlocks CR and clears stale flags once the controller is idle; nonzero if it stays locked or busy. */
int stm32_flash_unlock(const stm32_flash_regs_t *r);
/* Waits for the operation, then clears the mode bits and locks; nonzero on an error flag or timeout. */
int stm32_flash_finish(const stm32_flash_regs_t *r);

#endif
