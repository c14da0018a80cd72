/* The firmware: bring up the board and the engine, then serve requests forever. */
#include "commands.h"
#include "link.h"
#include "../hal/hal.h"

int main(void) {
  hal_init();
  commands_init();
  for (;;) {
    int c = hal_uart_getc();
    if (c >= 0) link_rx_byte((uint8_t)c);
    else hal_idle();
  }
}
