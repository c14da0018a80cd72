/* STM32L4R5 flash controller (RM0432, flash chapter): page erase (CR.PER, page in PNB [10:3], bank in BKER)
 * and programming by 64-bit double words (two 32-bit writes with CR.PG set). The store assumes
 * the dual-bank option (FLASH_OPTR.DBANK = 1): two banks of 256 pages of 4 KB, bank 2 from 0x08100000. In
 * single-bank mode pages are 8 KB; erasing is then refused rather than erasing the wrong range. */
#include "../cortexm/cortexm.h"
#include "../stm32/stm32.h"
#include "../store-flash/flash_driver.h"

#define FLASH 0x40022000u
#define FLASH_ACR REG32(FLASH + 0x00u)
#define FLASH_KEYR REG32(FLASH + 0x08u)
#define FLASH_SR REG32(FLASH + 0x10u)
#define FLASH_CR REG32(FLASH + 0x14u)
#define FLASH_OPTR REG32(FLASH + 0x20u)
#define CR_PG (1u << 0)
#define CR_PER (1u << 1)
#define CR_BKER (1u << 11)
#define CR_STRT (1u << 16)
#define CR_LOCK (1u << 31)
#define SR_BSY (1u << 16)
#define SR_ERRORS 0xc3fau /* OPERR, PROGERR, WRPERR, PGAERR, SIZERR, PGSERR, MISERR, FASTERR, RDERR, OPTVERR */
#define OPTR_DBANK (1u << 22)
#define ACR_DCEN (1u << 10)
#define ACR_DCRST (1u << 12)
#define BANK2_START 0x08100000u
#define PAGE_BYTES 4096u
#define ERR_SINGLE_BANK (-10)

static const stm32_flash_regs_t REGS = { &FLASH_KEYR, &FLASH_SR, &FLASH_CR, CR_LOCK, SR_BSY, SR_ERRORS };
static int unlock(void) { return stm32_flash_unlock(&REGS); }
static int finish(void) { return stm32_flash_finish(&REGS); }

/* The flash data cache may hold words of the changed page; it resets only while disabled. */
static void data_cache_reset(void) {
  uint32_t on = FLASH_ACR & ACR_DCEN;
  FLASH_ACR &= ~ACR_DCEN;
  FLASH_ACR |= ACR_DCRST;
  FLASH_ACR &= ~ACR_DCRST;
  FLASH_ACR |= on;
}

int flash_erase_unit(const flash_unit_t *u) {
  if (!(FLASH_OPTR & OPTR_DBANK) || u->end - u->start != PAGE_BYTES) return ERR_SINGLE_BANK;
  int err = unlock();
  if (err) return err;
  uint32_t bank2 = u->start >= BANK2_START;
  uint32_t page = (u->start - (bank2 ? BANK2_START : 0x08000000u)) / PAGE_BYTES;
  FLASH_CR = CR_PER | (page << 3) | (bank2 ? CR_BKER : 0u);
  FLASH_CR |= CR_STRT;
  err = finish();
  data_cache_reset();
  return err;
}

int flash_program_word(uint32_t addr, const uint8_t *word) {
  int err = unlock();
  if (err) return err;
  FLASH_CR = CR_PG;
  for (uint32_t i = 0; i < 8u; i += 4u) {
    REG32(addr + i) = (uint32_t)word[i] | (uint32_t)word[i + 1] << 8 | (uint32_t)word[i + 2] << 16 | (uint32_t)word[i + 3] << 24;
  }
  err = finish();
  data_cache_reset();
  return err;
}

_Static_assert(TL_FLASH_WORD == 8, "L4 flash is programmed in 64-bit double words: modelStore.wordBytes must be 8");
