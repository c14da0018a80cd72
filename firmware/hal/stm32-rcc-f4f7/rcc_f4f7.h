/* The RCC of the STM32F4 and F7 (RM0402 / RM0385, "Reset and clock control"): the same registers
 * at the same addresses, so both clock trees share their bring-up steps here and keep only what
 * differs (PLL factors, voltage scaling, over-drive, flash wait states, bus prescalers). */
#ifndef TL_RCC_F4F7_H
#define TL_RCC_F4F7_H
#include <stdint.h>
#include "../stm32/stm32.h"

#define RCC_F4F7 0x40023800u
#define RCC_CR REG32(RCC_F4F7 + 0x00u)
#define RCC_PLLCFGR REG32(RCC_F4F7 + 0x04u)
#define RCC_CFGR REG32(RCC_F4F7 + 0x08u)
#define RCC_AHB1ENR REG32(RCC_F4F7 + 0x30u)
#define RCC_APB1ENR REG32(RCC_F4F7 + 0x40u)
#define APB1_PWR (1u << 28)

#define RCC_F4F7_HSI_HZ 16000000u
#define RCC_F4F7_HSE_HZ 8000000u
/* The PLL's input after its M divider: 2 MHz, what RM0402/RM0385 recommend against jitter. */
#define RCC_F4F7_PLL_IN_HZ 2000000u

/* HSI on, then the ST-LINK's 8 MHz (HSE bypass) if it answers, then the PLL from it (or from the
 * HSI when the HSE or the PLL on it fails): N multiplies the 2 MHz input, P = /2, Q as given.
 * Returns whether the PLL locked; *from_hse says on which source. Every wait is bounded. */
int rcc_f4f7_pll_on(uint32_t pll_n, uint32_t pll_q, int *from_hse);

/* Switches SYSCLK to the PLL with `prescalers` (CFGR HPRE/PPRE1/PPRE2 bits); on a timeout goes
 * back to the HSI without prescalers, so the UART clock the caller reports stays true. */
int rcc_f4f7_use_pll(uint32_t prescalers);

#endif
