/* QEMU's netduinoplus2: no clock tree or pins to set up, the USART runs at the board's clock. */
#include "../hal.h"
#include "../cortexm/cortexm.h"
#include "../stm32-uart.h"

#ifndef TL_CLOCK_HZ
#define TL_CLOCK_HZ 16000000u
#endif
#ifndef TL_UART_BAUD
#define TL_UART_BAUD 115200u
#endif

void hal_init(void) {
  uart_init(TL_CLOCK_HZ, TL_UART_BAUD);
  systick_start();
}
