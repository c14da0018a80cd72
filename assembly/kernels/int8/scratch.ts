// One static buffer the int8 kernels share for data they prepare during a single call (gathered
// input patches, repacked weights). No kernel keeps anything in it between calls, so one region
// serves all of them and the engine's static SRAM grows by the largest user only.

/**
 * Bytes of SCRATCH. The largest user is conv2d_gather.ts: a strip of 16 gathered pixels (68 bytes
 * each) and one block's paired weights (64 taps x 8 bytes). Measured on qemu-m4 against 8-pixel
 * strips in 1,088 bytes: KWS 8.87 -> 8.70 M instructions, VWW 21.92 -> 21.60 M; 32-pixel strips
 * (2,688 bytes) would save only 1% more.
 */
export const SCRATCH_BYTES: i32 = 16 * 68 + 64 * 8;

export const SCRATCH: usize = memory.data(SCRATCH_BYTES, 16);
