/* Timer from the DWT cycle counter (architectural on Cortex-M3/M4/M7; QEMU does not model it).
 * CYCCNT is 32 bits and wraps every 2^32 cycles (9 s at 480 MHz), so SysTick interrupts every
 * 2^24 cycles to notice each wrap: the 64-bit count stays right however long an inference runs. */
#include "../hal.h"
#include "stm32.h"

#define DEMCR REG32(0xe000edfcu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG32(0xe0001000u)
#define DWT_CYCCNT REG32(0xe0001004u)
#define DWT_LAR REG32(0xe0001fb0u) /* Cortex-M7: the DWT is write-locked until this key is written */
#define DWT_LAR_KEY 0xc5acce55u
#define CPUID REG32(0xe000ed00u)
#define CPUID_PARTNO_M7 0xc27u
#define SYST_MAX 0xffffffu

static volatile uint32_t g_high, g_last;

/* Called with interrupts masked (or from the SysTick handler, which nothing preempts here). */
static uint64_t extend(void) {
  uint32_t now = DWT_CYCCNT;
  if (now < g_last) g_high++;
  g_last = now;
  return ((uint64_t)g_high << 32) | now;
}

void SysTick_Handler(void) { extend(); }

void dwt_start(void) {
  DEMCR |= DEMCR_TRCENA;
  if (((CPUID >> 4) & 0xfffu) == CPUID_PARTNO_M7) DWT_LAR = DWT_LAR_KEY; /* the M4 has no LAR */
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u; /* CYCCNTENA */
  SYST_RVR = SYST_MAX;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* processor clock, interrupt on wrap, enable */
}

uint64_t hal_timer_ticks(void) {
  uint32_t primask;
  __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
  uint64_t t = extend();
  __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
  return t;
}
