/* Flash controller of the F4 and F7 (RM0402, RM0385 flash chapters; same registers at 0x40023c00):
 * sector erase (CR.SER with the sector number in SNB [6:3]) and programming with 32-bit
 * parallelism (PSIZE = x32, right for the Nucleo's 3.3 V). Sectors are numbered from 0 at the
 * flash origin on these single-bank parts, so the unit index is the sector number. After each
 * operation the family drops the stale copies its caches may hold (flash_caches_sync). */
#include "../cortexm/cortexm.h"
#include "../stm32/stm32.h"
#include "../store-flash/flash_driver.h"

#define FLASH 0x40023c00u
#define FLASH_KEYR REG32(FLASH + 0x04u)
#define FLASH_SR REG32(FLASH + 0x0cu)
#define FLASH_CR REG32(FLASH + 0x10u)
#define CR_PG (1u << 0)
#define CR_SER (1u << 1)
#define CR_PSIZE_X32 (2u << 8)
#define CR_STRT (1u << 16)
#define CR_LOCK (1u << 31)
#define SR_BSY (1u << 16)
#define SR_ERRORS 0x1f2u /* OPERR, WRPERR, PGAERR, PGPERR, PGSERR/ERSERR, RDERR: write 1 to clear */

void flash_caches_sync(uint32_t addr, uint32_t len); /* per family */

static const stm32_flash_regs_t REGS = { &FLASH_KEYR, &FLASH_SR, &FLASH_CR, CR_LOCK, SR_BSY, SR_ERRORS };
static int unlock(void) { return stm32_flash_unlock(&REGS); }
static int finish(void) { return stm32_flash_finish(&REGS); }

int flash_erase_unit(const flash_unit_t *u) {
  int err = unlock();
  if (err) return err;
  FLASH_CR = CR_SER | CR_PSIZE_X32 | (u->index << 3);
  FLASH_CR |= CR_STRT;
  err = finish();
  flash_caches_sync(u->start, u->end - u->start);
  return err;
}

int flash_program_word(uint32_t addr, const uint8_t *word) {
  int err = unlock();
  if (err) return err;
  FLASH_CR = CR_PG | CR_PSIZE_X32;
  uint32_t v = (uint32_t)word[0] | (uint32_t)word[1] << 8 | (uint32_t)word[2] << 16 | (uint32_t)word[3] << 24;
  REG32(addr) = v;
  __asm volatile("dsb" ::: "memory");
  err = finish();
  flash_caches_sync(addr, 4u);
  return err;
}

_Static_assert(TL_FLASH_WORD == 4, "F4/F7 flash is programmed 32 bits at a time here: modelStore.wordBytes must be 4");
