// How the backward kernels read their operands, chosen at compile time by a type parameter so
// one kernel body serves the int8 path and hybrid fp8 (no run-time branch in the loops):
// - errors E: f32 (an f32 error buffer) or u8 (E5M2 codes, decoded through `table` and scaled
//   by the buffer's 2^-k: fp8_error.ts);
// - inputs X: i8 (the forward's int8 tensor, minus its zero point) or u8 (E4M3 codes of
//   x_q - zeroPoint, decoded through `table`).

/** Error element i. */
// @ts-ignore: decorator
@inline export function errorAt<E>(buf: usize, i: i32, table: usize, scale: f32): f32 {
  if (sizeof<E>() == 1) return load<f32>(table + (<usize>load<u8>(buf + <usize>i) << 2)) * scale;
  return load<f32>(buf + (<usize>i << 2));
}

/** Input element i in the input's integer units (x_q - zeroPoint). */
// @ts-ignore: decorator
@inline export function inputAt<X>(buf: usize, i: i32, zeroPoint: i32, table: usize): f32 {
  if (isSigned<X>()) return <f32>(<i32>load<i8>(buf + <usize>i) - zeroPoint);
  return load<f32>(table + (<usize>load<u8>(buf + <usize>i) << 2));
}
