/* The "native" board: the firmware as a Linux process. Its UART is a pty it creates and
 * announces on stdout ("tinyloop-native: uart /dev/pts/N"), like QEMU's -serial pty, so the
 * host drives it through the same serial transport. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../hal.h"

#ifndef TL_STORE_BYTES
#define TL_STORE_BYTES (4u << 20)
#endif
#ifndef TL_WASM_BYTES
#define TL_WASM_BYTES (1u << 20)
#endif

static uint8_t g_store[TL_STORE_BYTES];
static uint8_t g_wasm[TL_WASM_BYTES] __attribute__((aligned(16)));
static int g_master = -1;

static void die(const char *what) {
  fprintf(stderr, "tinyloop-native: %s: %s\n", what, strerror(errno));
  exit(2);
}

void hal_init(void) {
  /* Die with the host: a crashed test must not leave firmware processes behind. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  g_master = posix_openpt(O_RDWR | O_NOCTTY);
  if (g_master < 0 || grantpt(g_master) != 0 || unlockpt(g_master) != 0) die("cannot create a pty");
  const char *name = ptsname(g_master);
  if (!name) die("ptsname");
  /* Hold the slave open ourselves so the master never reads EIO between host connections,
   * and make it raw now: with the default ECHO the line discipline would bounce our own
   * responses back to us before the host has configured the port. */
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) die("cannot open the pty slave");
  struct termios tio;
  if (tcgetattr(slave, &tio) != 0) die("tcgetattr");
  cfmakeraw(&tio);
  if (tcsetattr(slave, TCSANOW, &tio) != 0) die("tcsetattr");
  fcntl(g_master, F_SETFL, fcntl(g_master, F_GETFL) | O_NONBLOCK);
  printf("tinyloop-native: uart %s\n", name);
  fflush(stdout);
}

int hal_uart_getc(void) {
  uint8_t b;
  for (;;) {
    ssize_t n = read(g_master, &b, 1);
    if (n == 1) return b;
    if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) die("uart read");
    /* Nothing waiting: sleep in poll rather than spin (the core only polls when idle). */
    struct pollfd p = { .fd = g_master, .events = POLLIN };
    if (poll(&p, 1, 10) <= 0) return -1;
  }
}

/* getc already sleeps in poll(). */
void hal_idle(void) {}

void hal_uart_write(const uint8_t *data, size_t len) {
  while (len) {
    ssize_t n = write(g_master, data, len);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      die("uart write");
    } else {
      struct pollfd p = { .fd = g_master, .events = POLLOUT };
      poll(&p, 1, 10);
    }
  }
}

uint64_t hal_timer_ticks(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t hal_stack_used(void) { return 0; }
uint32_t hal_stack_bytes(void) { return 0; }

uint8_t *hal_store_base(void) { return g_store; }
uint32_t hal_store_bytes(void) { return TL_STORE_BYTES; }
/* A RAM store: erase fills with 0xff, writes land at once (hal.h's flash rules, trivially). */
void hal_store_unit(uint32_t offset, uint32_t *start, uint32_t *end) {
  *start = offset;
  *end = offset + 1u;
}
int hal_store_erase(uint32_t offset, uint32_t len, uint32_t *end) {
  memset(g_store + offset, 0xff, len);
  *end = offset + len;
  return 0;
}
int hal_store_write(uint32_t offset, const uint8_t *data, uint32_t len) {
  memcpy(g_store + offset, data, len);
  return 0;
}
int hal_store_flush(void) { return 0; }
uint32_t hal_store_word_bytes(void) { return 4u; }

#ifndef TL_CLOCK_HZ
#define TL_CLOCK_HZ 0u
#endif
#ifndef TL_TIMER_HZ
#define TL_TIMER_HZ 0u
#endif
uint32_t hal_clock_hz(void) { return TL_CLOCK_HZ; }
uint32_t hal_timer_hz(void) { return TL_TIMER_HZ; }
uint32_t hal_clock_source(void) { return HAL_CLOCK_FIXED; }

uint8_t *hal_wasm_memory(void) { return g_wasm; }
uint32_t hal_wasm_memory_bytes(void) { return TL_WASM_BYTES; }
