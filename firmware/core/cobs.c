#include "cobs.h"

size_t cobs_encode(const uint8_t *src, size_t len, uint8_t *dst) {
  size_t code_at = 0, o = 1;
  uint8_t code = 1;
  for (size_t i = 0; i < len; i++) {
    if (src[i] == 0) {
      dst[code_at] = code; code_at = o++; code = 1;
    } else {
      dst[o++] = src[i];
      if (++code == 0xff) { dst[code_at] = code; code_at = o++; code = 1; }
    }
  }
  dst[code_at] = code;
  return o;
}

int cobs_decode(const uint8_t *src, size_t len, uint8_t *dst) {
  size_t i = 0, o = 0;
  while (i < len) {
    uint8_t code = src[i++];
    if (code == 0 || i + code - 1 > len) return -1;
    /* o <= i - 1 always holds, so decoding in place never overwrites unread input. */
    for (uint8_t k = 1; k < code; k++) dst[o++] = src[i++];
    if (code != 0xff && i < len) dst[o++] = 0;
  }
  return (int)o;
}
