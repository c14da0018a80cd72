/* STM32F412 clock tree (RM0402: RCC, PWR and flash chapters): 8 MHz HSE bypass (the ST-LINK's MCO on the
 * Nucleo) or the 16 MHz HSI -> PLL at 2 MHz in -> 200 MHz VCO -> /2 = 100 MHz, voltage scale 1,
 * 3 flash wait states at 2.7-3.6 V, APB1 = 50 MHz (its maximum), APB2 = 100 MHz. USART3 is on APB1. */
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
#define PWR_CR REG32(0x40007000u)
#define PWR_VOS_SCALE1 (3u << 14)
#define FLASH_ACR REG32(0x40023c00u)
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN (1u << 9)
#define ACR_DCEN (1u << 10)

#define HSI_HZ 16000000u
#define HSE_HZ 8000000u
#define PLL_IN_HZ 2000000u
#define PLL_N 100u /* VCO 200 MHz (100-432 allowed) */
#define SYSCLK_HZ (PLL_IN_HZ * PLL_N / 2u)

static int pll_start(uint32_t src_hz, int from_hse) {
  RCC_CR &= ~CR_PLLON;
  if (!stm32_wait(&RCC_CR, CR_PLLRDY, 0, STM32_CLOCK_SPINS)) return 0;
  /* M [5:0], N [14:6], P [17:16] = 0 (/2), source bit 22, Q [27:24] = 4; R and reserved bits kept */
  RCC_PLLCFGR = (RCC_PLLCFGR & ~PLLCFGR_FIELDS) | (src_hz / PLL_IN_HZ) | (PLL_N << 6) | (from_hse ? 1u << 22 : 0u) | (4u << 24);
  RCC_CR |= CR_PLLON;
  return stm32_wait(&RCC_CR, CR_PLLRDY, CR_PLLRDY, STM32_CLOCK_SPINS);
}

void stm32_clock_init(stm32_clock_t *out) {
  RCC_APB1ENR |= APB1_PWR;
  (void)RCC_APB1ENR; /* read back: PWR is clocked before its first access */
  PWR_CR |= PWR_VOS_SCALE1; /* takes effect when the PLL starts */
  RCC_CR |= CR_HSION;
  stm32_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, STM32_CLOCK_SPINS); /* running from it already */
  RCC_CR |= CR_HSEBYP; /* bypass is set while the HSE is off, then the HSE goes on */
  RCC_CR |= CR_HSEON;
  int hse = stm32_wait(&RCC_CR, CR_HSERDY, CR_HSERDY, STM32_CLOCK_SPINS);
  if (!hse) RCC_CR &= ~(CR_HSEON | CR_HSEBYP);
  int pll = pll_start(hse ? HSE_HZ : HSI_HZ, hse);
  if (!pll && hse) pll = pll_start(HSI_HZ, 0), hse = 0;
  out->source = pll ? (hse ? HAL_CLOCK_EXTERNAL : HAL_CLOCK_INTERNAL) : HAL_CLOCK_RC_ONLY;
  if (!pll) {
    out->sysclk_hz = out->uart_hz = HSI_HZ;
    return;
  }
  FLASH_ACR = 3u | ACR_PRFTEN | ACR_ICEN | ACR_DCEN; /* wait states before the clock rises */
  stm32_wait(&FLASH_ACR, 0xfu, 3u, STM32_CLOCK_SPINS);
  /* SW [1:0] = PLL, HPRE [7:4] = /1, PPRE1 [12:10] = /2, PPRE2 [15:13] = /1 */
  RCC_CFGR = (RCC_CFGR & ~0xfcf3u) | (4u << 10) | 2u;
  if (!stm32_wait(&RCC_CFGR, 0xcu, 0x8u, STM32_CLOCK_SPINS)) {
    RCC_CFGR &= ~0xfcf3u; /* back to HSI with no prescalers, so uart_hz stays true */
    out->source = HAL_CLOCK_RC_ONLY;
    out->sysclk_hz = out->uart_hz = HSI_HZ;
    return;
  }
  out->sysclk_hz = SYSCLK_HZ;
  out->uart_hz = SYSCLK_HZ / 2u;
}

void stm32_vcp_power(uint32_t gpio_port) {
  RCC_AHB1ENR |= 1u << gpio_port;
  RCC_APB1ENR |= APB1_USART3;
  (void)RCC_APB1ENR; /* read back: the clock is on before the first register write */
}

uint32_t stm32_gpio_base(uint32_t port) { return 0x40020000u + 0x400u * port; }

_Static_assert(SYSCLK_HZ == TL_CLOCK_HZ, "boards/nucleo-f412zg.json clockHz must be the 100 MHz this clock tree makes");
_Static_assert(TL_UART_BASE == 0x40004800u, "this HAL clocks USART3 (the Nucleo's VCP); the board JSON names another UART");
