/* The few Cortex-M system registers the firmware touches (architectural, same on every core). */
#ifndef TL_CORTEXM_H
#define TL_CORTEXM_H
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))
#define CPACR REG32(0xe000ed88u)
#define SYST_CSR REG32(0xe000e010u)
#define SYST_RVR REG32(0xe000e014u)
#define SYST_CVR REG32(0xe000e018u)

void systick_start(void);

/* Sleeps in WFI until interrupt `irq` is pending, unless ready() already holds. The IRQ is only
 * ever used to wake the core: it is enabled in the NVIC just for the WFI and its pending bit
 * cleared after, so no handler runs (and no vector entry is needed). */
void cortexm_sleep_until_irq(uint32_t irq, int (*ready)(void));

/* Cortex-M7 only (cache_m7.c): I- and D-cache on; invalidate the D-cache lines of a range that
 * changed behind the cache (flash erased or programmed). */
void cortexm7_caches_on(void);
void cortexm7_dcache_invalidate(uintptr_t addr, uint32_t len);

#endif
