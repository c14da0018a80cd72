/* The UART drivers' one entry besides hal.h's byte functions: set the baud rate from the
 * peripheral's kernel clock and enable it (its RCC clock and pins are already on). */
#ifndef TL_STM32_UART_H
#define TL_STM32_UART_H
#include <stdint.h>

void uart_init(uint32_t clk_hz, uint32_t baud);

#endif
