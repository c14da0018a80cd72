// Materializes updated f32 master parameters for the int8 forward pass. Masters are kept in the
// parameters' integer units (weight w_q, bias B), so storing is rounding and saturating only.
// Rounding is to nearest, ties to even (wasm f32.nearest: one IEEE operation, exactly the same
// on every runtime, and unbiased over many ties). NaN stores 0.

/**
 * dst[i] = clamp(round_half_even(master[i]), -127, 127) for n f32 masters to int8 weights;
 * [-127, 127] is TFLite's symmetric weight range (-128 never occurs, so -w stays representable).
 */
export function store_weights_s8(master: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const r = nearest<f32>(load<f32>(master + (<usize>i << 2)));
    // comparisons written so that NaN fails both and ends at 0
    const v: i32 = r >= 127 ? 127 : (r <= -127 ? -127 : (r == r ? <i32>r : 0));
    store<i8>(dst + <usize>i, <i8>v);
  }
}

/** round_half_even(master) saturated to the int32 range (NaN gives 0): the int32 bias of one channel. */
export function store_bias_s32(master: f32): i32 {
  const r = nearest<f32>(master);
  if (r >= <f32>2147483648.0) return i32.MAX_VALUE; // 2^31 is the first f32 above i32.MAX_VALUE
  if (r <= <f32>-2147483648.0) return i32.MIN_VALUE;
  return r == r ? <i32>r : 0;
}
