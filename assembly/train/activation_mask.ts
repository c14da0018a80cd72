// Straight-through masks for an activation clamp fused into an op's int8 output (ReLU, ReLU6 or
// the plain int8 range): where the output sits on a clamp bound, the clamp's derivative is taken
// as 0, elsewhere 1. One bit per element (LSB first in each byte), so the backward pass needs
// n/8 bytes instead of the n-byte output.

/**
 * Sets bit i of mask (byte i >> 3, bit i & 7) to actMin < output[i] < actMax, for n int8 outputs;
 * writes ceil(n / 8) bytes, the unused high bits of the last byte 0.
 */
export function activation_mask_pack(output: usize, n: i32, actMin: i32, actMax: i32, mask: usize): void {
  for (let i0 = 0; i0 < n; i0 += 8) {
    const end = min(n - i0, 8);
    let bits: u32 = 0;
    for (let b = 0; b < end; b++) {
      const y = <i32>load<i8>(output + <usize>(i0 + b));
      if (y > actMin && y < actMax) bits |= <u32>1 << <u32>b;
    }
    store<u8>(mask + <usize>(i0 >> 3), <u8>bits);
  }
}

/** grad[i] = 0 where bit i of mask is 0 (f32[n]; the other elements are left as they are). */
export function activation_mask_apply_f32(grad: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) if (!maskBit(mask, i)) store<f32>(grad + (<usize>i << 2), 0);
}

/** Bit i of a mask: the gradient passes element i. */
// @ts-ignore: decorator
@inline export function maskBit(mask: usize, i: i32): bool {
  return ((<u32>load<u8>(mask + <usize>(i >> 3)) >> <u32>(i & 7)) & 1) != 0;
}

/** Bytes of the mask of n elements. */
export function activation_mask_bytes(n: i32): i32 {
  return (n + 7) >> 3;
}
