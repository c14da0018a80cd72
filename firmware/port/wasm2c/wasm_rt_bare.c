/* A small wasm2c (wabt 1.0.32) runtime for bare metal, replacing wasm-rt-impl.c,
 * which needs mmap and signals. Linear memory is one static buffer from the HAL, and a trap
 * longjmps to the guard the port set with wasm_rt_bare_enter(). How loads and stores are kept
 * inside that buffer is the build's memcheck mode (host/board/build.ts, docs/memory-safety.md):
 *   TL_MEMCHECK_BOUNDS  the generated code compares every access with mem->size and traps (default)
 *   TL_MEMCHECK_MASK    the generated code masks every address to TL_MASK_BYTES - 1; the sandbox is
 *                       TL_MASK_BYTES + TL_MASK_GUARD bytes and the engine grows in whole pages up to TL_MASK_BYTES
 *   TL_MEMCHECK_NONE    no check at all (measurements only)
 * In every mode a canary sits right after the sandbox; the port checks it after each engine call. */
#include <stdarg.h>
#include <string.h>

#include "wasm-rt.h"
#include "wasm_rt_bare.h"
#include "../../hal/hal.h"

#define PAGE_BYTES 65536u

#define TL_MEMCHECK_BOUNDS 0
#define TL_MEMCHECK_MASK 1
#define TL_MEMCHECK_NONE 2
#ifndef TL_MEMCHECK
#define TL_MEMCHECK TL_MEMCHECK_BOUNDS
#endif
#ifndef TL_CANARY_BYTES
#define TL_CANARY_BYTES 16u
#endif
#if TL_MEMCHECK == TL_MEMCHECK_MASK
#if !defined(TL_MASK_BYTES) || !defined(TL_MASK_GUARD) || (TL_MASK_BYTES & (TL_MASK_BYTES - 1)) || TL_MASK_BYTES < PAGE_BYTES
#error "TL_MEMCHECK_MASK needs TL_MASK_BYTES (a power of two >= 64 KiB) and TL_MASK_GUARD"
#endif
#ifdef TL_WASM_BASE_SYMBOL
extern uint8_t TL_WASM_BASE_SYMBOL[];
#endif
#endif

#if !WASM_RT_USE_STACK_DEPTH_COUNT || WASM_RT_MEMCHECK_SIGNAL_HANDLER
#error "build with -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0: this runtime relies on explicit bounds checks"
#endif

uint32_t wasm_rt_call_stack_depth;
static uint32_t g_saved_depth;
static jmp_buf *g_trap_target;
static jmp_buf *g_unwind_target;

void wasm_rt_bare_enter(jmp_buf *target) {
  g_saved_depth = wasm_rt_call_stack_depth;
  g_trap_target = target;
  g_unwind_target = target;
}

void wasm_rt_init(void) {}
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) {}

void wasm_rt_trap(wasm_rt_trap_t code) {
  wasm_rt_call_stack_depth = g_saved_depth;
  if (g_trap_target) longjmp(*g_trap_target, (int)code);
  for (;;) {} /* a trap outside any guard is a port bug: hang where a debugger can see it */
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "none";
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable";
    case WASM_RT_TRAP_CALL_INDIRECT: return "bad call_indirect";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
  }
  if ((int)trap == TL_TRAP_SANDBOX) return "memory outside the wasm sandbox was overwritten";
  return "unknown trap";
}

/* Function types: call_indirect compares the ids this returns, so equal signatures must
 * get equal ids. Signatures are stored back to back as bytes: nparams, nresults, types. */
#define TYPE_POOL_BYTES 512u
static uint8_t g_types[TYPE_POOL_BYTES];
static uint32_t g_types_used, g_type_count;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  uint8_t sig[2 + 32];
  if (params + results > 32) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  sig[0] = (uint8_t)params;
  sig[1] = (uint8_t)results;
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; i++) sig[2 + i] = (uint8_t)va_arg(ap, int);
  va_end(ap);
  uint32_t len = 2 + params + results, at = 0;
  for (uint32_t id = 1; id <= g_type_count; id++) {
    uint32_t n = 2u + g_types[at] + g_types[at + 1];
    if (n == len && memcmp(&g_types[at], sig, len) == 0) return id;
    at += n;
  }
  if (g_types_used + len > TYPE_POOL_BYTES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  memcpy(&g_types[g_types_used], sig, len);
  g_types_used += len;
  return ++g_type_count;
}

/* Exceptions (wasm EH proposal); the engine does not use them, kept so any module links. */
#define MAX_EXCEPTION_BYTES 64u
static uint32_t g_tag_count, g_exc_tag, g_exc_size;
static uint8_t g_exc[MAX_EXCEPTION_BYTES];

uint32_t wasm_rt_register_tag(uint32_t size) {
  if (size > MAX_EXCEPTION_BYTES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  return g_tag_count++;
}
void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void *values) {
  g_exc_tag = tag;
  g_exc_size = size;
  if (size) memcpy(g_exc, values, size);
}
void wasm_rt_throw(void) {
  if (g_unwind_target) longjmp(*g_unwind_target, WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
  for (;;) {}
}
WASM_RT_UNWIND_TARGET *wasm_rt_get_unwind_target(void) { return g_unwind_target; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET *target) { g_unwind_target = target; }
uint32_t wasm_rt_exception_tag(void) { return g_exc_tag; }
uint32_t wasm_rt_exception_size(void) { return g_exc_size; }
void *wasm_rt_exception(void) { return g_exc; }

/* Linear memory.
 *
 * bounds / none: growth is page-granular for the module (memory.size reports pages), but the
 * buffer holds only what SRAM has, less the canary; the bounds-checked `size` is capped at that,
 * so an access past the real bytes traps (bounds) instead of touching other memory. A grow succeeds
 * when at least part of its last page exists; the engine asks for pages = ceil(need / 64 KiB), so
 * any arena that fits the buffer gets its memory.
 *
 * mask: the sandbox is [data, data + TL_MASK_BYTES + TL_MASK_GUARD) and every load/store address is
 * masked into it, so a partial page cannot be offered safely (its excess would alias page 0): a grow
 * succeeds only while every page lies wholly below TL_MASK_BYTES, otherwise it fails cleanly (-1,
 * the engine reports STATUS_MEMORY). The whole sandbox is zeroed at instantiation, so even a wild
 * access reads zeros or this instance's own data, never a previous model's. */
static uint8_t *g_canary;
static uint32_t g_canary_breaks;

#if TL_MEMCHECK == TL_MEMCHECK_MASK
#define SANDBOX_BYTES ((uint32_t)TL_MASK_BYTES + (uint32_t)TL_MASK_GUARD)
static uint32_t sandbox_bytes(void) { return SANDBOX_BYTES; }
static uint32_t capped_bytes(uint64_t pages) { return (uint32_t)(pages * PAGE_BYTES); }
static int grow_fits(uint64_t new_pages) { return new_pages * PAGE_BYTES <= TL_MASK_BYTES; }
#else
static uint32_t sandbox_bytes(void) { return (hal_wasm_memory_bytes() - TL_CANARY_BYTES) & ~15u; }
static uint32_t capped_bytes(uint64_t pages) {
  uint64_t want = pages * PAGE_BYTES, have = sandbox_bytes();
  return (uint32_t)(want < have ? want : have);
}
static int grow_fits(uint64_t new_pages) { return new_pages == 0 || (new_pages - 1) * PAGE_BYTES < sandbox_bytes(); }
#endif

static uint8_t canary_byte(uint32_t i) { return (uint8_t)(0xA5u ^ (i * 29u)); }

static void canary_arm(void) {
  for (uint32_t i = 0; i < TL_CANARY_BYTES; i++) g_canary[i] = canary_byte(i);
}

int wasm_rt_bare_canary_intact(void) {
  if (!g_canary) return 1;
  for (uint32_t i = 0; i < TL_CANARY_BYTES; i++) {
    if (g_canary[i] != canary_byte(i)) {
      g_canary_breaks++;
      canary_arm();
      return 0;
    }
  }
  return 1;
}

uint32_t wasm_rt_bare_canary_breaks(void) { return g_canary_breaks; }
uint32_t wasm_rt_bare_sandbox_bytes(void) { return sandbox_bytes(); }

void wasm_rt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial_pages, uint32_t max_pages) {
  mem->data = hal_wasm_memory();
#if TL_MEMCHECK == TL_MEMCHECK_MASK
  /* The generated code addresses the region from this symbol: it must be the HAL's buffer, and
   * the buffer must hold the whole sandbox and the canary (build.ts checks both at link time too). */
#ifdef TL_WASM_BASE_SYMBOL
  if (mem->data != TL_WASM_BASE_SYMBOL) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
#endif
  if (hal_wasm_memory_bytes() < SANDBOX_BYTES + TL_CANARY_BYTES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  if ((uint64_t)initial_pages * PAGE_BYTES > TL_MASK_BYTES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  memset(mem->data, 0, SANDBOX_BYTES);
#endif
  mem->pages = initial_pages;
  mem->max_pages = max_pages;
  mem->size = capped_bytes(initial_pages);
#if TL_MEMCHECK != TL_MEMCHECK_MASK
  memset(mem->data, 0, mem->size);
#endif
  g_canary = mem->data + sandbox_bytes();
  canary_arm();
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta) {
  uint32_t old_pages = mem->pages;
  uint64_t new_pages = (uint64_t)old_pages + delta;
  if (new_pages > mem->max_pages || new_pages > 65536u) return (uint32_t)-1;
  if (delta && !grow_fits(new_pages)) return (uint32_t)-1;
  uint32_t old_size = mem->size, new_size = capped_bytes(new_pages);
  memset(mem->data + old_size, 0, new_size - old_size);
  mem->pages = (uint32_t)new_pages;
  mem->size = new_size;
  return old_pages;
}

void wasm_rt_free_memory(wasm_rt_memory_t *mem) { (void)mem; }

/* Tables come from one small static pool, reset with the instance. */
#define TABLE_POOL_ENTRIES 64u
static wasm_rt_funcref_t g_funcrefs[TABLE_POOL_ENTRIES];
static wasm_rt_externref_t g_externrefs[TABLE_POOL_ENTRIES];
static uint32_t g_funcrefs_used, g_externrefs_used;

void wasm_rt_bare_reset_tables(void) { g_funcrefs_used = g_externrefs_used = 0; }

/* Funcref and externref tables differ only in their element type: one definition for both.
 * Tables are carved from a static pool and reserved up to their maximum, so growing never moves them. */
#define DEFINE_TABLE(KIND, POOL, USED)                                                                   \
  void wasm_rt_allocate_##KIND##_table(wasm_rt_##KIND##_table_t *t, uint32_t elements, uint32_t max_elements) { \
    uint32_t room = TABLE_POOL_ENTRIES - USED;                                                           \
    if (elements > room) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);                                          \
    t->data = &POOL[USED];                                                                               \
    t->size = elements;                                                                                  \
    t->max_size = max_elements < room ? max_elements : room;                                             \
    USED += t->max_size;                                                                                 \
    for (uint32_t i = 0; i < t->max_size; i++) t->data[i] = wasm_rt_##KIND##_null_value;               \
  }                                                                                                      \
  void wasm_rt_free_##KIND##_table(wasm_rt_##KIND##_table_t *t) { (void)t; }                            \
  uint32_t wasm_rt_grow_##KIND##_table(wasm_rt_##KIND##_table_t *t, uint32_t delta, wasm_rt_##KIND##_t init) { \
    uint64_t n = (uint64_t)t->size + delta;                                                              \
    if (n > t->max_size) return (uint32_t)-1;                                                            \
    for (uint32_t i = t->size; i < n; i++) t->data[i] = init;                                            \
    uint32_t old = t->size;                                                                              \
    t->size = (uint32_t)n;                                                                               \
    return old;                                                                                          \
  }

DEFINE_TABLE(funcref, g_funcrefs, g_funcrefs_used)
DEFINE_TABLE(externref, g_externrefs, g_externrefs_used)
