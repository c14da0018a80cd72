/* The UART drivers' one entry besides hal.h's byte functions: set the baud rate from the
 * peripheral's kernel clock and enable it (its RCC clock and pins are already on). */
#ifndef TL_STM32_UART_H
#define TL_STM32_UART_H
#include <stdint.h>

void uart_init(uint32_t clk_hz, uint32_t baud);

/* What both register layouts share, given each layout's own flag tests and data register. */
#include <stddef.h>
#include "cortexm/cortexm.h"

/* A UART without its clock never empties: give up on a byte after a bound (about a
 * character time at the slowest clock many times over) rather than hang the firmware. */
#define UART_TX_SPINS 1000000u

static inline void uart_write_bounded(const uint8_t *data, size_t len, int (*tx_empty)(void), void (*put)(uint8_t)) {
  for (size_t i = 0; i < len; i++) {
    for (uint32_t spins = UART_TX_SPINS; !tx_empty() && spins; spins--) {}
    put(data[i]);
  }
}

/* Sleeps until the UART's RX interrupt (it only wakes the core; bytes are polled). */
static inline void uart_idle(int (*rx_ready)(void)) {
#ifdef TL_UART_IRQ
  cortexm_sleep_until_irq(TL_UART_IRQ, rx_ready);
#else
  (void)rx_ready;
#endif
}

#endif
