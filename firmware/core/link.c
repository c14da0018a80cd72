/* Frames: [ver u8][code u8][seq u16][len u16][payload][crc32], COBS-encoded, 0x00-delimited.
 * A damaged frame is answered with BAD_FRAME (the host resends it). A request repeating the
 * last one (same seq and CRC) gets the cached response again without re-executing, so a lost
 * response never runs a command twice. */
#include <string.h>

#include "bytes.h"
#include "cobs.h"
#include "commands.h"
#include "crc32.h"
#include "link.h"
#include "protocol_gen.h"
#include "../hal/hal.h"

#define RAW_MAX (TLP_HEADER_BYTES + TLP_MAX_PAYLOAD + TLP_CRC_BYTES)
#define ENC_MAX COBS_MAX_ENCODED(RAW_MAX)

static uint8_t g_rx[ENC_MAX];
static uint32_t g_rx_len;
static int g_rx_overflow;

/* The last response, kept whole for replay; its request's seq and CRC identify duplicates. */
static uint8_t g_rsp[RAW_MAX];
static uint32_t g_rsp_len;
static uint16_t g_last_seq;
static uint32_t g_last_crc;
static int g_have_last;

static uint32_t g_bad_frames, g_duplicates;

uint32_t link_bad_frames(void) { return g_bad_frames; }
uint32_t link_duplicates(void) { return g_duplicates; }

static void send_raw(const uint8_t *raw, uint32_t len) {
  static uint8_t enc[ENC_MAX + 2];
  enc[0] = 0;
  size_t n = cobs_encode(raw, len, enc + 1);
  enc[n + 1] = 0;
  hal_uart_write(enc, n + 2);
}

/* Fills header and CRC around a payload already at raw + TLP_HEADER_BYTES; returns frame length. */
static uint32_t seal(uint8_t *raw, uint8_t code, uint16_t seq, uint32_t payload_len) {
  raw[0] = TLP_VERSION;
  raw[1] = code;
  wr16(raw + 2, seq);
  wr16(raw + 4, (uint16_t)payload_len);
  uint32_t n = TLP_HEADER_BYTES + payload_len;
  wr32(raw + n, crc32_update(0, raw, n));
  return n + TLP_CRC_BYTES;
}

/* Small error frames that must not disturb the cached response. */
static void send_error(uint16_t seq, uint32_t error, uint32_t detail) {
  uint8_t raw[TLP_HEADER_BYTES + TLP_RSP_ERROR_BYTES + TLP_CRC_BYTES];
  wr32(raw + TLP_HEADER_BYTES + TLP_RSP_ERROR_ERROR, error);
  wr32(raw + TLP_HEADER_BYTES + TLP_RSP_ERROR_DETAIL, detail);
  send_raw(raw, seal(raw, TLP_ERROR_CODE, seq, TLP_RSP_ERROR_BYTES));
}

void link_send_fault(uint32_t pc) { send_error(TLP_UNSOLICITED_SEQ, TLP_ERR_FAULT, pc); }

static void bad_frame(uint16_t seq, uint32_t why) {
  g_bad_frames++;
  send_error(seq, TLP_ERR_BAD_FRAME, why);
}

static void handle_frame(uint8_t *raw, int n) {
  if (n < (int)(TLP_HEADER_BYTES + TLP_CRC_BYTES)) {
    bad_frame(TLP_UNSOLICITED_SEQ, (uint32_t)n);
    return;
  }
  uint16_t seq = rd16(raw + 2);
  uint32_t len = rd16(raw + 4);
  if ((uint32_t)n != TLP_HEADER_BYTES + len + TLP_CRC_BYTES) {
    bad_frame(TLP_UNSOLICITED_SEQ, (uint32_t)n); /* truncated or merged: the seq is not trustworthy */
    return;
  }
  uint32_t crc = rd32(raw + TLP_HEADER_BYTES + len);
  if (crc != crc32_update(0, raw, TLP_HEADER_BYTES + len)) {
    bad_frame(TLP_UNSOLICITED_SEQ, crc);
    return;
  }
  if (raw[0] != TLP_VERSION) {
    send_error(seq, TLP_ERR_BAD_VERSION, raw[0]);
    return;
  }
  if (g_have_last && seq == g_last_seq && crc == g_last_crc) {
    g_duplicates++;
    send_raw(g_rsp, g_rsp_len);
    return;
  }
  uint32_t rsp_len = 0;
  uint8_t code = commands_handle(raw[1], raw + TLP_HEADER_BYTES, len, g_rsp + TLP_HEADER_BYTES, &rsp_len);
  g_rsp_len = seal(g_rsp, code, seq, rsp_len);
  g_last_seq = seq;
  g_last_crc = crc;
  g_have_last = 1;
  send_raw(g_rsp, g_rsp_len);
}

void link_rx_byte(uint8_t byte) {
  if (byte != 0) {
    if (g_rx_len < ENC_MAX) g_rx[g_rx_len++] = byte;
    else g_rx_overflow = 1;
    return;
  }
  /* Delimiter: whatever came before is one frame (or garbage, or nothing). */
  if (g_rx_overflow) {
    bad_frame(TLP_UNSOLICITED_SEQ, g_rx_len);
  } else if (g_rx_len > 0) {
    int n = cobs_decode(g_rx, g_rx_len, g_rx);
    if (n < 0) bad_frame(TLP_UNSOLICITED_SEQ, 0);
    else handle_frame(g_rx, n);
  }
  g_rx_len = 0;
  g_rx_overflow = 0;
}
