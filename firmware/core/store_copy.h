/* Copies model bytes from the store (flash) into linear memory: the engine's tl_read import,
 * which streams every weight tile. newlib's memcpy moves a word per ldr/str pair (0.5
 * instructions per byte); on Armv7-M, word-aligned runs go 32 bytes per two ldm/stm pairs
 * (0.19 per byte), the rest through memcpy. Short copies take memcpy directly. */
#ifndef TL_STORE_COPY_H
#define TL_STORE_COPY_H
#include <stdint.h>
#include <string.h>

static inline void store_copy(void *dst, const void *src, uint32_t len) {
#if defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__)
  if (len >= 64 && ((((uintptr_t)dst) | ((uintptr_t)src)) & 3u) == 0) {
    uint32_t blocks = len >> 5;
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    __asm__ volatile(
      "1: ldmia %[s]!, {r4-r7}\n"
      "   stmia %[d]!, {r4-r7}\n"
      "   ldmia %[s]!, {r4-r7}\n"
      "   stmia %[d]!, {r4-r7}\n"
      "   subs %[n], %[n], #1\n"
      "   bne 1b\n"
      : [s] "+r"(s), [d] "+r"(d), [n] "+r"(blocks)
      :
      : "r4", "r5", "r6", "r7", "memory", "cc");
    memcpy(d, s, len & 31u);
    return;
  }
#endif
  memcpy(dst, src, len);
}

#endif
