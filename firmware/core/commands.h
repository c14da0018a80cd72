/* The command layer: one request payload in, one response payload out. */
#ifndef TL_COMMANDS_H
#define TL_COMMANDS_H
#include <stdint.h>

void commands_init(void);

/* Handles request `code`; writes the response payload into rsp (TLP_MAX_PAYLOAD bytes of
 * room), sets *rsp_len, and returns the response code (code | TLP_RESPONSE_FLAG or TLP_ERROR_CODE). */
uint8_t commands_handle(uint8_t code, const uint8_t *req, uint32_t req_len, uint8_t *rsp, uint32_t *rsp_len);

#endif
