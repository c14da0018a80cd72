/* Race-free idle: with PRIMASK set, an interrupt that becomes pending after the ready() check
 * still ends the WFI, so a byte arriving at the wrong moment cannot be slept through. */
#include "cortexm.h"

#define NVIC_ISER(n) REG32(0xe000e100u + 4u * (n))
#define NVIC_ICER(n) REG32(0xe000e180u + 4u * (n))
#define NVIC_ICPR(n) REG32(0xe000e280u + 4u * (n))

void cortexm_sleep_until_irq(uint32_t irq, int (*ready)(void)) {
  uint32_t word = irq >> 5, bit = 1u << (irq & 31u);
  __asm volatile("cpsid i" ::: "memory");
  if (!ready()) {
    NVIC_ISER(word) = bit;
    __asm volatile("dsb\n wfi" ::: "memory");
    NVIC_ICER(word) = bit;
    NVIC_ICPR(word) = bit;
  }
  __asm volatile("cpsie i" ::: "memory"); /* a pending SysTick runs here */
}
