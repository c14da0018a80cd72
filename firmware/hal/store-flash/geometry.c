/* The part's flash layout, from the board JSON's modelStore.units and wordBytes (build.ts passes
 * them as -DTL_FLASH_RUNS="{count,bytes},..." and -DTL_FLASH_WORD), so the facts live in one
 * place and the linker script starts the store on the same boundaries. */
#include "flash_driver.h"

#if !defined(TL_FLASH_RUNS) || !defined(TL_FLASH_WORD) || !defined(TL_FLASH_ORIGIN)
#error "the flash store needs modelStore.units and modelStore.wordBytes in the board JSON"
#endif

static const flash_run_t g_runs[] = { TL_FLASH_RUNS };
static const flash_geom_t g_geom = {
  TL_FLASH_ORIGIN, g_runs, sizeof g_runs / sizeof g_runs[0], TL_FLASH_WORD,
};

const flash_geom_t *flash_geometry(void) { return &g_geom; }
