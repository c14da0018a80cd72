/* hal_init for the real STM32 parts: clock tree, the ST-LINK virtual COM port's pins and UART,
 * then the cycle counter. The order matters: the UART's baud rate depends on the clock reached. */
#include "../hal.h"
#include "../stm32-uart.h"
#include "stm32.h"
#include "vcp.h"

#ifndef TL_UART_BAUD
#define TL_UART_BAUD 115200u
#endif

static stm32_clock_t g_clock;

void dwt_start(void);

void hal_init(void) {
  stm32_clock_init(&g_clock);
  stm32_vcp_power(TL_VCP_PORT);
  gpio_alternate(TL_VCP_PORT, TL_VCP_TX_PIN, TL_VCP_AF, 0);
  gpio_alternate(TL_VCP_PORT, TL_VCP_RX_PIN, TL_VCP_AF, 1);
  uart_init(g_clock.uart_hz, TL_UART_BAUD);
  dwt_start();
}

uint32_t hal_clock_hz(void) { return g_clock.sysclk_hz; }
uint32_t hal_timer_hz(void) { return g_clock.sysclk_hz; } /* DWT counts core cycles */
uint32_t hal_clock_source(void) { return g_clock.source; }

uint32_t stm32_flash_spins(void) { return g_clock.sysclk_hz / 2u * 8u; }

int stm32_wait(volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t spins) {
  while (spins--) {
    if ((*reg & mask) == want) return 1;
  }
  return (*reg & mask) == want;
}
