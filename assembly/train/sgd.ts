// Stochastic gradient descent on f32 master parameters, with optional (heavy-ball) momentum:
//   v = momentum * v + g     (v = g without a velocity buffer)
//   master -= step * v
// (PyTorch's SGD form: the step multiplies the velocity, not the gradient.)

/** Updates master[0..n) from grad[0..n) (both f32); velocity: f32[n] kept between steps, or 0 for none. */
export function sgd_update_f32(master: usize, grad: usize, n: i32, step: f32, velocity: usize, momentum: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(master + o, load<f32>(master + o) - step * direction(grad, velocity, momentum, o));
  }
}

/** The step's direction for element at byte offset o: the gradient, or with momentum the updated velocity. */
// @ts-ignore: decorator
@inline function direction(grad: usize, velocity: usize, momentum: f32, o: usize): f32 {
  const g = load<f32>(grad + o);
  if (velocity == 0) return g;
  const v = momentum * load<f32>(velocity + o) + g;
  store<f32>(velocity + o, v);
  return v;
}

/**
 * The same step on int8 weights that carry an int8 residual: the master value is
 * w + r / 256 (16-bit fixed point split over the weight the forward pass reads and a
 * residual byte), so steps far below one integer unit accumulate instead of rounding away,
 * at one extra byte per trained weight instead of a 4-byte f32 master.
 * w is rounded to nearest (ties to even) and kept in [-127, 127]; r in [-128, 127].
 */
export function sgd_update_s8_residual(weights: usize, residual: usize, grad: usize, n: i32, step: f32, velocity: usize, momentum: f32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i;
    const x = <f32>load<i8>(weights + at) + <f32>load<i8>(residual + at) * (1.0 / 256.0) - step * direction(grad, velocity, momentum, at << 2);
    const w = min<f32>(127, max<f32>(-127, nearest<f32>(x)));
    const r = min<f32>(127, max<f32>(-128, nearest<f32>((x - w) * 256.0)));
    store<i8>(weights + at, <i8><i32>w);
    store<i8>(residual + at, <i8><i32>r);
  }
}
