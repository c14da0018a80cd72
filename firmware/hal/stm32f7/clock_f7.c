/* STM32F746 clock tree (RM0385: RCC, PWR and flash chapters): 8 MHz HSE bypass (the ST-LINK's MCO on
 * the Nucleo) or the 16 MHz HSI -> PLL at 2 MHz in -> 432 MHz VCO -> /2 = 216 MHz. 216 MHz needs
 * voltage scale 1 with over-drive (PWR ODEN then ODSWEN, after the PLL locks) and 7 flash wait
 * states at 2.7-3.6 V. APB1 = 54 MHz (its maximum, /4), APB2 = 108 MHz (/2); USART3 is on APB1
 * (its clock selector DCKCFGR2.USART3SEL keeps its reset value, APB1). L1 caches on (cache_m7.c). */
#include "../hal.h"
#include "../stm32/stm32.h"

#define RCC 0x40023800u
#define RCC_CR REG32(RCC + 0x00u)
#define RCC_PLLCFGR REG32(RCC + 0x04u)
#define RCC_CFGR REG32(RCC + 0x08u)
#define RCC_AHB1ENR REG32(RCC + 0x30u)
#define RCC_APB1ENR REG32(RCC + 0x40u)
#define CR_HSION (1u << 0)
#define CR_HSIRDY (1u << 1)
#define CR_HSEON (1u << 16)
#define CR_HSERDY (1u << 17)
#define CR_HSEBYP (1u << 18)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
#define PLLCFGR_FIELDS 0x0f437fffu
#define APB1_USART3 (1u << 18)
#define APB1_PWR (1u << 28)
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

#define HSI_HZ 16000000u
#define HSE_HZ 8000000u
#define PLL_IN_HZ 2000000u
#define PLL_N 216u /* VCO 432 MHz, the top of 100-432 */
#define SYSCLK_HZ (PLL_IN_HZ * PLL_N / 2u)


static int pll_start(uint32_t src_hz, int from_hse) {
  RCC_CR &= ~CR_PLLON;
  if (!stm32_wait(&RCC_CR, CR_PLLRDY, 0, STM32_CLOCK_SPINS)) return 0;
  /* M [5:0], N [14:6], P [17:16] = 0 (/2), source bit 22, Q [27:24] = 9 (48 MHz); reserved bits kept */
  RCC_PLLCFGR = (RCC_PLLCFGR & ~PLLCFGR_FIELDS) | (src_hz / PLL_IN_HZ) | (PLL_N << 6) | (from_hse ? 1u << 22 : 0u) | (9u << 24);
  RCC_CR |= CR_PLLON;
  return stm32_wait(&RCC_CR, CR_PLLRDY, CR_PLLRDY, STM32_CLOCK_SPINS);
}

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
  RCC_CR |= CR_HSION;
  stm32_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, STM32_CLOCK_SPINS);
  RCC_CR |= CR_HSEBYP; /* bypass is set while the HSE is off, then the HSE goes on */
  RCC_CR |= CR_HSEON;
  int hse = stm32_wait(&RCC_CR, CR_HSERDY, CR_HSERDY, STM32_CLOCK_SPINS);
  if (!hse) RCC_CR &= ~(CR_HSEON | CR_HSEBYP);
  int pll = pll_start(hse ? HSE_HZ : HSI_HZ, hse);
  if (!pll && hse) pll = pll_start(HSI_HZ, 0), hse = 0;
  if (pll) pll = overdrive_on();
  out->source = pll ? (hse ? HAL_CLOCK_EXTERNAL : HAL_CLOCK_INTERNAL) : HAL_CLOCK_RC_ONLY;
  out->sysclk_hz = out->uart_hz = HSI_HZ;
  if (!pll) return;
  FLASH_ACR = WAIT_STATES | ACR_PRFTEN | ACR_ARTEN; /* wait states before the clock rises */
  stm32_wait(&FLASH_ACR, 0xfu, WAIT_STATES, STM32_CLOCK_SPINS);
  /* SW [1:0] = PLL, HPRE [7:4] = /1, PPRE1 [12:10] = /4, PPRE2 [15:13] = /2 */
  RCC_CFGR = (RCC_CFGR & ~0xfcf3u) | (5u << 10) | (4u << 13) | 2u;
  if (!stm32_wait(&RCC_CFGR, 0xcu, 0x8u, STM32_CLOCK_SPINS)) {
    RCC_CFGR &= ~0xfcf3u; /* back to HSI with no prescalers, so uart_hz stays true */
    out->source = HAL_CLOCK_RC_ONLY;
    return;
  }
  out->sysclk_hz = SYSCLK_HZ;
  out->uart_hz = SYSCLK_HZ / 4u;
}

void stm32_vcp_power(uint32_t gpio_port) {
  RCC_AHB1ENR |= 1u << gpio_port;
  RCC_APB1ENR |= APB1_USART3;
  (void)RCC_APB1ENR; /* read back: the clock is on before the first register write */
}

uint32_t stm32_gpio_base(uint32_t port) { return 0x40020000u + 0x400u * port; }

_Static_assert(SYSCLK_HZ == TL_CLOCK_HZ, "boards/nucleo-f746zg.json clockHz must be the 216 MHz this clock tree makes");
_Static_assert(TL_UART_BASE == 0x40004800u, "this HAL clocks USART3 (the Nucleo's VCP); the board JSON names another UART");
