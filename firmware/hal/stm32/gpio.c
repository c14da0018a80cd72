/* GPIO alternate function, the same register layout on F4, F7, H7 and L4: MODER (2 bits a pin,
 * 0b10 = alternate), OSPEEDR, PUPDR (0b01 = pull-up), AFRL/AFRH (4 bits a pin). */
#include "stm32.h"
#include "vcp.h"

#define MODER(b) REG32((b) + 0x00u)
#define OSPEEDR(b) REG32((b) + 0x08u)
#define PUPDR(b) REG32((b) + 0x0cu)
#define AFR(b, pin) REG32((b) + 0x20u + 4u * ((pin) >> 3))

static void field(volatile uint32_t *reg, uint32_t shift, uint32_t width_mask, uint32_t value) {
  *reg = (*reg & ~(width_mask << shift)) | (value << shift);
}

void gpio_alternate(uint32_t port, uint32_t pin, uint32_t af, int input) {
  uint32_t b = stm32_gpio_base(port);
  field(&AFR(b, pin), 4u * (pin & 7u), 0xfu, af);    /* the function before the mode: no glitch */
  field(&OSPEEDR(b), 2u * pin, 3u, 2u);              /* high speed: clean edges at 115200 and above */
  field(&PUPDR(b), 2u * pin, 3u, input ? 1u : 0u);
  field(&MODER(b), 2u * pin, 3u, 2u);
}
