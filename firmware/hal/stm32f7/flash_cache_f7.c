/* F7: flash is read through the Cortex-M7 D-cache (AXI at 0x08000000), so the lines of what was
 * erased or programmed are invalidated. */
#include "../stm32/stm32.h"

void flash_caches_sync(uint32_t addr, uint32_t len) { cortexm7_dcache_invalidate(addr, len); }
