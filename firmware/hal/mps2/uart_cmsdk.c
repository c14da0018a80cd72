/* ARM CMSDK APB UART (MPS2 boards, QEMU mps2-an385/386/500), polled. */
#include "../hal.h"
#include "../cortexm/cortexm.h"

#ifndef TL_UART_BASE
#define TL_UART_BASE 0x40004000u
#endif
#ifndef TL_UART_BAUD
#define TL_UART_BAUD 115200u
#endif
#ifndef TL_CLOCK_HZ
#define TL_CLOCK_HZ 25000000u
#endif

#define UART_DATA REG32(TL_UART_BASE + 0x00u)
#define UART_STATE REG32(TL_UART_BASE + 0x04u)
#define UART_CTRL REG32(TL_UART_BASE + 0x08u)
#define UART_INTCLEAR REG32(TL_UART_BASE + 0x0cu)
#define UART_BAUDDIV REG32(TL_UART_BASE + 0x10u)
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define CTRL_RX_INT_EN 8u
#define INT_RX 2u /* INTSTATUS/INTCLEAR bit */
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u

void hal_init(void) {
  UART_BAUDDIV = TL_CLOCK_HZ / TL_UART_BAUD; /* QEMU wants >= 16 */
  UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN; /* the RX interrupt only wakes hal_idle */
  systick_start();
}

int hal_uart_getc(void) {
  if (!(UART_STATE & STATE_RX_FULL)) return -1;
  int c = (int)(UART_DATA & 0xffu);
  UART_INTCLEAR = INT_RX; /* drop the RX interrupt line, or the next idle would not sleep */
  return c;
}

static int rx_ready(void) { return (UART_STATE & STATE_RX_FULL) != 0; }

void hal_idle(void) {
#ifdef TL_UART_IRQ
  cortexm_sleep_until_irq(TL_UART_IRQ, rx_ready);
#endif
}

void hal_uart_write(const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    while (UART_STATE & STATE_TX_FULL) {}
    UART_DATA = data[i];
  }
}
