/* Clock bring-up steps shared by the STM32F4 and F7 clock trees (see rcc_f4f7.h). */
#include "rcc_f4f7.h"
#include "../hal.h"

#define CR_HSION (1u << 0)
#define CR_HSIRDY (1u << 1)
#define CR_HSEON (1u << 16)
#define CR_HSERDY (1u << 17)
#define CR_HSEBYP (1u << 18)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
/* M [5:0], N [14:6], P [17:16], source [22], Q [27:24]: what pll_start writes; the rest is kept. */
#define PLLCFGR_FIELDS 0x0f437fffu
/* SW [1:0], HPRE [7:4], PPRE1 [12:10], PPRE2 [15:13] */
#define CFGR_SWITCH_FIELDS 0xfcf3u
#define APB1_USART3 (1u << 18)

static int pll_start(uint32_t src_hz, int from_hse, uint32_t pll_n, uint32_t pll_q) {
  RCC_CR &= ~CR_PLLON;
  if (!stm32_wait(&RCC_CR, CR_PLLRDY, 0, STM32_CLOCK_SPINS)) return 0;
  RCC_PLLCFGR = (RCC_PLLCFGR & ~PLLCFGR_FIELDS) | (src_hz / RCC_F4F7_PLL_IN_HZ) | (pll_n << 6) | (from_hse ? 1u << 22 : 0u) | (pll_q << 24);
  RCC_CR |= CR_PLLON;
  return stm32_wait(&RCC_CR, CR_PLLRDY, CR_PLLRDY, STM32_CLOCK_SPINS);
}

int rcc_f4f7_pll_on(uint32_t pll_n, uint32_t pll_q, int *from_hse) {
  RCC_CR |= CR_HSION;
  stm32_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, STM32_CLOCK_SPINS); /* running from it already */
  RCC_CR |= CR_HSEBYP; /* bypass is set while the HSE is off, then the HSE goes on */
  RCC_CR |= CR_HSEON;
  int hse = stm32_wait(&RCC_CR, CR_HSERDY, CR_HSERDY, STM32_CLOCK_SPINS);
  if (!hse) RCC_CR &= ~(CR_HSEON | CR_HSEBYP);
  int pll = pll_start(hse ? RCC_F4F7_HSE_HZ : RCC_F4F7_HSI_HZ, hse, pll_n, pll_q);
  if (!pll && hse) pll = pll_start(RCC_F4F7_HSI_HZ, 0, pll_n, pll_q), hse = 0;
  *from_hse = hse;
  return pll;
}

int rcc_f4f7_use_pll(uint32_t prescalers) {
  RCC_CFGR = (RCC_CFGR & ~CFGR_SWITCH_FIELDS) | prescalers | 2u;
  if (stm32_wait(&RCC_CFGR, 0xcu, 0x8u, STM32_CLOCK_SPINS)) return 1;
  RCC_CFGR &= ~CFGR_SWITCH_FIELDS;
  return 0;
}

/* The VCP's GPIO port and USART3 (APB1) on both families. */
void stm32_vcp_power(uint32_t gpio_port) {
  RCC_AHB1ENR |= 1u << gpio_port;
  RCC_APB1ENR |= APB1_USART3;
  (void)RCC_APB1ENR; /* read back: the clock is on before the first register write */
}

uint32_t stm32_gpio_base(uint32_t port) { return 0x40020000u + 0x400u * port; }
