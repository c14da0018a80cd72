/* One flash controller (hal/stm32-flash-f4f7, hal/stm32h7, hal/stm32l4): its geometry, and the
 * two operations the store needs. Both unlock, run, wait with a bound, check the error flags,
 * lock again, and make the CPU's view of the changed range fresh (caches). 0 = ok. */
#ifndef TL_FLASH_DRIVER_H
#define TL_FLASH_DRIVER_H
#include <stdint.h>

#include "flash_layout.h"

const flash_geom_t *flash_geometry(void);
int flash_erase_unit(const flash_unit_t *u);
/* Programs one word of flash_geometry()->word_bytes at addr (aligned, erased). */
int flash_program_word(uint32_t addr, const uint8_t *word);

#endif
