/* STM32F746 clock tree (RM0385: RCC, PWR and flash chapters): 8 MHz HSE bypass (the ST-LINK's MCO on
 * the Nucleo) or the 16 MHz HSI -> PLL at 2 MHz in -> 432 MHz VCO -> /2 = 216 MHz. 216 MHz needs
 * voltage scale 1 with over-drive (PWR ODEN then ODSWEN, after the PLL locks) and 7 flash wait
 * states at 2.7-3.6 V. APB1 = 54 MHz (its maximum, /4), APB2 = 108 MHz (/2); USART3 is on APB1
 * (its clock selector DCKCFGR2.USART3SEL keeps its reset value, APB1). L1 caches on (cache_m7.c). */
#include "../hal.h"
#include "../stm32-rcc-f4f7/rcc_f4f7.h"

#define PWR_CR1 REG32(0x40007000u)
#define PWR_CSR1 REG32(0x40007004u)
#define PWR_VOS_SCALE1 (3u << 14)
#define PWR_ODEN (1u << 16)
#define PWR_ODSWEN (1u << 17)
#define PWR_ODRDY (1u << 16)
#define PWR_ODSWRDY (1u << 17)
#define FLASH_ACR REG32(0x40023c00u)
#define ACR_PRFTEN (1u << 8)
#define ACR_ARTEN (1u << 9)
#define WAIT_STATES 7u

#define PLL_N 216u /* VCO 432 MHz, the top of 100-432 */
#define PLL_Q 9u /* 48 MHz */
#define SYSCLK_HZ (RCC_F4F7_PLL_IN_HZ * PLL_N / 2u)

/* Over-drive is what lets scale 1 reach 216 MHz; without it the part stays at HSI. */
static int overdrive_on(void) {
  PWR_CR1 |= PWR_ODEN;
  if (!stm32_wait(&PWR_CSR1, PWR_ODRDY, PWR_ODRDY, STM32_CLOCK_SPINS)) return 0;
  PWR_CR1 |= PWR_ODSWEN;
  return stm32_wait(&PWR_CSR1, PWR_ODSWRDY, PWR_ODSWRDY, STM32_CLOCK_SPINS);
}

void stm32_clock_init(stm32_clock_t *out) {
  cortexm7_caches_on();
  RCC_APB1ENR |= APB1_PWR;
  (void)RCC_APB1ENR;
  PWR_CR1 = (PWR_CR1 & ~(3u << 14)) | PWR_VOS_SCALE1;
  int hse;
  int pll = rcc_f4f7_pll_on(PLL_N, PLL_Q, &hse);
  if (pll) pll = overdrive_on();
  out->source = pll ? (hse ? HAL_CLOCK_EXTERNAL : HAL_CLOCK_INTERNAL) : HAL_CLOCK_RC_ONLY;
  out->sysclk_hz = out->uart_hz = RCC_F4F7_HSI_HZ;
  if (!pll) return;
  FLASH_ACR = WAIT_STATES | ACR_PRFTEN | ACR_ARTEN; /* wait states before the clock rises */
  stm32_wait(&FLASH_ACR, 0xfu, WAIT_STATES, STM32_CLOCK_SPINS);
  /* HPRE = /1, PPRE1 [12:10] = /4, PPRE2 [15:13] = /2 */
  if (!rcc_f4f7_use_pll((5u << 10) | (4u << 13))) {
    out->source = HAL_CLOCK_RC_ONLY;
    return;
  }
  out->sysclk_hz = SYSCLK_HZ;
  out->uart_hz = SYSCLK_HZ / 4u;
}

_Static_assert(SYSCLK_HZ == TL_CLOCK_HZ, "boards/nucleo-f746zg.json clockHz must be the 216 MHz this clock tree makes");
_Static_assert(TL_UART_BASE == 0x40004800u, "this HAL clocks USART3 (the Nucleo's VCP); the board JSON names another UART");
