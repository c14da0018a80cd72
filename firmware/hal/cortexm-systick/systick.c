/* 64-bit tick counter from the 24-bit SysTick: the interrupt counts wraps. On QEMU with
 * -icount the count is deterministic; real parts use DWT->CYCCNT instead (stm32/dwt.c).
 * The virtual boards' clock is the board JSON's, fixed at build time. */
#include "../hal.h"
#include "../cortexm/cortexm.h"

#ifndef TL_CLOCK_HZ
#define TL_CLOCK_HZ 0u
#endif
#ifndef TL_TIMER_HZ
#define TL_TIMER_HZ 0u
#endif

#define SYST_MAX 0xffffffu
static volatile uint32_t g_wraps;

void SysTick_Handler(void) { g_wraps++; }

void systick_start(void) {
  SYST_RVR = SYST_MAX;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* processor clock, interrupt on wrap, enable */
}

uint64_t hal_timer_ticks(void) {
  uint32_t w, v;
  /* Re-read if a wrap was counted in between, so the pair is consistent. */
  do {
    w = g_wraps;
    v = SYST_CVR;
  } while (w != g_wraps);
  return ((uint64_t)w << 24) + (SYST_MAX - v);
}

uint32_t hal_clock_hz(void) { return TL_CLOCK_HZ; }
uint32_t hal_timer_hz(void) { return TL_TIMER_HZ; }
uint32_t hal_clock_source(void) { return HAL_CLOCK_FIXED; }
