/* CRC-32/ISO-HDLC (zlib's), the checksum of every frame and of the uploaded blob. */
#ifndef TL_CRC32_H
#define TL_CRC32_H
#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: crc32_update(0, ...) starts one; feed chunks in order. */
uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len);

#endif
