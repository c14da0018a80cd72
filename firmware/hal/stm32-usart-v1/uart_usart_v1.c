/* STM32 USART, register layout v1 (F1/F2/F4: SR, DR, BRR, CR1), polled. Used by QEMU's
 * netduinoplus2 (no clocks or pins to set up) and by the F412 Nucleo, whose HAL enables the
 * USART's clock and pins before calling uart_init. */
#include "../hal.h"
#include "../cortexm/cortexm.h"
#include "../stm32-uart.h"

#ifndef TL_UART_BASE
#define TL_UART_BASE 0x40011000u
#endif
#ifndef TL_UART_BAUD
#define TL_UART_BAUD 115200u
#endif

#define USART_SR REG32(TL_UART_BASE + 0x00u)
#define USART_DR REG32(TL_UART_BASE + 0x04u)
#define USART_BRR REG32(TL_UART_BASE + 0x08u)
#define USART_CR1 REG32(TL_UART_BASE + 0x0cu)
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)
#define CR1_RXNEIE (1u << 5)

/* 16x oversampling: BRR holds clk/baud with 4 fraction bits, i.e. exactly clk/baud rounded. */
void uart_init(uint32_t clk_hz, uint32_t baud) {
  USART_BRR = (clk_hz + baud / 2u) / baud;
  USART_CR1 = CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE; /* the RX interrupt only wakes hal_idle */
}

int hal_uart_getc(void) {
  if (!(USART_SR & SR_RXNE)) return -1;
  return (int)(USART_DR & 0xffu);
}

static int rx_ready(void) { return (USART_SR & SR_RXNE) != 0; }

void hal_idle(void) { uart_idle(rx_ready); }

static int tx_empty(void) { return (USART_SR & SR_TXE) != 0; }
static void tx_put(uint8_t byte) { USART_DR = byte; }

void hal_uart_write(const uint8_t *data, size_t len) { uart_write_bounded(data, len, tx_empty, tx_put); }
