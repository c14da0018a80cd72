// Elementwise helpers on f32 error buffers (no allocation; n elements from raw pointers).

/** dst[i] += src[i]: errors of a tensor read by several ops add up (ADD's inputs, fan-out). */
export function accumulate_f32(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** dst[i] *= factor. */
export function scale_f32(dst: usize, n: i32, factor: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) * factor);
  }
}

/** dst[i] = src[i] (the buffers may overlap). */
export function copy_f32(dst: usize, src: usize, n: i32): void {
  if (n > 0) memory.copy(dst, src, <usize>n << 2);
}

/** dst[i] = 0 (+0.0: all bits zero). */
export function zero_f32(dst: usize, n: i32): void {
  if (n > 0) memory.fill(dst, 0, <usize>n << 2);
}
