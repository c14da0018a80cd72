/* The engine as the core sees it: engine.wasm compiled by wasm2c, called under a trap guard. */
#ifndef TL_ENGINE_PORT_H
#define TL_ENGINE_PORT_H
#include <stdint.h>

typedef enum {
  ENG_ABI_VERSION, ENG_LOAD, ENG_INVOKE,
  ENG_NUM_INPUTS, ENG_NUM_OUTPUTS, ENG_INPUT_PTR, ENG_INPUT_BYTES, ENG_OUTPUT_PTR, ENG_OUTPUT_BYTES,
  ENG_ARENA_BYTES, ENG_OP_COUNT, ENG_PEAK_BYTES,
  ENG_ARENA_PTR, ENG_OP_INDEX,
  ENG_BEGIN, /* tl_begin: rewind to the first op; result 0 */
  ENG_STEP,  /* tl_step: run the next op; result = engine status (DONE after the last) */
  /* Training (a training .tlm): */
  ENG_TRAIN_INIT,         /* state from the blob's parameters, momentum zeroed; result = status */
  ENG_TRAIN_SET_LR,       /* arg = f32 bits; result 0 */
  ENG_TRAIN_SET_MOMENTUM, /* arg = f32 bits; result 0 */
  ENG_TRAIN_STEP,         /* arg = label; forward on input 0, loss, backward, update; result = status */
  ENG_TRAIN_LOSS_BITS,    /* f32 bits of the last step's loss */
  ENG_TRAIN_STATE_OFFSET, /* arena offset of the persistent training state */
  ENG_TRAIN_STATE_BYTES,  /* its size: what a checkpoint saves */
} engine_fn_t;

/* Fresh instance: zeroed memory, initial globals, the module's start function run.
 * Returns 0 or a wasm2c trap code. */
int engine_reset(void);

/* Calls one export under the trap guard; on a trap the instance is reset and the
 * trap code (non-zero) returned. `arg` is ignored by exports without one. */
int engine_call(engine_fn_t fn, uint32_t arg, uint32_t *result);

/* The blob tl_read serves: bytes [0, bytes) of the model store. 0 = no blob. */
void engine_set_blob(uint32_t bytes);

/* Linear memory as it is now (pointer valid until the next reset or grow). */
uint8_t *engine_memory(uint32_t *size, uint32_t *pages);

uint32_t engine_trap_count(void);

#endif
