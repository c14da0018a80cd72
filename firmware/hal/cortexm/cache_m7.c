/* Cortex-M7 L1 caches (ARMv7-M architecture manual, "cache maintenance operations"; Cortex-M7
 * TRM for CCSIDR). Code and model weights are read from flash over AXI, where each miss costs
 * the flash wait states (7 on the F746 at 216 MHz), so both caches go on at boot. Flash is only
 * written by its controller, never through the cache, so the one maintenance needed afterwards
 * is invalidating the lines of what was erased or programmed. Unused (and dropped) on M4 builds. */
#include "cortexm.h"

#define CCR REG32(0xe000ed14u)
#define CCR_DC (1u << 16)
#define CCR_IC (1u << 17)
#define CCSIDR REG32(0xe000ed80u)
#define CSSELR REG32(0xe000ed84u)
#define ICIALLU REG32(0xe000ef50u)
#define DCIMVAC REG32(0xe000ef5cu)
#define DCISW REG32(0xe000ef60u)
#define LINE 32u

static inline void barrier(void) { __asm volatile("dsb\n isb" ::: "memory"); }

void cortexm7_caches_on(void) {
  if (CCR & CCR_IC) return; /* already on (a debugger reset keeps it) */
  barrier();
  ICIALLU = 0;
  barrier();
  CCR |= CCR_IC;
  barrier();
  /* The D-cache holds garbage after reset: invalidate every set and way before enabling it. */
  CSSELR = 0; /* level 1 data cache */
  barrier();
  uint32_t id = CCSIDR;
  uint32_t sets = ((id >> 13) & 0x7fffu) + 1u, ways = ((id >> 3) & 0x3ffu) + 1u;
  uint32_t way_shift = (uint32_t)__builtin_clz(ways - 1u); /* ways = 4 on the M7: shift 30 */
  for (uint32_t s = 0; s < sets; s++)
    for (uint32_t w = 0; w < ways; w++) DCISW = (w << way_shift) | (s << 5); /* 32-byte lines */
  barrier();
  CCR |= CCR_DC;
  barrier();
}

void cortexm7_dcache_invalidate(uintptr_t addr, uint32_t len) {
  if (!(CCR & CCR_DC) || len == 0) return;
  barrier();
  for (uintptr_t a = addr & ~(uintptr_t)(LINE - 1u); a < addr + len; a += LINE) DCIMVAC = (uint32_t)a;
  barrier();
}
