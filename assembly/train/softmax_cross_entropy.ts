// Softmax cross-entropy on int8 logits, and the argmax of an int8 vector (the prediction).
// Real logits are scale * (q - zeroPoint). The softmax is shifted by the largest logit so no
// exp overflows; Mathf.exp and Mathf.log are AssemblyScript's software f32 routines, so the
// results are the same bits on every runtime (Node, wasm2c firmware). (At the engine's
// shrinkLevel 0 they are musl's table-driven expf/logf, which compute in f64 inside: soft-float
// on a Cortex-M4F, but only n + 1 calls per training step.)

/**
 * Loss and error of softmax + cross-entropy against class `label` (0 <= label < n).
 * Writes grad[i] = softmax(z)[i] - (i == label ? 1 : 0) (f32[n], the error of the real logits z)
 * and returns -log softmax(z)[label] (nats). An out-of-range label returns NaN and writes softmax(z).
 */
export function softmax_cross_entropy_f32(logits: usize, n: i32, scale: f32, zeroPoint: i32, label: i32, grad: usize): f32 {
  if (n <= 0) return NaN;
  // The largest logit in integer units (scale > 0, so the same element as the largest real logit);
  // z[i] - z_max = scale * (q[i] - q_max) leaves the zero point out exactly.
  const qMax = <i32>load<i8>(logits + <usize>argmax_s8(logits, n));
  let sum: f32 = 0;
  for (let i = 0; i < n; i++) {
    const e = Mathf.exp(scale * <f32>(<i32>load<i8>(logits + <usize>i) - qMax));
    store<f32>(grad + (<usize>i << 2), e);
    sum += e;
  }
  // sum >= 1 (the largest logit contributes exp(0)), so the division and the log are safe.
  for (let i = 0; i < n; i++) {
    const a = grad + (<usize>i << 2);
    store<f32>(a, load<f32>(a) / sum - (i == label ? <f32>1 : <f32>0));
  }
  if (label < 0 || label >= n) return NaN;
  // -log(e_label / sum) = log(sum) - (z_label - z_max)
  return Mathf.log(sum) - scale * <f32>(<i32>load<i8>(logits + <usize>label) - qMax);
}

/** Index of the first largest of n int8 values (0 when n <= 0). */
export function argmax_s8(values: usize, n: i32): i32 {
  let best: i32 = i32.MIN_VALUE, at = 0;
  for (let i = 0; i < n; i++) {
    const v = <i32>load<i8>(values + <usize>i);
    if (v > best) { best = v; at = i; }
  }
  return at;
}
