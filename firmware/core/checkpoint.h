/* Training checkpoints in the model store: the engine's persistent training state for one
 * model, so training survives a RESET (or a crash the host recovers from) and resumes exactly. */
#ifndef TL_CHECKPOINT_H
#define TL_CHECKPOINT_H
#include <stdint.h>

/* Saves n state bytes for the blob with CRC blob_crc at the top of the store, below which the
 * loaded blob (model_bytes) must end. Returns 0 with *written = bytes stored and *state_crc =
 * CRC of the stored state; TLP_ERR_TOO_LARGE with *written = the most state bytes that would
 * fit; or TLP_ERR_BAD_STATE (with *written = 0) if the store refused a write. */
uint32_t checkpoint_save(uint32_t blob_crc, uint32_t step, const uint8_t *state, uint32_t n,
                         uint32_t model_bytes, uint32_t *written, uint32_t *state_crc);

/* Finds the checkpoint for blob_crc holding exactly n state bytes. Returns 0 with *state
 * (in the store), *step and *state_crc; or a TLP_CKPT_* reason why there is none. */
uint32_t checkpoint_find(uint32_t blob_crc, uint32_t n, const uint8_t **state, uint32_t *step, uint32_t *state_crc);

#endif
