/* WAMR's platform layer for tinyloop's bare-metal Cortex-M boards: the os_* functions WAMR's core
 * calls (interpreter and AOT loader), for one thread without an OS. Types and macros are in
 * platform/platform_internal.h. The native board uses WAMR's own linux platform instead, so
 * host/board/build-wamr.ts compiles this file only for Cortex-M boards.
 *
 * Memory: the runtime's allocations come from the pool WAMR was started with (through
 * wasm_runtime_malloc); linear memory has its own part of the HAL's region (tl_wamr_regions). */
#include "platform_internal.h"
#include "wasm_export.h"
#include "../../hal/hal.h"

/* WAMR's own declarations of these functions live in its source tree, not in the headers its
 * install step copies; when they are reachable (-I<wamr>/core/shared/platform/include), they check
 * every signature below. Otherwise the few names they define are spelled out here. */
#if __has_include("platform_api_vmcore.h")
#include "platform_api_vmcore.h"
#include "platform_api_extension.h"
#else
typedef uint8_t uint8;
typedef uint64_t uint64;
#define BHT_OK (0)
#define BHT_TIMED_OUT (1)
#define MMAP_PROT_NONE 0
#endif

#ifndef TL_TIMER_HZ
#error "TL_TIMER_HZ (the board timer's rate) is needed for os_time_get_boot_us"
#endif

int bh_platform_init(void) { return 0; }
void bh_platform_destroy(void) {}

void *os_malloc(unsigned size) { return wasm_runtime_malloc(size); }
void *os_realloc(void *ptr, unsigned size) { return wasm_runtime_realloc(ptr, size); }
void os_free(void *ptr) { wasm_runtime_free(ptr); }

/* WAMR's logging would interleave text with the protocol's frames on the one UART: dropped,
 * unless the build asks for it (-DTL_WAMR_LOG_UART=1, for bring-up without a host). */
int os_vprintf(const char *format, va_list ap) {
#if TL_WAMR_LOG_UART
  char line[160];
  int n = vsnprintf(line, sizeof line, format, ap);
  if (n > 0) hal_uart_write((const uint8_t *)line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
  return n;
#else
  (void)format;
  (void)ap;
  return 0;
#endif
}

int os_printf(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = os_vprintf(format, ap);
  va_end(ap);
  return n;
}

int os_dumps_proc_mem_info(char *out, unsigned int size) {
  (void)out;
  (void)size;
  return -1;
}

/* The board timer (SysTick on Cortex-M) in microseconds, without overflowing 64 bits. */
uint64 os_time_get_boot_us(void) {
  uint64_t t = hal_timer_ticks();
  return (t / TL_TIMER_HZ) * 1000000u + (t % TL_TIMER_HZ) * 1000000u / TL_TIMER_HZ;
}

uint64 os_time_thread_cputime_us(void) { return os_time_get_boot_us(); }

/* One thread. */
korp_tid os_self_thread(void) { return 1; }

/* WAMR stops wasm calls WASM_STACK_GUARD_SIZE bytes above this ("native stack overflow" trap)
 * instead of letting the interpreter run off the end of the stack. */
uint8 *os_thread_get_stack_boundary(void) {
  extern uint8_t __stack_bottom[]; /* from the generated linker script (host/board/linker.ts) */
  return __stack_bottom;
}

void os_thread_jit_write_protect_np(bool enabled) { (void)enabled; }

int os_mutex_init(korp_mutex *mutex) { *mutex = 0; return BHT_OK; }
int os_mutex_destroy(korp_mutex *mutex) { (void)mutex; return BHT_OK; }
int os_mutex_lock(korp_mutex *mutex) { (void)mutex; return BHT_OK; }
int os_mutex_unlock(korp_mutex *mutex) { (void)mutex; return BHT_OK; }
int os_cond_init(korp_cond *cond) { *cond = 0; return BHT_OK; }
int os_cond_destroy(korp_cond *cond) { (void)cond; return BHT_OK; }
int os_cond_signal(korp_cond *cond) { (void)cond; return BHT_OK; }
/* Nobody else can signal: waiting would be forever, so report the timeout at once. */
int os_cond_reltimedwait(korp_cond *cond, korp_mutex *mutex, uint64 useconds) {
  (void)cond;
  (void)mutex;
  (void)useconds;
  return BHT_TIMED_OUT;
}

/* The HAL's wasm-memory region, split when the runtime starts (engine_port_wamr.c):
 *   [ WAMR's pool: pool_min bytes or a little more | linear memory: whole 64 KiB pages ]
 * Linear memory sits at the top and grows in place up to the region's end: no copy on
 * memory.grow (a pool realloc would need the old and the new block at once, and anything the
 * runtime allocated after it would pin it), and its address never moves. pool_min 0 = no split:
 * the whole region is the pool (the port's sizing run). */
#define WASM_PAGE 65536u
static uint8_t *g_linear;
static uint32_t g_linear_capacity;
static int g_linear_mapped;

void tl_wamr_regions(uint32_t pool_min, uint8_t **pool, uint32_t *pool_bytes) {
  uint8_t *base = hal_wasm_memory();
  uint32_t total = hal_wasm_memory_bytes();
  g_linear_capacity = pool_min && total > pool_min ? (total - pool_min) & ~(WASM_PAGE - 1u) : 0;
  g_linear = base + total - g_linear_capacity;
  g_linear_mapped = 0;
  *pool = base;
  *pool_bytes = total - g_linear_capacity;
}

/* WAMR maps linear memory with os_mmap(NULL, pages * 64 KiB, MMAP_PROT_NONE, ...) and grows it
 * with os_mremap; nothing else asks for an inaccessible mapping on this platform (the guard
 * pages that also do are only used with hardware bound checks). Other mappings (AOT code and
 * data) are zeroed pool blocks. Protection is not available: os_mprotect succeeds. */
static int is_linear(int prot, size_t size) {
  return prot == MMAP_PROT_NONE && size && size % WASM_PAGE == 0;
}

void *os_mmap(void *hint, size_t size, int prot, int flags, os_file_handle file) {
  (void)hint;
  (void)flags;
  (void)file;
  if (size == 0 || size >= UINT32_MAX) return NULL;
  if (g_linear_capacity && is_linear(prot, size) && !g_linear_mapped) {
    if (size > g_linear_capacity) return NULL;
    g_linear_mapped = 1;
    memset(g_linear, 0, size);
    return g_linear;
  }
  void *p = wasm_runtime_malloc((uint32_t)size);
  if (p) memset(p, 0, size);
  return p;
}

void os_munmap(void *addr, size_t size) {
  (void)size;
  if (addr == g_linear && g_linear_mapped) g_linear_mapped = 0;
  else if (addr) wasm_runtime_free(addr);
}

/* Linear memory growth, in place; the new bytes read as zero. */
void *os_mremap(void *old_addr, size_t old_size, size_t new_size) {
  if (new_size >= UINT32_MAX) return NULL;
  if (old_addr == g_linear && g_linear_mapped) {
    if (new_size > g_linear_capacity) return NULL; /* memory.grow fails cleanly: -1 */
    if (new_size > old_size) memset(g_linear + old_size, 0, new_size - old_size);
    return g_linear;
  }
  uint8_t *p = wasm_runtime_realloc(old_addr, (uint32_t)new_size);
  if (p && new_size > old_size) memset(p + old_size, 0, new_size - old_size);
  return p;
}

int os_mprotect(void *addr, size_t size, int prot) {
  (void)addr;
  (void)size;
  (void)prot;
  return 0;
}

/* AOT code is copied into SRAM by the loader; the M4 has no caches, an M7 build must clean the
 * D-cache and invalidate the I-cache here before running it. */
void os_dcache_flush(void) {}
void os_icache_flush(void *start, size_t len) {
  (void)start;
  (void)len;
}

os_raw_file_handle os_invalid_raw_handle(void) { return -1; }

/* newlib's snprintf (WAMR formats its error messages with it) references malloc, which needs
 * _sbrk. Writing into a fixed buffer never allocates, and these boards have no C heap: any call
 * that would allocate gets ENOMEM. */
void *_sbrk(ptrdiff_t increment) {
  (void)increment;
  errno = ENOMEM;
  return (void *)-1;
}
