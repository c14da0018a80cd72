/* COBS byte stuffing: frames carry no 0x00, so 0x00 can delimit them and a receiver
 * resynchronises on the next delimiter after any loss or corruption. */
#ifndef TL_COBS_H
#define TL_COBS_H
#include <stddef.h>
#include <stdint.h>

/* Worst-case encoded size of n bytes. */
#define COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/* Encodes src into dst (room for COBS_MAX_ENCODED(len)); returns bytes written. */
size_t cobs_encode(const uint8_t *src, size_t len, uint8_t *dst);

/* Decodes in place is allowed (dst == src). Returns decoded length, or -1 if malformed. */
int cobs_decode(const uint8_t *src, size_t len, uint8_t *dst);

#endif
