// Pieces shared by the int8 kernels: tap ranges of a (dilated) sliding window, the
// offset dot product, per-channel requantization, and the parameter checks of the
// per-channel kernels (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED).
// Everything used inside a loop is @inline, so each kernel compiles as if the code
// were written in place (same generated code, same speed).
import { CHANNEL_DATA_BYTES } from "../../format";

/**
 * The value of multiplyByQuantizedMultiplier (assembly/quant.ts) for shift in [-31, 30], in fewer
 * instructions (requantization runs once per output of every kernel):
 * - gemmlowp's SaturatingRoundingDoublingHighMul adds a sign-dependent nudge and divides by 2^31
 *   truncating toward zero; for every product that equals floor((a*m + 2^30) / 2^31), one add and
 *   an arithmetic shift (for a*m < 0: trunc((a*m + 1 - 2^30) / 2^31) = floor((a*m + 2^30) / 2^31)).
 *   The one overflow, MIN_VALUE * MIN_VALUE, still saturates to MAX_VALUE.
 * - RoundingDivideByPOT as in gemmlowp (mask, remainder, threshold one higher for negatives),
 *   which is the identity for a right shift of 0.
 */
// @ts-ignore: decorator
@inline
export function mulByQuantMultiplier(x: i32, mult: i32, shift: i32): i32 {
  const a = x << (shift > 0 ? shift : 0); // = x * 2^leftShift modulo 2^32, as in TFLite
  let r = <i32>((<i64>a * <i64>mult + (<i64>1 << 30)) >> 31);
  if (a == i32.MIN_VALUE && mult == i32.MIN_VALUE) r = i32.MAX_VALUE;
  const mask = (1 << (shift > 0 ? 0 : -shift)) - 1;
  return (r >> (shift > 0 ? 0 : -shift)) + ((r & mask) > ((mask >> 1) + (r >>> 31)) ? 1 : 0);
}

/** First tap index k (of stride `dil`) with origin + dil*k >= 0. */
// @ts-ignore: decorator
@inline
export function tapBegin(origin: i32, dil: i32): i32 {
  return origin >= 0 ? 0 : (dil - 1 - origin) / dil;
}

/** One past the last tap index k < kSize with origin + dil*k < size. */
// @ts-ignore: decorator
@inline
export function tapEnd(origin: i32, dil: i32, size: i32, kSize: i32): i32 {
  const room = size - origin;
  if (room <= 0) return 0;
  const e = (room + dil - 1) / dil;
  return e < kSize ? e : kSize;
}

/** sum over i < len of (x[i] + off) * w[i], for contiguous int8 x and w. */
// @ts-ignore: decorator
@inline
export function dotOffset(x: usize, w: usize, len: i32, off: i32): i32 {
  // Two accumulators over a 4-way unrolled body: shorter dependency chains.
  let acc0: i32 = 0, acc1: i32 = 0;
  const end = x + <usize>len;
  const end4 = x + <usize>(len & ~3);
  while (x < end4) {
    acc0 += (<i32>load<i8>(x) + off) * <i32>load<i8>(w);
    acc1 += (<i32>load<i8>(x, 1) + off) * <i32>load<i8>(w, 1);
    acc0 += (<i32>load<i8>(x, 2) + off) * <i32>load<i8>(w, 2);
    acc1 += (<i32>load<i8>(x, 3) + off) * <i32>load<i8>(w, 3);
    x += 4;
    w += 4;
  }
  while (x < end) {
    acc0 += (<i32>load<i8>(x) + off) * <i32>load<i8>(w);
    x++;
    w++;
  }
  return acc0 + acc1;
}

/**
 * One output value of a per-channel kernel: accumulator + the channel's bias, scaled by
 * its multiplier and shift, + the output offset, clamped to [actMin, actMax].
 * `channel` points at the channel's [bias i32, multiplier i32, shift i32] record.
 */
// @ts-ignore: decorator
@inline
export function requantizeChannel(acc: i32, channel: usize, outOff: i32, actMin: i32, actMax: i32): i32 {
  acc += load<i32>(channel);
  acc = mulByQuantMultiplier(acc, load<i32>(channel, 4), load<i32>(channel, 8));
  acc += outOff;
  return acc < actMin ? actMin : (acc > actMax ? actMax : acc);
}

/**
 * Checks shared by the per-channel kernels: output channels [oc0, oc1) lie within outC,
 * the activation range is inside int8, and each of the tile's oc1 - oc0 channel records
 * has a shift TFLite can produce, [-31, 30], and a multiplier other than i32.MIN_VALUE (TFLite's
 * are 0 or in [2^30, 2^31)), which lets requantizeWith skip the one saturating product.
 * The range is checked before any record is read.
 */
export function channelTileOk(tile: usize, oc0: i32, oc1: i32, outC: i32, actMin: i32, actMax: i32): bool {
  if (oc0 < 0 || oc1 > outC || oc0 > oc1) return false;
  if (actMin < -128 || actMax > 127 || actMin > actMax) return false;
  const n = oc1 - oc0;
  for (let j = 0; j < n; j++) {
    const shift = load<i32>(tile + <usize>(j * CHANNEL_DATA_BYTES), 8);
    if (shift < -31 || shift > 30) return false;
    if (load<i32>(tile + <usize>(j * CHANNEL_DATA_BYTES), 4) == i32.MIN_VALUE) return false;
  }
  return true;
}

/**
 * Geometry checks shared by CONV_2D and DEPTHWISE_CONV_2D (each checks its channel counts):
 * a non-empty input, a non-negative output size, and kernel, stride and dilation of at
 * least 1. Takes the kernel's locals (not the params) so the checks fold into one branch.
 */
// @ts-ignore: decorator
@inline
export function convGeometryOk(inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32): bool {
  if (inH < 1 || inW < 1 || inC < 1 || outH < 0 || outW < 0) return false;
  return !(kH < 1 || kW < 1 || strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1);
}

// ---- word-at-a-time helpers ----
// The hot loops read int8 tensors four bytes at a time (one i32 load instead of four i8 loads:
// on a bounds-checked or masked runtime every load carries its own address check) and split
// the word into its signed lanes in registers. Lane 0 is the byte at the lowest address
// (wasm is little-endian). Unaligned i32 loads are valid wasm.

/** Signed int8 lane 0..3 of a little-endian word (lane 0: lowest address). */
// @ts-ignore: decorator
@inline
export function lane0(v: i32): i32 { return <i32><i8>v; }
// @ts-ignore: decorator
@inline
export function lane1(v: i32): i32 { return <i32><i8>(v >> 8); }
// @ts-ignore: decorator
@inline
export function lane2(v: i32): i32 { return <i32><i8>(v >> 16); }
// @ts-ignore: decorator
@inline
export function lane3(v: i32): i32 { return v >> 24; }

/** sum over the four lanes of x[l] * w[l]: four int8 products of two words. */
// @ts-ignore: decorator
@inline
export function dot4(x: i32, w: i32): i32 {
  return lane0(x) * lane0(w) + lane1(x) * lane1(w) + lane2(x) * lane2(w) + lane3(x) * lane3(w);
}

/** x0*w[0] + x1*w[1] + x2*w[2] + x3*w[3] over the int8 lanes of w, for inputs already unpacked (and offset). */
// @ts-ignore: decorator
@inline
export function dotLanes(x0: i32, x1: i32, x2: i32, x3: i32, w: i32): i32 {
  return x0 * lane0(w) + x1 * lane1(w) + x2 * lane2(w) + x3 * lane3(w);
}

/** dot4 over both halves of two 8-lane (i64) words: 8 int8 products, one load per operand. */
// @ts-ignore: decorator
@inline
export function dot8(x: i64, w: i64): i32 {
  return dot4(<i32>x, <i32>w) + dot4(<i32>(x >>> 32), <i32>(w >>> 32));
}

/**
 * Sum of len contiguous int8 values (a filter's weight sum, for folding in the input offset).
 * Four at a time: XOR 0x80 turns each signed lane b into the unsigned b + 128, and two masked
 * adds sum a word's lanes pairwise into 16-bit halves; up to 128 words fit in those halves
 * (128 x 2 x 255 < 2^16) before they are folded, and 128 per lane comes off at the end.
 */
export function sumInt8(p: usize, len: i32): i32 {
  let s: i32 = 0, i = 0;
  const words = len & ~3;
  while (i < words) {
    const end = min(words, i + 512);
    let halves: u32 = 0;
    for (; i < end; i += 4) {
      const x = load<u32>(p + <usize>i) ^ 0x80808080;
      halves += (x & 0x00ff00ff) + ((x >>> 8) & 0x00ff00ff);
    }
    s += <i32>((halves & 0xffff) + (halves >>> 16));
  }
  s -= words << 7;
  for (; i < len; i++) s += <i32>load<i8>(p + <usize>i);
  return s;
}

/** Four int8 results (each in [-128, 127]) as one little-endian word, a first. */
// @ts-ignore: decorator
@inline
export function pack4(a: i32, b: i32, c: i32, d: i32): i32 {
  return (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (d << 24);
}

/** requantizeChannel with the channel's multiplier and shift already in locals (bias already in acc). */
// @ts-ignore: decorator
@inline
export function requantize(acc: i32, mult: i32, shift: i32, outOff: i32, actMin: i32, actMax: i32): i32 {
  acc = mulByQuantMultiplier(acc, mult, shift) + outOff;
  return acc < actMin ? actMin : (acc > actMax ? actMax : acc);
}

// ---- two pixels per multiply ----

/**
 * Inputs of two pixels in one register: xa + xb * 2^23. One 32x32->64-bit multiply-add of a
 * weight by it adds w*xa to the low 23 bits and w*xb above them (smlal on Arm: two
 * multiply-adds in one instruction). Exact while |sum of w*xa| < 2^22: at most PAIR_CHUNK
 * products of two int8 (each at most 2^14) go into one 64-bit sum before it is split.
 */
// @ts-ignore: decorator
@inline
export function pair(xa: i32, xb: i32): i64 { return <i64>(xa + (xb << 23)); }

/**
 * The paired weights of `pairs` channel pairs (channel rows of `stride` int8 from w) for taps
 * [0, taps): word (i * pairs + q) at dst is pair(w[2q][i], w[2q + 1][i]). The packed kernels build
 * them once per block and read them for every pixel.
 */
// @ts-ignore: decorator
@inline
export function pairWeights(dst: usize, w: usize, stride: i32, taps: i32, pairs: i32): void {
  const step = <usize>(pairs << 2);
  for (let q = 0; q < pairs; q++) {
    let wa = w + <usize>(2 * q * stride), d = dst + <usize>(q << 2);
    const end = wa + <usize>taps;
    for (; wa < end; wa++) {
      store<i32>(d, <i32>pair(<i32>load<i8>(wa), <i32>load<i8>(wa + <usize>stride)));
      d += step;
    }
  }
}

/** t + the products of w's lanes 0-2 with three pairs, added in lane order (one smlal each on Arm). */
// @ts-ignore: decorator
@inline
export function macPairs3(t: i64, w: i32, x0: i64, x1: i64, x2: i64): i64 {
  t += <i64>lane0(w) * x0; t += <i64>lane1(w) * x1; t += <i64>lane2(w) * x2;
  return t;
}

/** t + the products of w's 4 lanes with four pairs, added in lane order. */
// @ts-ignore: decorator
@inline
export function macPairs(t: i64, w: i32, x0: i64, x1: i64, x2: i64, x3: i64): i64 {
  return macPairs3(t, w, x0, x1, x2) + <i64>lane3(w) * x3;
}

/** Products per 64-bit pair sum before it is split: 240 * 2^14 < 2^22. A multiple of 8. */
export const PAIR_CHUNK: usize = 240;

/** The first pixel's part of a pair sum (its low 23 bits, sign-extended). */
// @ts-ignore: decorator
@inline
export function lowSum(s: i64): i32 { return (<i32>s << 9) >> 9; }

/** The second pixel's part of a pair sum. */
// @ts-ignore: decorator
@inline
export function highSum(s: i64): i32 { return <i32>((s - <i64>lowSum(s)) >> 23); }

/**
 * requantize for a loop over one channel's outputs, with the shift's parts computed once by the
 * caller: ls = max(shift, 0), rs = max(-shift, 0), mask = 2^rs - 1, half = mask >> 1. The
 * multiplier must not be i32.MIN_VALUE (channelTileOk), so the doubling high product cannot
 * saturate and needs no test: the same value as requantize for every accumulator.
 */
// @ts-ignore: decorator
@inline
export function requantizeWith(acc: i32, mult: i32, ls: i32, rs: i32, mask: i32, half: i32,
  outOff: i32, actMin: i32, actMax: i32): i32 {
  const r = <i32>((<i64>(acc << ls) * <i64>mult + (<i64>1 << 30)) >> 31);
  acc = (r >> rs) + ((r & mask) > half + (r >>> 31) ? 1 : 0) + outOff;
  return acc < actMin ? actMin : (acc > actMax ? actMax : acc);
}

/**
 * One rounding instead of two, for a channel with shift -R, R in [1, FUSED_MAX_RIGHT], and a
 * multiplier >= 0 (TFLite's usual case): requantizeWith's doubling high product
 * r = floor((x*m + 2^30) / 2^31) followed by the rounding right shift of r by R (half away from
 * zero: floor((r + 2^(R-1) - [r < 0]) / 2^R)) is, since floor(floor(y) + h) = floor(y + h) for
 * an integer h, floor((x*m + 2^30 + 2^(30+R) - [r < 0]*2^31) / 2^(31+R)). With m >= 0, r < 0 only
 * when x < 0, and an x < 0 with r = 0 gives 0 either way (the sum stays in [0, 2^(31+R))), so the
 * sign of x picks the constant. The output offset times 2^(31+R) joins the constant, and for
 * R <= 23 every term fits an i64. On Arm: and, adds, adc, smlal, asr, then the clamp.
 * `k` is 2^30 + 2^(30+R) + outOff * 2^(31+R) (fusedConstant), `d` = R - 1.
 */
// @ts-ignore: decorator
@inline
export function requantizeFused(acc: i32, kLo: i32, kHi: i32, mult: i32, d: i32, actMin: i32, actMax: i32): i32 {
  // the low word masked, not converted through u32: asc -O2 turned that into a sign-extending load
  const k = ((<i64>kHi << 32) | (<i64>kLo & 0xFFFFFFFF)) + <i64>(acc & i32.MIN_VALUE);
  const v = <i32>((k + <i64>acc * <i64>mult) >> 32) >> d;
  return v < actMin ? actMin : (v > actMax ? actMax : v);
}

/** Largest right shift requantizeFused takes (its 64-bit sum must not overflow). */
export const FUSED_MAX_RIGHT = 23;

/** True when requantizeFused computes requantize(acc, mult, shift, ...) for this channel. */
// @ts-ignore: decorator
@inline
export function fusedApplies(mult: i32, shift: i32): bool {
  return mult >= 0 && shift <= -1 && shift >= -FUSED_MAX_RIGHT;
}

/** requantizeFused's constant for right shift r and output offset outOff. */
// @ts-ignore: decorator
@inline
export function fusedConstant(r: i32, outOff: i32): i64 {
  return (<i64>1 << 30) + (<i64>1 << (30 + r)) + (<i64>outOff << (31 + r));
}

/**
 * The requantization parameters of a block of 4 (or 8: two groups of 4) channels at a fixed
 * address (one load each, no address mask), prepared once per block by setBlockQuant. Per
 * channel (32 bytes): multiplier, left shift, right shift, mask and half (see requantizeWith),
 * then requantizeFused's constant (low, high word) and final shift. BLOCK_FUSED says, per group
 * of 4, whether all 4 channels take requantizeFused.
 */
const BLOCK_Q: usize = memory.data(8 * 32, 16);
const BLOCK_FUSED: usize = memory.data(8, 4);

/** Fills BLOCK_Q from the 4 * groups (1 or 2) consecutive channel records at ch, for output offset outOff. */
export function setBlockQuant(ch: usize, outOff: i32, groups: i32 = 1): void {
  for (let g = 0; g < groups; g++) {
    let fused = true;
    for (let c = g * 4; c < g * 4 + 4; c++) {
      const rec = ch + <usize>(c * CHANNEL_DATA_BYTES), q = BLOCK_Q + <usize>(c * 32);
      const mult = load<i32>(rec, 4), shift = load<i32>(rec, 8), rs = shift > 0 ? 0 : -shift;
      store<i32>(q, mult);
      store<i32>(q, shift > 0 ? shift : 0, 4);
      store<i32>(q, rs, 8);
      store<i32>(q, (1 << rs) - 1, 12);
      store<i32>(q, ((1 << rs) - 1) >> 1, 16);
      // A zero multiplier gives outOff whatever the shift: any right shift of the fused form does.
      const fusedShift = mult == 0 ? -1 : shift;
      if (fusedApplies(mult, fusedShift)) {
        const k = fusedConstant(-fusedShift, outOff);
        store<i32>(q, <i32>k, 20);
        store<i32>(q, <i32>(k >> 32), 24);
        store<i32>(q, -fusedShift - 1, 28);
      } else {
        fused = false;
      }
    }
    store<i32>(BLOCK_FUSED + <usize>(g << 2), fused ? 1 : 0);
  }
}

/** Channel c (0-7) of the block's output byte for accumulator acc (bias included), from BLOCK_Q. */
// @ts-ignore: decorator
@inline
export function blockOut(acc: i32, c: i32, outOff: i32, actMin: i32, actMax: i32): i32 {
  const q = BLOCK_Q + <usize>(c * 32);
  return requantizeWith(acc, load<i32>(q), load<i32>(q, 4), load<i32>(q, 8), load<i32>(q, 12), load<i32>(q, 16), outOff, actMin, actMax);
}

/** blockOut through requantizeFused (only when the channel's group has BLOCK_FUSED set). */
// @ts-ignore: decorator
@inline
function blockOutFused(acc: i32, c: i32, actMin: i32, actMax: i32): i32 {
  const q = BLOCK_Q + <usize>(c * 32);
  return requantizeFused(acc, load<i32>(q, 20), load<i32>(q, 24), load<i32>(q), load<i32>(q, 28), actMin, actMax);
}

/** Channels c and c + 1 (of BLOCK_Q's 8) as two output bytes (a0 low), for a block of 4 set by setBlockQuant. */
// @ts-ignore: decorator
@inline
export function blockPair(a0: i32, a1: i32, c: i32, outOff: i32, actMin: i32, actMax: i32): i32 {
  if (load<i32>(BLOCK_FUSED + <usize>((c >> 2) << 2)) != 0) {
    return (blockOutFused(a0, c, actMin, actMax) & 0xff) | (blockOutFused(a1, c + 1, actMin, actMax) << 8);
  }
  return (blockOut(a0, c, outOff, actMin, actMax) & 0xff) | (blockOut(a1, c + 1, outOff, actMin, actMax) << 8);
}

/** Group g's (0 or 1) 4 output bytes for accumulators a0..a3 (bias included), packed as one word. */
// @ts-ignore: decorator
@inline
export function blockPack(a0: i32, a1: i32, a2: i32, a3: i32, outOff: i32, actMin: i32, actMax: i32, g: i32 = 0): i32 {
  const c = g << 2;
  if (load<i32>(BLOCK_FUSED + <usize>(g << 2)) != 0) {
    if (actMin == -128 && actMax == 127) {
      // The whole int8 range (no fused activation, or ReLU at zero point -128): constant bounds
      // are immediates instead of two more live registers (measured: KWS -1.3%, VWW -1.1%).
      return pack4(blockOutFused(a0, c, -128, 127), blockOutFused(a1, c + 1, -128, 127),
        blockOutFused(a2, c + 2, -128, 127), blockOutFused(a3, c + 3, -128, 127));
    }
    return pack4(blockOutFused(a0, c, actMin, actMax), blockOutFused(a1, c + 1, actMin, actMax),
      blockOutFused(a2, c + 2, actMin, actMax), blockOutFused(a3, c + 3, actMin, actMax));
  }
  return blockPackSlow(a0, a1, a2, a3, outOff, actMin, actMax, c);
}

/** blockPack for a group that does not take requantizeFused (rare: a shift >= 0): not inlined, to keep the kernels small. */
function blockPackSlow(a0: i32, a1: i32, a2: i32, a3: i32, outOff: i32, actMin: i32, actMax: i32, c: i32): i32 {
  return pack4(blockOut(a0, c, outOff, actMin, actMax), blockOut(a1, c + 1, outOff, actMin, actMax),
    blockOut(a2, c + 2, outOff, actMin, actMax), blockOut(a3, c + 3, outOff, actMin, actMax));
}
