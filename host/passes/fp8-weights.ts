// Float32 weights to fp8 E4M3 codes with f32 scales, for the fp8-weight ops.
// E4M3 (OCP "E4M3FN", bias 7, no infinities, largest finite 448) has the same relative
// precision at every magnitude, so a channel's scale only has to put its largest weight
// at 448: scale = max|w| / 448. One scale for the whole tensor is then almost as good as
// one per channel (only channels 2^14 times smaller than the largest would lose bits to
// subnormals), and saves 4 bytes of flash per channel; we take it when it costs nothing.

/** Positive finite E4M3 values by code 0..0x7E (exact in f32). */
const E4M3_VALUES = Float64Array.from({ length: 0x7f }, (_, c) => {
  const e = c >> 3, m = c & 7;
  return e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7);
});
export const E4M3_MAX = 448;

/** The E4M3 value of a code (NaN codes 0x7F/0xFF decode to NaN). */
export function e4m3Decode(code: number): number {
  const mag = code & 0x7f;
  if (mag === 0x7f) return NaN;
  return code & 0x80 ? -E4M3_VALUES[mag] : E4M3_VALUES[mag];
}

/** Nearest E4M3 code to x (ties to the even code), saturating at ±448. */
export function e4m3Encode(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.abs(x);
  if (!(a < E4M3_MAX)) return sign | (Number.isNaN(a) ? 0x7f : 0x7e);
  let lo = 0, hi = 0x7e; // E4M3_VALUES[lo] <= a < E4M3_VALUES[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (E4M3_VALUES[mid] <= a) lo = mid; else hi = mid;
  }
  const dLo = a - E4M3_VALUES[lo], dHi = E4M3_VALUES[hi] - a;
  return sign | (dLo < dHi || (dLo === dHi && (lo & 1) === 0) ? lo : hi);
}

export interface Fp8Weights {
  /** E4M3 codes, [outC][perChannel]. */
  codes: Uint8Array;
  /** f32 weight scales: one per channel, or one for the tensor. */
  scales: Float32Array;
  perChannelScale: boolean;
}

/** Codes and squared error of `w` ([outC][perChannel]) under per-channel scales. */
function encodeWith(w: Float32Array, perChannel: number, scaleOf: (c: number) => number): { codes: Uint8Array; error: number } {
  const codes = new Uint8Array(w.length);
  let error = 0;
  for (let i = 0; i < w.length; i++) {
    const s = scaleOf(Math.floor(i / perChannel));
    codes[i] = e4m3Encode(w[i] / s);
    error += (e4m3Decode(codes[i]) * s - w[i]) ** 2;
  }
  return { codes, error };
}

/** Quantizes [outC][perChannel] float weights to E4M3: one scale for the tensor when that is as accurate as one per channel. */
export function quantizeFp8Weights(w: Float32Array, outC: number, perChannel: number): Fp8Weights {
  const maxAbs = new Float64Array(outC);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / perChannel);
    maxAbs[c] = Math.max(maxAbs[c], Math.abs(w[i]));
  }
  const scaleFor = (m: number) => Math.fround(m > 0 ? m / E4M3_MAX : 1); // an all-zero channel: any scale
  const channelScales = Float32Array.from(maxAbs, scaleFor);
  const tensorScale = scaleFor(Math.max(0, ...maxAbs));
  const byChannel = encodeWith(w, perChannel, (c) => channelScales[c]);
  const byTensor = encodeWith(w, perChannel, () => tensorScale);
  if (byTensor.error <= byChannel.error * 1.001) {
    return { codes: byTensor.codes, scales: Float32Array.of(tensorScale), perChannelScale: false };
  }
  return { codes: byChannel.codes, scales: channelScales, perChannelScale: true };
}

/** The float weights the codes stand for (for measuring the error fp8 adds). */
export function dequantizeFp8Weights(q: Fp8Weights, perChannel: number): Float32Array {
  return Float32Array.from(q.codes, (code, i) => e4m3Decode(code) * q.scales[q.perChannelScale ? Math.floor(i / perChannel) : 0]);
}
