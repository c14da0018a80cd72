// Stochastic gradient descent on f32 master parameters, with optional (heavy-ball) momentum:
//   v = momentum * v + g     (v = g without a velocity buffer)
//   master -= step * v
// (PyTorch's SGD form: the step multiplies the velocity, not the gradient.)

/** Updates master[0..n) from grad[0..n) (both f32); velocity: f32[n] kept between steps, or 0 for none. */
export function sgd_update_f32(master: usize, grad: usize, n: i32, step: f32, velocity: usize, momentum: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let v = load<f32>(grad + o);
    if (velocity != 0) {
      v = momentum * load<f32>(velocity + o) + v;
      store<f32>(velocity + o, v);
    }
    store<f32>(master + o, load<f32>(master + o) - step * v);
  }
}
