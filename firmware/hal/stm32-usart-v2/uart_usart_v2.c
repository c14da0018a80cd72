/* STM32 USART and LPUART, register layout v2 (F7, H7, L4: CR1, BRR, ISR, ICR, RDR, TDR), polled.
 * The same layout serves LPUART1 (-DTL_UART_LPUART, the L4R5 Nucleo's virtual COM port); only
 * its baud-rate register differs: BRR = 256 * clk / baud (RM0432, LPUART "baud rate generation") instead of clk / baud. */
#include "../hal.h"
#include "../cortexm/cortexm.h"
#include "../stm32-uart.h"

#ifndef TL_UART_BASE
#error "the USART v2 driver needs -DTL_UART_BASE (the board JSON's uart.base)"
#endif

#define UART_CR1 REG32(TL_UART_BASE + 0x00u)
#define UART_BRR REG32(TL_UART_BASE + 0x0cu)
#define UART_ISR REG32(TL_UART_BASE + 0x1cu)
#define UART_ICR REG32(TL_UART_BASE + 0x20u)
#define UART_RDR REG32(TL_UART_BASE + 0x24u)
#define UART_TDR REG32(TL_UART_BASE + 0x28u)
#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define ISR_FE (1u << 1)
#define ISR_NE (1u << 2)
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)
#define RX_ERRORS (ISR_FE | ISR_NE | ISR_ORE) /* same bit positions in ICR clear them */

void uart_init(uint32_t clk_hz, uint32_t baud) {
  UART_CR1 = 0; /* BRR may only change while the UART is disabled */
#ifdef TL_UART_LPUART
  UART_BRR = (uint32_t)((256ull * clk_hz + baud / 2u) / baud);
#else
  UART_BRR = (clk_hz + baud / 2u) / baud; /* 16x oversampling */
#endif
  UART_CR1 = CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE; /* the RX interrupt only wakes hal_idle */
}

int hal_uart_getc(void) {
  uint32_t isr = UART_ISR;
  /* An overrun (a byte lost while flash was busy) keeps the interrupt raised until cleared;
   * the protocol's CRC and resends recover the frame. */
  if (isr & RX_ERRORS) UART_ICR = isr & RX_ERRORS;
  if (!(isr & ISR_RXNE)) return -1;
  return (int)(UART_RDR & 0xffu);
}

static int rx_ready(void) { return (UART_ISR & (ISR_RXNE | RX_ERRORS)) != 0; }

void hal_idle(void) { uart_idle(rx_ready); }

static int tx_empty(void) { return (UART_ISR & ISR_TXE) != 0; }
static void tx_put(uint8_t byte) { UART_TDR = byte; }

void hal_uart_write(const uint8_t *data, size_t len) { uart_write_bounded(data, len, tx_empty, tx_put); }
