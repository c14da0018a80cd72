// The arena: one block of linear memory holding every activation and scratch buffer
// at offsets fixed by the host's memory plan. Kernels address tensors as ARENA + offset.

/** Linear-memory address of arena offset 0. Tests may point it anywhere. */
export let ARENA: usize = 0;
/** Planned arena size in bytes. */
export let ARENA_BYTES: u32 = 0;
/** Highest arena byte (exclusive) touched by any op since the last reset. */
export let HIGH_WATER: u32 = 0;

export function setArena(base: usize, bytes: u32): void {
  ARENA = base;
  ARENA_BYTES = bytes;
  HIGH_WATER = 0;
}

/** Records that an op uses [offset, offset+bytes); false if that is outside the arena. */
export function touch(offset: i32, bytes: i32): bool {
  if (offset < 0 || bytes < 0) return false;
  const end = <u64>offset + <u64>bytes;
  if (end > <u64>ARENA_BYTES) return false;
  if (<u32>end > HIGH_WATER) HIGH_WATER = <u32>end;
  return true;
}

/** Grows linear memory so that [0, end) is addressable. */
export function ensureMemory(end: usize): bool {
  const have = <usize>memory.size() << 16;
  if (end <= have) return true;
  const pages = <i32>((end - have + 0xffff) >> 16);
  return memory.grow(pages) >= 0;
}
