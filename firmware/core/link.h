/* The link layer: COBS frames in and out, CRC checks, and duplicate suppression. */
#ifndef TL_LINK_H
#define TL_LINK_H
#include <stdint.h>

/* Feeds one received byte; a complete frame is handled (and answered) right here. */
void link_rx_byte(uint8_t byte);

/* Sends an unsolicited FAULT report (the CPU faulted at pc). Safe from a fault handler. */
void link_send_fault(uint32_t pc);

uint32_t link_bad_frames(void);
uint32_t link_duplicates(void);

#endif
