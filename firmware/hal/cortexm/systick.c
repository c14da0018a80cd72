/* 64-bit tick counter from the 24-bit SysTick: the interrupt counts wraps. On QEMU with
 * -icount the count is deterministic; on silicon, DWT->CYCCNT is the better clock. */
#include "../hal.h"
#include "cortexm.h"

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
