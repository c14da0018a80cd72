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

#endif
