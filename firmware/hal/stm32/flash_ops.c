/* Unlock and finish of the flash controllers that share them (see stm32.h): the F4/F7 and L4. */
#include "stm32.h"

#define KEY1 0x45670123u
#define KEY2 0xcdef89abu

int stm32_flash_unlock(const stm32_flash_regs_t *r) {
  if (*r->cr & r->lock) {
    *r->keyr = KEY1;
    *r->keyr = KEY2;
  }
  if (*r->cr & r->lock) return -1;
  if (!stm32_wait(r->sr, r->busy, 0, stm32_flash_spins())) return -2;
  *r->sr = r->errors | 1u; /* stale errors and EOP */
  return 0;
}

int stm32_flash_finish(const stm32_flash_regs_t *r) {
  int ok = stm32_wait(r->sr, r->busy, 0, stm32_flash_spins());
  uint32_t errors = *r->sr & r->errors;
  *r->cr = r->lock;
  if (!ok) return -3;
  return errors ? (int)errors : 0;
}
