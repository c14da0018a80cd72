// One static buffer the int8 kernels share for data they prepare during a single call (gathered
// input patches, repacked weights). No kernel keeps anything in it between calls, so one region
// serves all of them and the engine's static SRAM grows by the largest user only.

/**
 * Bytes of SCRATCH. Its users: conv2d.ts's paired 3x3 weights (up to 576 taps x 4 bytes: inC 64),
 * conv2d_gather.ts's strip of 16 gathered pixels (68 bytes each) with one block's paired
 * weights (64 taps x 8 bytes), pointwise.ts's paired weights (inC x 8 or 16 bytes).
 * Measured on qemu-m4: the paired 3x3 blocks took IC from 40.77 to 35.30 M instructions
 * (2,304 bytes); the gather's 16-pixel strips against 8 took KWS 8.87 -> 8.70 M.
 */
export const SCRATCH_BYTES: i32 = 2304;

export const SCRATCH: usize = memory.data(SCRATCH_BYTES, 16);
