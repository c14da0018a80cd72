/* STM32F412 clock tree (RM0402: RCC, PWR and flash chapters): 8 MHz HSE bypass (the ST-LINK's MCO on the
 * Nucleo) or the 16 MHz HSI -> PLL at 2 MHz in -> 200 MHz VCO -> /2 = 100 MHz, voltage scale 1,
 * 3 flash wait states at 2.7-3.6 V, APB1 = 50 MHz (its maximum), APB2 = 100 MHz. USART3 is on APB1. */
#include "../hal.h"
#include "../stm32-rcc-f4f7/rcc_f4f7.h"

#define PWR_CR REG32(0x40007000u)
#define PWR_VOS_SCALE1 (3u << 14)
#define FLASH_ACR REG32(0x40023c00u)
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN (1u << 9)
#define ACR_DCEN (1u << 10)

#define PLL_N 100u /* VCO 200 MHz (100-432 allowed) */
#define PLL_Q 4u
#define SYSCLK_HZ (RCC_F4F7_PLL_IN_HZ * PLL_N / 2u)

void stm32_clock_init(stm32_clock_t *out) {
  RCC_APB1ENR |= APB1_PWR;
  (void)RCC_APB1ENR; /* read back: PWR is clocked before its first access */
  PWR_CR |= PWR_VOS_SCALE1; /* takes effect when the PLL starts */
  int hse;
  int pll = rcc_f4f7_pll_on(PLL_N, PLL_Q, &hse);
  out->source = pll ? (hse ? HAL_CLOCK_EXTERNAL : HAL_CLOCK_INTERNAL) : HAL_CLOCK_RC_ONLY;
  out->sysclk_hz = out->uart_hz = RCC_F4F7_HSI_HZ;
  if (!pll) return;
  FLASH_ACR = 3u | ACR_PRFTEN | ACR_ICEN | ACR_DCEN; /* wait states before the clock rises */
  stm32_wait(&FLASH_ACR, 0xfu, 3u, STM32_CLOCK_SPINS);
  /* HPRE = /1, PPRE1 [12:10] = /2, PPRE2 = /1 */
  if (!rcc_f4f7_use_pll(4u << 10)) {
    out->source = HAL_CLOCK_RC_ONLY;
    return;
  }
  out->sysclk_hz = SYSCLK_HZ;
  out->uart_hz = SYSCLK_HZ / 2u;
}

_Static_assert(SYSCLK_HZ == TL_CLOCK_HZ, "boards/nucleo-f412zg.json clockHz must be the 100 MHz this clock tree makes");
_Static_assert(TL_UART_BASE == 0x40004800u, "this HAL clocks USART3 (the Nucleo's VCP); the board JSON names another UART");
