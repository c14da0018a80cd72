/* The engine run by WAMR (WebAssembly Micro Runtime: interpreter or AOT), behind the same port
 * interface as the wasm2c port (../wasm2c/engine_port.h), so the core cannot tell them apart.
 * WAMR itself is not part of tinyloop: the user builds it with WAMR's own tools and
 * host/board/build-wamr.ts links their library (docs/wamr.md).
 *
 * Memory: WAMR allocates its module and instance structures and the wasm stack from one pool
 * (Alloc_With_Pool), never from malloc. Both the pool and linear memory come out of the board's
 * wasm-memory region from the HAL (on Cortex-M: all SRAM the linker script leaves after stack,
 * .data and .bss). On Cortex-M, platform_baremetal.c splits it: the pool at the bottom
 * (sized at boot by start_runtime, or TL_WAMR_POOL_BYTES), linear memory in whole 64 KiB pages at the top, where it grows in
 * place. On the native board WAMR's linux platform mmaps linear memory and the pool is the region.
 *
 * Traps: wasm_runtime_call_wasm returns false and the instance holds an exception string. The
 * port maps it onto the wasm2c trap codes the protocol reports (detail of ERR_TRAP), counts it,
 * and starts a fresh instance, exactly as the wasm2c port does after a longjmp. */
#include <string.h>

#include "wasm_export.h"
#include "engine_image.h"
#include "../wasm2c/engine_port.h"
#include "../../hal/hal.h"
#include "../../core/store_copy.h"

/* Codes shared with the wasm2c port (wasm-rt.h's wasm_rt_trap_t, with separate exhaustion). */
#define TRAP_OOB 1
#define TRAP_INT_OVERFLOW 2
#define TRAP_DIV_BY_ZERO 3
#define TRAP_INVALID_CONVERSION 4
#define TRAP_UNREACHABLE 5
#define TRAP_CALL_INDIRECT 6
#define TRAP_EXHAUSTION 8
/* WAMR only: the runtime could not start the engine (init, load, instantiate, a missing or
 * mistyped export; the pool too small is the usual cause), or an exception not listed above. */
#define TL_TRAP_WAMR_SETUP 65
#define TL_TRAP_WAMR_OTHER 66

#ifndef TL_WAMR_STACK_BYTES
#define TL_WAMR_STACK_BYTES (8u * 1024u) /* WAMR's wasm stack (frames and operands), from the pool */
#endif

#if TL_WAMR_BAREMETAL
/* platform_baremetal.c: the pool is the bottom of the HAL's region (at least pool_min bytes; 0 =
 * all of it), linear memory the whole 64 KiB pages left at its top. */
void tl_wamr_regions(uint32_t pool_min, uint8_t **pool, uint32_t *pool_bytes);
#ifndef TL_WAMR_POOL_BYTES
#define TL_WAMR_POOL_BYTES 0u /* 0: measured at boot (start_runtime) */
#endif
#ifndef TL_WAMR_POOL_MARGIN
#define TL_WAMR_POOL_MARGIN (4u * 1024u) /* over the measured need: fragmentation, later allocations */
#endif
#else
/* WAMR's own platform (native board) maps linear memory itself: the pool is all of the region. */
#define TL_WAMR_POOL_BYTES 0u
static void tl_wamr_regions(uint32_t pool_min, uint8_t **pool, uint32_t *pool_bytes) {
  (void)pool_min;
  *pool = hal_wasm_memory();
  *pool_bytes = hal_wasm_memory_bytes();
}
#endif

static int g_runtime_ready;
static wasm_module_t g_module;
static wasm_module_inst_t g_inst;
static wasm_exec_env_t g_exec_env;
static uint32_t g_blob_bytes;
static uint32_t g_traps;
static uint32_t g_pool_bytes; /* the pool's minimum as started (0: the whole region) */
/* What WAMR last said (load error or exception), for a debugger: the protocol has no text. */
static char g_last_error[128];

/* env.tl_read(src, dst, len) -> i32. Signature "(i*~)i": WAMR checks [dst, dst + len) against
 * linear memory before the call (an out-of-range dst is an "out of bounds memory access"
 * exception, reported as TRAP_OOB) and hands us the native pointer; the blob range is ours. */
static uint32_t tl_read(wasm_exec_env_t env, uint32_t src, void *dst, uint32_t len) {
  (void)env;
  if ((uint64_t)src + len > g_blob_bytes) return 1;
  store_copy(dst, hal_store_base() + src, len);
  return 0;
}

static NativeSymbol g_natives[] = {
  { "tl_read", (void *)tl_read, "(i*~)i", NULL },
};

/* The exports by engine_fn_t, with the signature the port calls them with. */
static const struct { const char *name; uint8_t params, results; } EXPORTS[] = {
  [ENG_ABI_VERSION] = { "tl_abi_version", 0, 1 },
  [ENG_LOAD] = { "tl_load", 0, 1 },
  [ENG_INVOKE] = { "tl_invoke", 0, 1 },
  [ENG_NUM_INPUTS] = { "tl_num_inputs", 0, 1 },
  [ENG_NUM_OUTPUTS] = { "tl_num_outputs", 0, 1 },
  [ENG_INPUT_PTR] = { "tl_input_ptr", 1, 1 },
  [ENG_INPUT_BYTES] = { "tl_input_bytes", 1, 1 },
  [ENG_OUTPUT_PTR] = { "tl_output_ptr", 1, 1 },
  [ENG_OUTPUT_BYTES] = { "tl_output_bytes", 1, 1 },
  [ENG_ARENA_BYTES] = { "tl_arena_bytes", 0, 1 },
  [ENG_OP_COUNT] = { "tl_op_count", 0, 1 },
  [ENG_PEAK_BYTES] = { "tl_peak_bytes", 0, 1 },
  [ENG_ARENA_PTR] = { "tl_arena_ptr", 0, 1 },
  [ENG_OP_INDEX] = { "tl_op_index", 0, 1 },
  [ENG_BEGIN] = { "tl_begin", 0, 0 },
  [ENG_STEP] = { "tl_step", 0, 1 },
  [ENG_TRAIN_INIT] = { "tl_train_init", 0, 1 },
  [ENG_TRAIN_SET_LR] = { "tl_train_set_lr", 1, 0 },
  [ENG_TRAIN_SET_MOMENTUM] = { "tl_train_set_momentum", 1, 0 },
  [ENG_TRAIN_STEP] = { "tl_train_step", 1, 1 },
  [ENG_TRAIN_LOSS_BITS] = { "tl_train_loss_bits", 0, 1 },
  [ENG_TRAIN_STATE_OFFSET] = { "tl_train_state_offset", 0, 1 },
  [ENG_TRAIN_STATE_BYTES] = { "tl_train_state_bytes", 0, 1 },
};
#define EXPORT_COUNT (sizeof EXPORTS / sizeof EXPORTS[0])
static wasm_function_inst_t g_funcs[EXPORT_COUNT];

static void remember(const char *what) {
  strncpy(g_last_error, what ? what : "", sizeof g_last_error - 1);
  g_last_error[sizeof g_last_error - 1] = 0;
}

/* WAMR's exception text ("Exception: integer divide by zero") -> the wasm2c trap code. */
static int trap_code(const char *exc) {
  static const struct { const char *text; int code; } MAP[] = {
    { "out of bounds", TRAP_OOB },
    { "integer overflow", TRAP_INT_OVERFLOW },
    { "integer divide by zero", TRAP_DIV_BY_ZERO },
    { "invalid conversion to integer", TRAP_INVALID_CONVERSION },
    { "unreachable", TRAP_UNREACHABLE },
    { "indirect call", TRAP_CALL_INDIRECT },
    { "undefined element", TRAP_CALL_INDIRECT },
    { "uninitialized element", TRAP_CALL_INDIRECT },
    { "stack overflow", TRAP_EXHAUSTION },
  };
  if (!exc) return TL_TRAP_WAMR_OTHER;
  for (unsigned i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
    if (strstr(exc, MAP[i].text)) return MAP[i].code;
  return TL_TRAP_WAMR_OTHER;
}

/* The runtime on its pool, the native, and the module (parsed from the image). */
static int init_and_load(uint32_t pool_min) {
  RuntimeInitArgs args;
  memset(&args, 0, sizeof args);
  uint8_t *pool;
  uint32_t pool_bytes;
  tl_wamr_regions(pool_min, &pool, &pool_bytes);
  args.mem_alloc_type = Alloc_With_Pool;
  args.mem_alloc_option.pool.heap_buf = pool;
  args.mem_alloc_option.pool.heap_size = pool_bytes;
  args.native_module_name = "env";
  args.native_symbols = g_natives;
  args.n_native_symbols = sizeof g_natives / sizeof g_natives[0];
  if (!wasm_runtime_full_init(&args)) {
    remember("wasm_runtime_full_init failed (pool too small?)");
    return 0;
  }
  wasm_runtime_set_log_level(WASM_LOG_LEVEL_ERROR);
  LoadArgs load;
  memset(&load, 0, sizeof load);
  load.name = "engine";
  /* Const image in flash: WAMR must copy what it keeps rather than patch the buffer. */
  load.wasm_binary_freeable = !TL_WAMR_ENGINE_IN_RAM;
  g_module = wasm_runtime_load_ex((uint8_t *)tl_engine_image, tl_engine_image_bytes, &load, g_last_error, sizeof g_last_error);
  return g_module != NULL;
}

static int instantiate(void);
static void drop_instance(void);

/* Once per boot. On Cortex-M with no fixed pool size, a sizing run first: the whole region as
 * the pool, load and instantiate, read the allocator's high-water marks, tear everything down,
 * and start again with the pool cut to that need, so linear memory gets every page left. */
static int start_runtime(void) {
  g_runtime_ready = 1;
#if TL_WAMR_BAREMETAL
  if (TL_WAMR_POOL_BYTES == 0) {
    mem_alloc_info_t loaded, running;
    uint32_t linear = 0;
    if (!init_and_load(0) || !wasm_runtime_get_mem_alloc_info(&loaded)) return 0;
    int trap = instantiate();
    engine_memory(&linear, NULL);
    int ok = !trap && wasm_runtime_get_mem_alloc_info(&running);
    drop_instance();
    wasm_runtime_unload(g_module);
    g_module = NULL;
    wasm_runtime_destroy();
    if (!ok) return 0;
    /* The loader's peak, or the running instance's without its linear memory (not in the pool then). */
    uint32_t need = running.highmark_size - linear;
    if (loaded.highmark_size > need) need = loaded.highmark_size;
    g_pool_bytes = need + TL_WAMR_POOL_MARGIN;
    return init_and_load(g_pool_bytes);
  }
#endif
  g_pool_bytes = TL_WAMR_POOL_BYTES;
  return init_and_load(TL_WAMR_POOL_BYTES);
}

static void drop_instance(void) {
  if (g_exec_env) wasm_runtime_destroy_exec_env(g_exec_env);
  if (g_inst) wasm_runtime_deinstantiate(g_inst);
  g_exec_env = NULL;
  g_inst = NULL;
  memset(g_funcs, 0, sizeof g_funcs);
}

/* Calls f; 0 or a trap code (the exception is kept in g_last_error). */
static int call(wasm_function_inst_t f, uint32_t argc, uint32_t *argv) {
  if (wasm_runtime_call_wasm(g_exec_env, f, argc, argv)) return 0;
  const char *exc = wasm_runtime_get_exception(g_inst);
  remember(exc);
  return trap_code(exc);
}

static int instantiate(void) {
  /* App heap 0: the engine (AssemblyScript, stub runtime) owns all of its linear memory; a WAMR
   * app heap would be appended to the last page, where the engine's own allocator also grows. */
  g_inst = wasm_runtime_instantiate(g_module, TL_WAMR_STACK_BYTES, 0, g_last_error, sizeof g_last_error);
  if (!g_inst) return TL_TRAP_WAMR_SETUP;
  g_exec_env = wasm_runtime_create_exec_env(g_inst, TL_WAMR_STACK_BYTES);
  if (!g_exec_env) {
    remember("wasm_runtime_create_exec_env failed (pool too small?)");
    return TL_TRAP_WAMR_SETUP;
  }
  for (unsigned i = 0; i < EXPORT_COUNT; i++) {
    wasm_function_inst_t f = wasm_runtime_lookup_function(g_inst, EXPORTS[i].name);
    if (!f || wasm_func_get_param_count(f, g_inst) != EXPORTS[i].params ||
        wasm_func_get_result_count(f, g_inst) != EXPORTS[i].results) {
      remember(EXPORTS[i].name);
      return TL_TRAP_WAMR_SETUP;
    }
    g_funcs[i] = f;
  }
  /* AssemblyScript's start function is exported (exportStart), so WAMR does not run it. */
  wasm_function_inst_t init = wasm_runtime_lookup_function(g_inst, "_initialize");
  return init ? call(init, 0, NULL) : 0;
}

int engine_reset(void) {
  drop_instance();
  int trap = TL_TRAP_WAMR_SETUP;
  if (g_module || (!g_runtime_ready && start_runtime())) trap = instantiate();
  if (trap) {
    drop_instance();
    g_traps++;
  }
  return trap;
}

int engine_call(engine_fn_t fn, uint32_t arg, uint32_t *result) {
  if ((unsigned)fn >= EXPORT_COUNT) return TL_TRAP_WAMR_OTHER;
  if (!g_inst) {
    /* The last reset failed; try again (it counts its own failure). */
    int trap = engine_reset();
    if (trap) return trap;
  }
  uint32_t argv[1] = { arg };
  int trap = call(g_funcs[fn], EXPORTS[fn].params, argv);
  if (trap) {
    /* Globals or memory may be half-updated: start over with a clean instance. */
    g_traps++;
    engine_reset();
    return trap;
  }
  *result = EXPORTS[fn].results ? argv[0] : 0;
  return 0;
}

void engine_set_blob(uint32_t bytes) { g_blob_bytes = bytes; }

uint8_t *engine_memory(uint32_t *size, uint32_t *pages) {
  wasm_memory_inst_t mem = g_inst ? wasm_runtime_get_default_memory(g_inst) : NULL;
  uint32_t n = mem ? (uint32_t)wasm_memory_get_cur_page_count(mem) : 0;
  if (size) *size = mem ? n * (uint32_t)wasm_memory_get_bytes_per_page(mem) : 0;
  if (pages) *pages = n;
  return mem ? (uint8_t *)wasm_memory_get_base_address(mem) : NULL;
}

uint32_t engine_trap_count(void) { return g_traps; }

/* Not part of the port interface, for a debugger: WAMR's last load error or exception text, and
 * the pool size chosen at boot. */
const char *engine_wamr_last_error(void) { return g_last_error; }
uint32_t engine_wamr_pool_bytes(void) { return g_pool_bytes; }
