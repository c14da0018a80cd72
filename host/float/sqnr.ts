// Signal-to-quantization-noise ratio: how close a quantized model's outputs are to float's.
// Its own module so the compiler (auto precision) can use it without the evaluation runners.

/** Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2), pooled over all pairs. */
export function sqnrDb(reference: Float32Array[], test: Float32Array[]): number {
  let signal = 0, noise = 0;
  reference.forEach((r, k) => {
    const t = test[k];
    if (t.length !== r.length) throw new Error(`output ${k}: ${t.length} values against ${r.length}`);
    for (let i = 0; i < r.length; i++) {
      signal += r[i] * r[i];
      noise += (r[i] - t[i]) ** 2;
    }
  });
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}
