/* STM32H743 clock tree (RM0433: RCC, PWR and flash chapters). The NUCLEO-H743ZI2 carries revision V
 * silicon, which reaches 480 MHz in voltage scale 0 (VOS1 plus SYSCFG over-drive); revision Y
 * parts stop at 400 MHz in scale 1, so the revision (DBGMCU_IDCODE.REV_ID) picks the target.
 * Supply: the Nucleo powers the core from the LDO, which must be confirmed once after reset
 * (PWR_CR3) before the voltage scale can change. 8 MHz HSE bypass (the ST-LINK's MCO) or the
 * 64 MHz HSI -> PLL1 at 2 MHz in (wide VCO) -> 960 MHz (or 800) -> /2. AXI/AHB = sysclk/2 with
 * 4 flash wait states (2 at 400 MHz) and WRHIGHFREQ = 2; APB1 = AHB/2: USART3's kernel clock. */
#include "../hal.h"
#include "../stm32/stm32.h"

#define RCC 0x58024400u
#define RCC_CR REG32(RCC + 0x000u)
#define RCC_CFGR REG32(RCC + 0x010u)
#define RCC_D1CFGR REG32(RCC + 0x018u)
#define RCC_D2CFGR REG32(RCC + 0x01cu)
#define RCC_D3CFGR REG32(RCC + 0x020u)
#define RCC_PLLCKSELR REG32(RCC + 0x028u)
#define RCC_PLLCFGR REG32(RCC + 0x02cu)
#define RCC_PLL1DIVR REG32(RCC + 0x030u)
#define RCC_AHB4ENR REG32(RCC + 0x0e0u)
#define RCC_APB1LENR REG32(RCC + 0x0e8u)
#define RCC_APB4ENR REG32(RCC + 0x0f4u)
#define CR_HSION (1u << 0)
#define CR_HSIRDY (1u << 2)
#define CR_HSEON (1u << 16)
#define CR_HSERDY (1u << 17)
#define CR_HSEBYP (1u << 18)
#define CR_PLL1ON (1u << 24)
#define CR_PLL1RDY (1u << 25)
#define APB1L_USART3 (1u << 18)
#define APB4_SYSCFG (1u << 1)
#define PWR 0x58024800u
#define PWR_CSR1 REG32(PWR + 0x04u)
#define PWR_CR3 REG32(PWR + 0x0cu)
#define PWR_D3CR REG32(PWR + 0x18u)
#define CSR1_ACTVOSRDY (1u << 13)
#define CR3_BYPASS (1u << 0)
#define CR3_LDOEN (1u << 1)
#define CR3_SCUEN (1u << 2)
#define D3CR_VOS1 (3u << 14)
#define D3CR_VOSRDY (1u << 13)
#define SYSCFG_PWRCR REG32(0x58000400u + 0x2cu)
#define PWRCR_ODEN (1u << 0)
#define DBGMCU_IDCODE REG32(0x5c001000u)
#define REV_V 0x2003u
#define FLASH_ACR REG32(0x52002000u)

#define HSI_HZ 64000000u
#define HSE_HZ 8000000u
#define PLL_IN_HZ 2000000u
#define FAST_HZ 480000000u /* revision V, scale 0 */
#define SAFE_HZ 400000000u /* revision Y, scale 1 */

static int pll_start(uint32_t src_hz, uint32_t pllsrc, uint32_t sysclk_hz) {
  RCC_CR &= ~CR_PLL1ON;
  if (!stm32_wait(&RCC_CR, CR_PLL1RDY, 0, STM32_CLOCK_SPINS)) return 0;
  RCC_PLLCKSELR = (RCC_PLLCKSELR & ~0x3f3u) | ((src_hz / PLL_IN_HZ) << 4) | pllsrc; /* DIVM1 [9:4], PLLSRC [1:0] */
  /* PLL1: input range 2-4 MHz (RGE [3:2] = 1), wide VCO (VCOSEL = 0), integer mode, only P out (DIVP1EN bit 16) */
  RCC_PLLCFGR = (RCC_PLLCFGR & ~0x7000fu) | (1u << 2) | (1u << 16);
  /* DIVN1 [8:0] = N - 1, DIVP1 [15:9] = 2 - 1, DIVQ1 [22:16] = 4 - 1, DIVR1 [30:24] = 2 - 1 */
  RCC_PLL1DIVR = (2u * sysclk_hz / PLL_IN_HZ - 1u) | (1u << 9) | (3u << 16) | (1u << 24);
  RCC_CR |= CR_PLL1ON;
  return stm32_wait(&RCC_CR, CR_PLL1RDY, CR_PLL1RDY, STM32_CLOCK_SPINS);
}

/* LDO supply confirmed, then scale 1, then (rev V) scale 0 through SYSCFG over-drive. */
static uint32_t power_up(void) {
  PWR_CR3 = (PWR_CR3 & ~(CR3_SCUEN | CR3_BYPASS)) | CR3_LDOEN;
  if (!stm32_wait(&PWR_CSR1, CSR1_ACTVOSRDY, CSR1_ACTVOSRDY, STM32_CLOCK_SPINS)) return 0;
  PWR_D3CR = (PWR_D3CR & ~(3u << 14)) | D3CR_VOS1;
  if (!stm32_wait(&PWR_D3CR, D3CR_VOSRDY, D3CR_VOSRDY, STM32_CLOCK_SPINS)) return 0;
  if ((DBGMCU_IDCODE >> 16) != REV_V) return SAFE_HZ;
  RCC_APB4ENR |= APB4_SYSCFG;
  (void)RCC_APB4ENR;
  SYSCFG_PWRCR |= PWRCR_ODEN;
  if (!stm32_wait(&PWR_D3CR, D3CR_VOSRDY, D3CR_VOSRDY, STM32_CLOCK_SPINS)) return SAFE_HZ;
  return FAST_HZ;
}

void stm32_clock_init(stm32_clock_t *out) {
  cortexm7_caches_on();
  out->sysclk_hz = out->uart_hz = HSI_HZ; /* the reset clock, and the fallback */
  out->source = HAL_CLOCK_RC_ONLY;
  uint32_t target = power_up();
  if (!target) return; /* supply not ready: stay on HSI, where the reset scale is enough */
  RCC_CR |= CR_HSION;
  stm32_wait(&RCC_CR, CR_HSIRDY, CR_HSIRDY, STM32_CLOCK_SPINS);
  RCC_CR |= CR_HSEBYP; /* bypass is set while the HSE is off, then the HSE goes on */
  RCC_CR |= CR_HSEON;
  int hse = stm32_wait(&RCC_CR, CR_HSERDY, CR_HSERDY, STM32_CLOCK_SPINS);
  if (!hse) RCC_CR &= ~(CR_HSEON | CR_HSEBYP);
  int pll = pll_start(hse ? HSE_HZ : HSI_HZ, hse ? 2u : 0u, target);
  if (!pll && hse) pll = pll_start(HSI_HZ, 0u, target), hse = 0;
  if (!pll) return;
  /* Flash: LATENCY [3:0], WRHIGHFREQ [5:4]; AXI at 240 MHz (scale 0) or 200 MHz (scale 1). */
  uint32_t ws = target == FAST_HZ ? 4u : 2u;
  FLASH_ACR = (FLASH_ACR & ~0x3fu) | ws | (2u << 4);
  if (!stm32_wait(&FLASH_ACR, 0xfu, ws, STM32_CLOCK_SPINS)) return;
  /* D1: core /1, HPRE /2 (code 8), D1PPRE /2 (code 4); D2PPRE1, D2PPRE2, D3PPRE /2 */
  RCC_D1CFGR = (8u << 0) | (4u << 4);
  RCC_D2CFGR = (4u << 4) | (4u << 8);
  RCC_D3CFGR = (4u << 4);
  RCC_CFGR = (RCC_CFGR & ~7u) | 3u; /* SW = PLL1 */
  if (!stm32_wait(&RCC_CFGR, 7u << 3, 3u << 3, STM32_CLOCK_SPINS)) {
    RCC_CFGR &= ~7u; /* back to HSI, undivided, so uart_hz stays true */
    RCC_D1CFGR = RCC_D2CFGR = RCC_D3CFGR = 0;
    return;
  }
  out->source = hse ? HAL_CLOCK_EXTERNAL : HAL_CLOCK_INTERNAL;
  out->sysclk_hz = target;
  out->uart_hz = target / 4u;
}

void stm32_vcp_power(uint32_t gpio_port) {
  RCC_AHB4ENR |= 1u << gpio_port;
  RCC_APB1LENR |= APB1L_USART3;
  (void)RCC_APB1LENR; /* read back: the clock is on before the first register write */
}

uint32_t stm32_gpio_base(uint32_t port) { return 0x58020000u + 0x400u * port; }

_Static_assert(FAST_HZ == TL_CLOCK_HZ, "boards/nucleo-h743zi2.json clockHz must be the 480 MHz this clock tree makes on revision V");
_Static_assert(TL_UART_BASE == 0x40004800u, "this HAL clocks USART3 (the Nucleo's VCP); the board JSON names another UART");
