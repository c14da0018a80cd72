/* STM32H743 flash controller (RM0433, flash chapter): two banks of eight 128 KB sectors (bank 2 from
 * 0x08100000, each bank with its own KEYR/CR/SR/CCR 0x100 apart), programmed in 256-bit flash
 * words: with CR.PG set, eight 32-bit writes fill the write buffer and the word is programmed
 * when it is full (SR.QW clears when done). Erase parallelism x64 (PSIZE = 3) at 3.3 V. */
#include "../cortexm/cortexm.h"
#include "../stm32/stm32.h"
#include "../store-flash/flash_driver.h"

#define FLASH 0x52002000u
#define BANK2_START 0x08100000u
#define KEYR(b) REG32(FLASH + 0x04u + (b))
#define CR(b) REG32(FLASH + 0x0cu + (b))
#define SR(b) REG32(FLASH + 0x10u + (b))
#define CCR(b) REG32(FLASH + 0x14u + (b))
#define KEY1 0x45670123u
#define KEY2 0xcdef89abu
#define CR_LOCK (1u << 0)
#define CR_PG (1u << 1)
#define CR_SER (1u << 2)
#define CR_PSIZE_X64 (3u << 4)
#define CR_START (1u << 7)
#define SR_BSY (1u << 0)
#define SR_WBNE (1u << 1)
#define SR_QW (1u << 2)
#define SR_ERRORS 0x07ee0000u /* WRPERR, PGSERR, STRBERR, INCERR, OPERR, RDPERR, RDSERR, SNECCERR, DBECCERR */
#define SECTORS_PER_BANK 8u

static uint32_t bank_of(uint32_t addr) { return addr >= BANK2_START ? 0x100u : 0u; }

static int unlock(uint32_t b) {
  if (CR(b) & CR_LOCK) {
    KEYR(b) = KEY1;
    KEYR(b) = KEY2;
  }
  if (CR(b) & CR_LOCK) return -1;
  if (!stm32_wait(&SR(b), SR_BSY | SR_QW | SR_WBNE, 0, stm32_flash_spins())) return -2;
  CCR(b) = SR_ERRORS | (1u << 16); /* stale errors and EOP */
  return 0;
}

static int finish(uint32_t b) {
  int ok = stm32_wait(&SR(b), SR_BSY | SR_QW, 0, stm32_flash_spins());
  uint32_t errors = SR(b) & SR_ERRORS;
  CCR(b) = errors;
  CR(b) = CR_LOCK;
  if (!ok) return -3;
  return errors ? (int)(errors >> 16) : 0;
}

int flash_erase_unit(const flash_unit_t *u) {
  uint32_t b = bank_of(u->start);
  int err = unlock(b);
  if (err) return err;
  CR(b) = CR_SER | CR_PSIZE_X64 | ((u->index % SECTORS_PER_BANK) << 8);
  CR(b) |= CR_START;
  err = finish(b);
  cortexm7_dcache_invalidate(u->start, u->end - u->start);
  return err;
}

int flash_program_word(uint32_t addr, const uint8_t *word) {
  uint32_t b = bank_of(addr);
  int err = unlock(b);
  if (err) return err;
  CR(b) = CR_PG | CR_PSIZE_X64;
  for (uint32_t i = 0; i < 32u; i += 4u) {
    REG32(addr + i) = (uint32_t)word[i] | (uint32_t)word[i + 1] << 8 | (uint32_t)word[i + 2] << 16 | (uint32_t)word[i + 3] << 24;
  }
  __asm volatile("dsb" ::: "memory");
  err = finish(b);
  cortexm7_dcache_invalidate(addr, 32u);
  return err;
}

_Static_assert(TL_FLASH_WORD == 32, "H7 flash words are 256 bits: modelStore.wordBytes must be 32");
