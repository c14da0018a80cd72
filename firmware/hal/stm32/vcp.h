/* The ST-LINK virtual COM port's pins, from the board JSON's uart.pins ("PD8/PD9 AF7"), passed
 * by build.ts as -DTL_VCP_PORT (0 = A), -DTL_VCP_TX_PIN, -DTL_VCP_RX_PIN, -DTL_VCP_AF. */
#ifndef TL_VCP_H
#define TL_VCP_H
#include <stdint.h>

#if !defined(TL_VCP_PORT) || !defined(TL_VCP_TX_PIN) || !defined(TL_VCP_RX_PIN) || !defined(TL_VCP_AF)
#error "the STM32 HAL needs the VCP pins: set uart.pins in the board JSON (e.g. \"PD8/PD9 AF7\")"
#endif

/* Puts one pin in alternate-function mode `af`; an input (RX) also gets a pull-up so an idle,
 * unconnected line reads as the UART's idle level. */
void gpio_alternate(uint32_t port, uint32_t pin, uint32_t af, int input);

#endif
