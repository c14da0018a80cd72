/* Glue between the core and wasm2c's engine.c: the env.tl_read import, instantiation,
 * and the single setjmp site that turns a trap into an error code. */
#include <string.h>

#include "engine.h"
#include "engine_port.h"
#include "wasm_rt_bare.h"
#include "../../hal/hal.h"
#include "../../core/store_copy.h"

/* wasm2c declares the import module's instance type; we own its definition. */
struct Z_env_instance_t { uint32_t blob_bytes; };

static Z_engine_instance_t g_inst;
static struct Z_env_instance_t g_env;
static uint32_t g_traps;
static int g_module_ready;

/* env.tl_read: copy blob bytes [src, src+len) from the store to linear memory at dst. */
u32 Z_envZ_tl_read(struct Z_env_instance_t *env, u32 src, u32 dst, u32 len) {
  wasm_rt_memory_t *mem = &g_inst.w2c_memory;
  if ((uint64_t)src + len > env->blob_bytes || (uint64_t)dst + len > mem->size) return 1;
  store_copy(mem->data + dst, hal_store_base() + src, len);
  return 0;
}

void engine_set_blob(uint32_t bytes) { g_env.blob_bytes = bytes; }

static uint32_t dispatch(engine_fn_t fn, uint32_t arg) {
  switch (fn) {
    case ENG_ABI_VERSION: return Z_engineZ_tl_abi_version(&g_inst);
    case ENG_LOAD: return Z_engineZ_tl_load(&g_inst);
    case ENG_INVOKE: return Z_engineZ_tl_invoke(&g_inst);
    case ENG_NUM_INPUTS: return Z_engineZ_tl_num_inputs(&g_inst);
    case ENG_NUM_OUTPUTS: return Z_engineZ_tl_num_outputs(&g_inst);
    case ENG_INPUT_PTR: return Z_engineZ_tl_input_ptr(&g_inst, arg);
    case ENG_INPUT_BYTES: return Z_engineZ_tl_input_bytes(&g_inst, arg);
    case ENG_OUTPUT_PTR: return Z_engineZ_tl_output_ptr(&g_inst, arg);
    case ENG_OUTPUT_BYTES: return Z_engineZ_tl_output_bytes(&g_inst, arg);
    case ENG_ARENA_BYTES: return Z_engineZ_tl_arena_bytes(&g_inst);
    case ENG_OP_COUNT: return Z_engineZ_tl_op_count(&g_inst);
    case ENG_PEAK_BYTES: return Z_engineZ_tl_peak_bytes(&g_inst);
    case ENG_ARENA_PTR: return Z_engineZ_tl_arena_ptr(&g_inst);
    case ENG_OP_INDEX: return Z_engineZ_tl_op_index(&g_inst);
    case ENG_BEGIN: Z_engineZ_tl_begin(&g_inst); return 0;
    case ENG_STEP: return Z_engineZ_tl_step(&g_inst);
    case ENG_TRAIN_INIT: return Z_engineZ_tl_train_init(&g_inst);
    case ENG_TRAIN_SET_LR: Z_engineZ_tl_train_set_lr(&g_inst, arg); return 0;
    case ENG_TRAIN_SET_MOMENTUM: Z_engineZ_tl_train_set_momentum(&g_inst, arg); return 0;
    case ENG_TRAIN_STEP: return Z_engineZ_tl_train_step(&g_inst, arg);
    case ENG_TRAIN_LOSS_BITS: return Z_engineZ_tl_train_loss_bits(&g_inst);
    case ENG_TRAIN_STATE_OFFSET: return Z_engineZ_tl_train_state_offset(&g_inst);
    case ENG_TRAIN_STATE_BYTES: return Z_engineZ_tl_train_state_bytes(&g_inst);
  }
  return 0;
}

static void instantiate(void) {
  if (!g_module_ready) {
    wasm_rt_init();
    Z_engine_init_module();
    g_module_ready = 1;
  }
  wasm_rt_bare_reset_tables();
  Z_engine_instantiate(&g_inst, &g_env);
  Z_engineZ__initialize(&g_inst);
}

int engine_reset(void) {
  jmp_buf guard;
  wasm_rt_bare_enter(&guard);
  int trap = setjmp(guard);
  if (trap) {
    g_traps++;
    return trap;
  }
  instantiate();
  return 0;
}

int engine_call(engine_fn_t fn, uint32_t arg, uint32_t *result) {
  jmp_buf guard;
  wasm_rt_bare_enter(&guard);
  int trap = setjmp(guard);
  if (trap) {
    /* Globals or memory may be half-updated: start over with a clean instance. */
    g_traps++;
    if (!wasm_rt_bare_canary_intact()) trap = TL_TRAP_SANDBOX;
    engine_reset();
    return trap;
  }
  *result = dispatch(fn, arg);
  /* The sentinel after the sandbox: only an unchecked build can reach it. Reported like a trap
   * (the model must be reloaded); what else was overwritten is unknown, so the firmware should be reset. */
  if (!wasm_rt_bare_canary_intact()) {
    g_traps++;
    engine_reset();
    return TL_TRAP_SANDBOX;
  }
  return 0;
}

uint8_t *engine_memory(uint32_t *size, uint32_t *pages) {
  if (size) *size = g_inst.w2c_memory.size;
  if (pages) *pages = g_inst.w2c_memory.pages;
  return g_inst.w2c_memory.data;
}

uint32_t engine_trap_count(void) { return g_traps; }
