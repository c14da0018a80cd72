// CONV_2D for small filters (kH * kW * inC at most GATHER_MAX_K int8, at least 4): the first layers
// of CNNs, on images with 1-3 channels (VWW's and IC's 3x3x3, KWS's 10x4x1). Their filter rows are
// a few bytes long, so the row-by-row loops of conv2d.ts spend most of their time on loop set-up
// and on the many border pixels. Here each output pixel's receptive field is first gathered into
// one contiguous patch (im2col for one pixel), in the filter's [kH][kW][inC] order, so every
// pixel, at the border or not, is one dot product of the patch with each channel's weights.
//
// - A tap outside the input holds the input zero point, -inputOffset: its product with the
//   weight cancels the inputOffset * weight term of the per-channel constant
//   bias + inputOffset * (sum of the channel's weights), so it adds nothing, as in TFLite.
// - Pixels go in strips of STRIP_PIXELS (raster order, across rows): the strip is gathered once,
//   then each 4-channel block runs over it with its requantization parameters at fixed addresses
//   (setBlockQuant/blockPack: one load each, no address mask).
// - A 4-channel block pairs its weights per tap (w0 + w1 * 2^23, w2 + w3 * 2^23, as pointwise.ts's
//   packed blocks) once per strip: each patch byte is one sign-extending load and two 64-bit
//   multiply-adds give its 4 products. At most GATHER_MAX_K + 3 products go into a sum, within
//   PAIR_CHUNK, so the sums never need splitting.
// - The 0-3 channels left over pair two pixels' inputs instead (pair() in common.ts); the last
//   partial word of a channel's weights is read as the word ending at the channel's last byte,
//   shifted down: the lanes past the filter meet the patch's zero tail.
import { ConvParams, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { SCRATCH } from "./scratch";
import { sumInt8, requantize, lane0, lane1, lane2, lane3, pair, macPairs, macPairs3, lowSum, highSum, setBlockQuant, blockPack, pairWeights } from "./common";

/** Largest filter (kH * kW * inC bytes) this path takes; 64 covers the first layers of the MLPerf Tiny models. */
const GATHER_MAX_K: i32 = 64;
/** Bytes per gathered pixel: the filter's bytes and a zero word after them. */
const PATCH_BYTES: i32 = GATHER_MAX_K + 4;
/** Pixels gathered at once. */
const STRIP_PIXELS: i32 = 16;
/** Channels whose constants are prepared at once (the tile is walked in segments of this many). */
const SEGMENT: i32 = 64;

/** The gathered strip, then a 4-channel block's paired weights, in the kernels' shared scratch buffer. */
const STRIP: usize = SCRATCH;
const PACKED: usize = SCRATCH + <usize>(STRIP_PIXELS * PATCH_BYTES);
/** Per channel of the segment: bias + inputOffset * (sum of its weights). */
const FULL: usize = memory.data(SEGMENT * 4, 16);

let gatherMaxK: i32 = GATHER_MAX_K;

/** Test hook: the largest filter sent down this path (0 sends none, so conv2d.ts's own paths stay tested). */
export function setGatherMaxK(k: i32): void { gatherMaxK = min(k, GATHER_MAX_K); }

/** True when conv2d_s8 should use conv2d_gather_s8 (the input zero point must fit an int8 patch byte). */
export function isGatherConv(p: ConvParams): bool {
  const k = <i64>p.kH * <i64>p.kW * <i64>p.inC;
  const zp = -p.inputOffset;
  return k >= 4 && k <= <i64>gatherMaxK && zp >= -128 && zp <= 127;
}

/** Output channels [oc0, oc0 + n) of every pixel; parameters already checked by conv2d_s8. */
export function conv2d_gather_s8(p: ConvParams, tile: usize, oc0: i32, n: i32): void {
  const outW = p.outW, outC = p.outC;
  const k = p.kH * p.kW * p.inC;
  const inOff = p.inputOffset;
  const pixels = p.outH * outW;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  for (let s0 = 0; s0 < n; s0 += SEGMENT) {
    const sn = min(SEGMENT, n - s0);
    for (let c = 0; c < sn; c++) {
      const j = s0 + c;
      store<i32>(FULL + <usize>(c << 2), load<i32>(tile + <usize>(j * CHANNEL_DATA_BYTES)) + inOff * sumInt8(wBase + <usize>(j * k), k));
    }
    const outBase = ARENA + <usize>p.output + <usize>(oc0 + s0);
    for (let i0 = 0; i0 < pixels; i0 += STRIP_PIXELS) {
      const np = min(STRIP_PIXELS, pixels - i0);
      gatherStrip(p, i0 / outW, i0 % outW, np, k);
      strip(p, tile, wBase, k, s0, sn, np, outBase + <usize>(i0 * outC));
    }
  }
}

/**
 * The receptive fields of np pixels in raster order from (oy, ox) into STRIP: each k bytes in
 * filter order, then a zero word.
 */
function gatherStrip(p: ConvParams, oy: i32, ox: i32, np: i32, k: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC, kH = p.kH, kW = p.kW, outW = p.outW;
  const dilH = p.dilH, dilW = p.dilW, strideH = p.strideH, strideW = p.strideW, padH = p.padH, padW = p.padW;
  const zp = <i8>(-p.inputOffset);
  const rowBytes = inW * inC, span = kW * inC;
  const inBase = ARENA + <usize>p.input;
  for (let q = 0; q < np; q++) {
    const dst = STRIP + <usize>(q * PATCH_BYTES);
    const iy0 = oy * strideH - padH, ix0 = ox * strideW - padW;
    // A filter row whose taps are all inside is one contiguous span (dilation 1 along x).
    const spanInside = dilW == 1 && ix0 >= 0 && ix0 + kW <= inW;
    let d = dst;
    for (let ky = 0; ky < kH; ky++) {
      const iy = iy0 + ky * dilH;
      if (iy < 0 || iy >= inH) {
        for (let i = 0; i < span; i++) store<i8>(d + <usize>i, zp);
      } else if (spanInside) {
        const src = inBase + <usize>(iy * rowBytes + ix0 * inC);
        let i = 0;
        for (; i + 4 <= span; i += 4) store<i32>(d + <usize>i, load<i32>(src + <usize>i));
        for (; i < span; i++) store<i8>(d + <usize>i, load<i8>(src + <usize>i));
      } else {
        const row = inBase + <usize>(iy * rowBytes);
        for (let kx = 0; kx < kW; kx++) {
          const ix = ix0 + kx * dilW;
          const t = d + <usize>(kx * inC);
          if (ix < 0 || ix >= inW) {
            for (let c = 0; c < inC; c++) store<i8>(t + <usize>c, zp);
          } else {
            const src = row + <usize>(ix * inC);
            for (let c = 0; c < inC; c++) store<i8>(t + <usize>c, load<i8>(src + <usize>c));
          }
        }
      }
      d += <usize>span;
    }
    store<i32>(dst + <usize>k, 0);
    if (++ox == outW) { ox = 0; oy++; }
  }
}

/**
 * Channels s0 .. s0+sn of the tile for the np gathered pixels of the strip, whose first output
 * is at out. A strip with an odd pixel count pairs its last pixel with itself and drops the copy.
 */
function strip(p: ConvParams, tile: usize, wBase: usize, k: i32, s0: i32, sn: i32, np: i32, out: usize): void {
  const outC = <usize>p.outC, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const kFull = <usize>(k & ~3);
  const rem = k & 3;
  const tailShift = (4 - rem) << 3; // a word's top `rem` lanes moved down to lanes 0..rem-1
  const tailAt = <usize>(k - 4);
  let c = 0;
  const k4 = <usize>((k + 3) & ~3);
  const wEnd = PACKED + (k4 << 3);
  for (; c + 4 <= sn; c += 4) {
    const j = s0 + c;
    setBlockQuant(tile + <usize>(j * CHANNEL_DATA_BYTES), outOff);
    const f0 = load<i32>(FULL + <usize>(c << 2)), f1 = load<i32>(FULL + <usize>((c + 1) << 2));
    const f2 = load<i32>(FULL + <usize>((c + 2) << 2)), f3 = load<i32>(FULL + <usize>((c + 3) << 2));
    // The block's weights paired per tap (pointwise.ts's packed blocks): w0 + w1 * 2^23 and
    // w2 + w3 * 2^23; taps k..k4 get 0 (the patch's zero tail meets them anyway).
    const w0 = wBase + <usize>(j * k);
    pairWeights(PACKED, w0, k, k, 2);
    memory.fill(PACKED + (<usize>k << 3), 0, (k4 - <usize>k) << 3);
    for (let q = 0; q < np; q++) {
      let x = STRIP + <usize>(q * PATCH_BYTES);
      let t01: i64 = 0, t23: i64 = 0;
      for (let w = PACKED; w < wEnd; w += 32) {
        const x0 = <i64>load<i8>(x), x1 = <i64>load<i8>(x, 1), x2 = <i64>load<i8>(x, 2), x3 = <i64>load<i8>(x, 3);
        t01 += <i64>load<i32>(w) * x0; t01 += <i64>load<i32>(w, 8) * x1; t01 += <i64>load<i32>(w, 16) * x2; t01 += <i64>load<i32>(w, 24) * x3;
        t23 += <i64>load<i32>(w, 4) * x0; t23 += <i64>load<i32>(w, 12) * x1; t23 += <i64>load<i32>(w, 20) * x2; t23 += <i64>load<i32>(w, 28) * x3;
        x += 4;
      }
      store<i32>(out + <usize>q * outC + <usize>c,
        blockPack(f0 + lowSum(t01), f1 + highSum(t01), f2 + lowSum(t23), f3 + highSum(t23), outOff, actMin, actMax));
    }
  }
  // The 0-3 channels left over, one at a time.
  for (; c < sn; c++) {
    const j = s0 + c;
    const w0 = wBase + <usize>(j * k);
    const rec = tile + <usize>(j * CHANNEL_DATA_BYTES);
    const full = load<i32>(FULL + <usize>(c << 2)), mult = load<i32>(rec, 4), shift = load<i32>(rec, 8);
    for (let q = 0; q < np; q += 2) {
      const pa = STRIP + <usize>(q * PATCH_BYTES);
      const two = q + 1 < np;
      const pb = two ? pa + <usize>PATCH_BYTES : pa;
      let t: i64 = 0;
      for (let i: usize = 0; i < kFull; i += 4) {
        const xA = load<i32>(pa + i), xB = load<i32>(pb + i);
        const w = load<i32>(w0 + i);
        t = macPairs(t, w, pair(lane0(xA), lane0(xB)), pair(lane1(xA), lane1(xB)), pair(lane2(xA), lane2(xB)), pair(lane3(xA), lane3(xB)));
      }
      if (rem != 0) {
        const xA = load<i32>(pa + kFull), xB = load<i32>(pb + kFull);
        const w = load<i32>(w0 + tailAt) >> tailShift;
        t = macPairs3(t, w, pair(lane0(xA), lane0(xB)), pair(lane1(xA), lane1(xB)), pair(lane2(xA), lane2(xB)));
      }
      const outA = out + <usize>q * outC + <usize>c;
      store<i8>(outA, <i8>requantize(full + lowSum(t), mult, shift, outOff, actMin, actMax));
      if (two) store<i8>(outA + outC, <i8>requantize(full + highSum(t), mult, shift, outOff, actMin, actMax));
    }
  }
}
