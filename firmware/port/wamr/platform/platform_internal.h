/* WAMR platform header for tinyloop's bare-metal Cortex-M boards (one thread, no OS, newlib).
 *
 * WAMR's sources include "platform_internal.h" for the types and macros a platform provides; this
 * is ours. It is used twice: when the user builds WAMR for Cortex-M (WAMR's CMake finds it through
 * shared_platform.cmake next to it, see docs/wamr.md) and when tinyloop compiles its WAMR port.
 * The os_* functions themselves live in ../platform_baremetal.c, compiled into the firmware, so
 * they can use the board's HAL (UART, timer, stack bounds). Nothing here is WAMR's code. */
#ifndef _PLATFORM_INTERNAL_H
#define _PLATFORM_INTERNAL_H

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BH_PLATFORM_TINYLOOP_BAREMETAL
#define BH_PLATFORM_TINYLOOP_BAREMETAL
#endif

/* Room WAMR keeps between the deepest native frame and the stack's end. */
#define BH_APPLET_PRESERVED_STACK_SIZE (2 * BH_KB)
#define BH_THREAD_DEFAULT_PRIORITY 0

/* One thread and no scheduler: every synchronisation object is a dummy. */
typedef int korp_tid;
typedef int korp_mutex;
typedef int korp_cond;
typedef int korp_thread;
typedef int korp_sem;
typedef struct { int dummy; } korp_rwlock;

/* No file system: the types platform_api_extension.h mentions, never used. */
typedef int os_file_handle;
typedef void *os_dir_stream;
typedef int os_raw_file_handle;

static inline os_file_handle os_get_invalid_handle(void) { return -1; }

/* No MMU: "pages" only round the sizes WAMR asks os_mmap for. */
static inline int os_getpagesize(void) { return 256; }

#endif
