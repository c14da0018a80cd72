/** Deterministic test inputs: xorshift32 (13, 17, 5), byte i = low 8 bits after step i+1 (the golden data's generator). */
export function xorshiftBytes(seed: number, n: number): Uint8Array {
  let x = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
