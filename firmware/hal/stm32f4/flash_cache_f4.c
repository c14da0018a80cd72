/* F4: the flash interface's ART data cache may hold words of a sector that was just erased or
 * programmed; it can only be reset while disabled (RM0402, flash ART accelerator: FLASH_ACR DCRST). */
#include "../stm32/stm32.h"

#define FLASH_ACR REG32(0x40023c00u)
#define ACR_DCEN (1u << 10)
#define ACR_DCRST (1u << 12)

void flash_caches_sync(uint32_t addr, uint32_t len) {
  (void)addr, (void)len;
  uint32_t on = FLASH_ACR & ACR_DCEN;
  FLASH_ACR &= ~ACR_DCEN;
  FLASH_ACR |= ACR_DCRST;
  FLASH_ACR &= ~ACR_DCRST;
  FLASH_ACR |= on;
}
