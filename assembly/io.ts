// The engine's only import: the runner copies `len` bytes of the model blob from
// `src` into linear memory at `dst` (on a board, straight out of flash). Non-zero = refused.
// @ts-ignore: decorator
@external("env", "tl_read")
export declare function tl_read(src: u32, dst: usize, len: u32): i32;
