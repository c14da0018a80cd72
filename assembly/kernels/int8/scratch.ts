// One static buffer the int8 kernels share for data they prepare during a single call (gathered
// input patches, repacked weights). No kernel keeps anything in it between calls, so one region
// serves all of them and the engine's static SRAM grows by the largest user only.

/** Bytes of SCRATCH: the gathered strip of conv2d_gather.ts (16 pixels x 68 bytes) is the largest user. */
export const SCRATCH_BYTES: i32 = 1088;

export const SCRATCH: usize = memory.data(SCRATCH_BYTES, 16);
