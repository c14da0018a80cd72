/* STM32L4R5 clock tree (RM0432: RCC, PWR and flash chapters). The part boots on MSI at 4 MHz; this
 * runs the 16 MHz HSI (internal, so no dependence on how the Nucleo's ST-LINK MCO solder bridges
 * are set) -> PLL (M = 1, N = 15: VCO 240 MHz) -> R /2 = 120 MHz. Above 80 MHz the part needs
 * range 1 boost mode (PWR_CR5.R1MODE = 0), entered with the AHB at /2 for at least 1 us across
 * the switch, and 5 flash wait states. APB1 = 120 MHz feeds LPUART1 (CCIPR.LPUART1SEL = PCLK1). */
#include "../hal.h"
#include "../stm32/stm32.h"

#define RCC 0x40021000u
#define RCC_CR REG32(RCC + 0x00u)
#define RCC_CFGR REG32(RCC + 0x08u)
#define RCC_PLLCFGR REG32(RCC + 0x0cu)
#define RCC_AHB2ENR REG32(RCC + 0x4cu)
#define RCC_APB1ENR1 REG32(RCC + 0x58u)
#define RCC_APB1ENR2 REG32(RCC + 0x5cu)
#define RCC_CCIPR REG32(RCC + 0x88u)
#define CR_HSION (1u << 8)
#define CR_HSIRDY (1u << 10)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
#define APB1ENR1_PWR (1u << 28)
#define APB1ENR2_LPUART1 (1u << 0)
#define PWR 0x40007000u
#define PWR_CR2 REG32(PWR + 0x04u)
#define PWR_SR2 REG32(PWR + 0x14u)
#define PWR_CR5 REG32(PWR + 0x80u)
#define CR2_IOSV (1u << 9)   /* VddIO2 valid: port G (the VCP pins PG7/PG8) is powered from it */
#define SR2_VOSF (1u << 10)
#define CR5_R1MODE (1u << 8) /* 1 = range 1 normal, 0 = boost */
#define FLASH_ACR REG32(0x40022000u)
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN (1u << 9)
#define ACR_DCEN (1u << 10)
#define WAIT_STATES 5u
#define HPRE_DIV2 (8u << 4)

#define HSI_HZ 16000000u
#define MSI_HZ 4000000u
#define PLL_N 15u
#define SYSCLK_HZ (HSI_HZ * PLL_N / 2u)

static void delay_spins(uint32_t n) {
  while (n--) __asm volatile("nop");
}

void stm32_clock_init(stm32_clock_t *out) {
  out->sysclk_hz = out->uart_hz = MSI_HZ;
  out->source = HAL_CLOCK_RC_ONLY;
  RCC_APB1ENR1 |= APB1ENR1_PWR;
  (void)RCC_APB1ENR1;
  RCC_CR |= CR_HSION;
  if (!stm32_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, STM32_CLOCK_SPINS)) return; /* stay on MSI */
  /* PLLSRC [1:0] = HSI16, PLLM [7:4] = /1, PLLN [14:8], PLLR [26:25] = /2, PLLREN bit 24 */
  RCC_CR &= ~CR_PLLON;
  if (!stm32_wait(&RCC_CR, CR_PLLRDY, 0, STM32_CLOCK_SPINS)) return;
  RCC_PLLCFGR = 2u | (PLL_N << 8) | (1u << 24);
  RCC_CR |= CR_PLLON;
  if (!stm32_wait(&RCC_CR, CR_PLLRDY, CR_PLLRDY, STM32_CLOCK_SPINS)) {
    RCC_CFGR = (RCC_CFGR & ~3u) | 1u; /* SW = HSI16 without the PLL */
    if (stm32_wait(&RCC_CFGR, 3u << 2, 1u << 2, STM32_CLOCK_SPINS)) out->sysclk_hz = out->uart_hz = HSI_HZ;
    return;
  }
  RCC_CFGR = (RCC_CFGR & ~(0xfu << 4)) | HPRE_DIV2; /* AHB /2 before boost and the switch */
  PWR_CR5 &= ~CR5_R1MODE;
  FLASH_ACR = (FLASH_ACR & ~0xfu) | WAIT_STATES | ACR_PRFTEN | ACR_ICEN | ACR_DCEN;
  int ok = stm32_wait(&PWR_SR2, SR2_VOSF, 0, STM32_CLOCK_SPINS) &&
           stm32_wait(&FLASH_ACR, 0xfu, WAIT_STATES, STM32_CLOCK_SPINS);
  if (ok) {
    RCC_CFGR |= 3u; /* SW = PLL */
    ok = stm32_wait(&RCC_CFGR, 3u << 2, 3u << 2, STM32_CLOCK_SPINS);
  }
  if (!ok) {
    RCC_CFGR &= ~((0xfu << 4) | 3u); /* still on MSI: undo the AHB divider so the clocks stay as reported */
    return;
  }
  delay_spins(200); /* >= 1 us at 60 MHz before the AHB goes to full speed */
  RCC_CFGR &= ~(0xfu << 4);
  RCC_CCIPR &= ~(3u << 10); /* LPUART1SEL = PCLK1 (APB1 /1) */
  out->source = HAL_CLOCK_INTERNAL;
  out->sysclk_hz = out->uart_hz = SYSCLK_HZ;
}

void stm32_vcp_power(uint32_t gpio_port) {
  PWR_CR2 |= CR2_IOSV;
  RCC_AHB2ENR |= 1u << gpio_port;
  RCC_APB1ENR2 |= APB1ENR2_LPUART1;
  (void)RCC_APB1ENR2; /* read back: the clock is on before the first register write */
}

uint32_t stm32_gpio_base(uint32_t port) { return 0x48000000u + 0x400u * port; }

_Static_assert(SYSCLK_HZ == TL_CLOCK_HZ, "boards/nucleo-l4r5zi.json clockHz must be the 120 MHz this clock tree makes");
_Static_assert(TL_UART_BASE == 0x40008000u, "this HAL clocks LPUART1 (the Nucleo's VCP); the board JSON names another UART");
