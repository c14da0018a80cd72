// Fast path of DEPTHWISE_CONV_2D for the common MobileNet shape: 3x3 filter, depth multiplier 1,
// no dilation, stride 1 or 2 (the same on both axes). depthwise_conv2d_s8 calls it for those
// shapes; its generic loop stays the reference.
//
// Channels in groups of 4 (group4): NHWC keeps a pixel's 4 channels in one word, so each tap is
// one input load for 4 multiply-adds, whatever the image size (per-row and per-channel set-up
// would dominate the small late layers of MobileNets). The weights and the requantization
// parameters sit at fixed addresses (one load each, no address mask), and the pixel's 4 results
// go out as one word. Measured on qemu-m4: 10-17 -> 9.6-14.7 instructions per MAC on VWW's and
// KWS's depthwise layers, most on the small late ones.
//
// The 0-3 channels left over run one at a time (channels), one output row at a time:
// - Taps outside the input add nothing in TFLite. Instead of testing taps, a row whose filter
//   row falls outside the input gets weight 0 for that filter row and reads a valid input row
//   instead (x * 0 = 0), and the row's constant bias + inputOffset * (sum of its non-zero
//   weights) takes the input offset out of the multiply-adds (exact: i32 arithmetic wraps).
// - Inside the row, output pixels whose three input columns are all inside the input (all but
//   at most a few at the ends) slide a window: at stride 1 each output reads only its one new
//   input column (3 loads for 9 multiply-adds), at stride 2 its two new columns.
// - The few pixels at the left/right ends mask their outside columns the same way.
import { ConvParams, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { requantize, sumInt8, lane0, lane1, lane2, lane3, setBlockQuant, blockPack } from "./common";

/** True when depthwise_conv2d_s8 may use depthwise3x3_s8. */
export function isDepthwise3x3(p: ConvParams): bool {
  return p.depthMultiplier == 1 && p.kH == 3 && p.kW == 3 && p.dilH == 1 && p.dilW == 1 &&
    p.strideH == p.strideW && (p.strideH == 1 || p.strideH == 2) && p.padH >= 0 && p.padW >= 0;
}

/** Input row index iy if it is inside [0, inH), else a row that is (its tap gets weight 0). */
// @ts-ignore: decorator
@inline
function rowOrClamp(iy: i32, inH: i32): i32 {
  return iy < 0 ? 0 : (iy >= inH ? inH - 1 : iy);
}

/** Input byte at (row pointer r, column offset o). */
// @ts-ignore: decorator
@inline
function px(r: usize, o: usize): i32 {
  return <i32>load<i8>(r + o);
}

/** Output channels [oc0, oc0 + n); parameters already checked by depthwise_conv2d_s8. */
export function depthwise3x3_s8(p: ConvParams, tile: usize, oc0: i32, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) group4(p, tile, oc0, n, j);
  if (j < n) channels(p, tile, oc0, n, j);
}

/** A group's 9 taps x 4 channels of weights as i32, tap-major (the tile stores them channel-major). */
const GROUP_W: usize = memory.data(9 * 4 * 4, 16);
/**
 * Channels j..j+3 of the tile (4 consecutive NHWC bytes: one word per pixel), every output pixel.
 * Each tap reads one input word for the 4 channels; the weights are in GROUP_W. The columns whose
 * 9 taps all lie inside the input (in rows whose taps do) run in their own loop, starting from
 * bias + inputOffset * (sum of the weights); the other pixels go through border4 (valid taps
 * only, the offset added to each input). The 4 results are requantized with parameters kept at
 * fixed addresses (blockPack: one load each) and stored as one word.
 */
function group4(p: ConvParams, tile: usize, oc0: i32, n: i32, j: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const s = p.strideW, padH = p.padH, padW = p.padW;
  const inOff = p.inputOffset, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const rowBytes = <usize>(inW * inC), step = <usize>inC;
  const w = tile + <usize>(n * CHANNEL_DATA_BYTES + j * 9);
  for (let c = 0; c < 4; c++) {
    for (let t = 0; t < 9; t++) store<i32>(GROUP_W + <usize>((t * 4 + c) << 2), <i32>load<i8>(w + <usize>(c * 9 + t)));
  }
  const ch = tile + <usize>(j * CHANNEL_DATA_BYTES);
  const bias0 = load<i32>(ch), bias1 = load<i32>(ch, 12), bias2 = load<i32>(ch, 24), bias3 = load<i32>(ch, 36);
  const full0 = bias0 + inOff * sumInt8(w, 9), full1 = bias1 + inOff * sumInt8(w + 9, 9);
  const full2 = bias2 + inOff * sumInt8(w + 18, 9), full3 = bias3 + inOff * sumInt8(w + 27, 9);
  setBlockQuant(ch, outOff);
  const inBase = ARENA + <usize>p.input + <usize>(oc0 + j);
  const outBase = ARENA + <usize>p.output + <usize>(oc0 + j);

  // Output columns [oxLo, oxHi) have all three filter columns inside the input.
  const oxLo = min(outW, (padW + s - 1) / s);
  const lastX = inW - 3 + padW;
  const oxHi = lastX < 0 ? oxLo : max(oxLo, min(outW, lastX / s + 1));

  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * s - padH;
    const rowFull = iy0 >= 0 && iy0 + 3 <= inH;
    const outRow = outBase + <usize>(oy * outW * outC);
    const innerLo = rowFull ? oxLo : outW; // a row with a filter row outside is all border
    for (let ox = 0; ox < innerLo; ox++) {
      store<i32>(outRow + <usize>(ox * outC), border4(inBase, iy0, ox * s - padW, inH, inW, step, inOff,
        bias0, bias1, bias2, bias3, outOff, actMin, actMax));
    }
    if (!rowFull) continue;
    // The interior: 9 taps per pixel, each one input word for the 4 channels.
    let q0 = inBase + <usize>(iy0 * inW + oxLo * s - padW) * step;
    let at = outRow + <usize>(oxLo * outC);
    const qStep = <usize>s * step;
    for (let ox = oxLo; ox < oxHi; ox++) {
      let a0 = full0, a1 = full1, a2 = full2, a3 = full3;
      const q1 = q0 + rowBytes, q2 = q1 + rowBytes;
      let x = load<i32>(q0);
      a0 += lane0(x) * load<i32>(GROUP_W); a1 += lane1(x) * load<i32>(GROUP_W, 4); a2 += lane2(x) * load<i32>(GROUP_W, 8); a3 += lane3(x) * load<i32>(GROUP_W, 12);
      x = load<i32>(q0 + step);
      a0 += lane0(x) * load<i32>(GROUP_W, 16); a1 += lane1(x) * load<i32>(GROUP_W, 20); a2 += lane2(x) * load<i32>(GROUP_W, 24); a3 += lane3(x) * load<i32>(GROUP_W, 28);
      x = load<i32>(q0 + 2 * step);
      a0 += lane0(x) * load<i32>(GROUP_W, 32); a1 += lane1(x) * load<i32>(GROUP_W, 36); a2 += lane2(x) * load<i32>(GROUP_W, 40); a3 += lane3(x) * load<i32>(GROUP_W, 44);
      x = load<i32>(q1);
      a0 += lane0(x) * load<i32>(GROUP_W, 48); a1 += lane1(x) * load<i32>(GROUP_W, 52); a2 += lane2(x) * load<i32>(GROUP_W, 56); a3 += lane3(x) * load<i32>(GROUP_W, 60);
      x = load<i32>(q1 + step);
      a0 += lane0(x) * load<i32>(GROUP_W, 64); a1 += lane1(x) * load<i32>(GROUP_W, 68); a2 += lane2(x) * load<i32>(GROUP_W, 72); a3 += lane3(x) * load<i32>(GROUP_W, 76);
      x = load<i32>(q1 + 2 * step);
      a0 += lane0(x) * load<i32>(GROUP_W, 80); a1 += lane1(x) * load<i32>(GROUP_W, 84); a2 += lane2(x) * load<i32>(GROUP_W, 88); a3 += lane3(x) * load<i32>(GROUP_W, 92);
      x = load<i32>(q2);
      a0 += lane0(x) * load<i32>(GROUP_W, 96); a1 += lane1(x) * load<i32>(GROUP_W, 100); a2 += lane2(x) * load<i32>(GROUP_W, 104); a3 += lane3(x) * load<i32>(GROUP_W, 108);
      x = load<i32>(q2 + step);
      a0 += lane0(x) * load<i32>(GROUP_W, 112); a1 += lane1(x) * load<i32>(GROUP_W, 116); a2 += lane2(x) * load<i32>(GROUP_W, 120); a3 += lane3(x) * load<i32>(GROUP_W, 124);
      x = load<i32>(q2 + 2 * step);
      a0 += lane0(x) * load<i32>(GROUP_W, 128); a1 += lane1(x) * load<i32>(GROUP_W, 132); a2 += lane2(x) * load<i32>(GROUP_W, 136); a3 += lane3(x) * load<i32>(GROUP_W, 140);
      store<i32>(at, blockPack(a0, a1, a2, a3, outOff, actMin, actMax));
      q0 += qStep;
      at += <usize>outC;
    }
    for (let ox = oxHi; ox < outW; ox++) {
      store<i32>(outRow + <usize>(ox * outC), border4(inBase, iy0, ox * s - padW, inH, inW, step, inOff,
        bias0, bias1, bias2, bias3, outOff, actMin, actMax));
    }
  }
}

/**
 * group4's output word for a pixel some of whose taps lie outside the input (origin iy0, ix0):
 * its valid taps only, the input offset added to each (TFLite's taps outside add nothing).
 * Weights and requantization come from GROUP_W and BLOCK_Q. (Gathering the 9 taps with the
 * input zero point for those outside, then the interior's sums, measured slower on KWS.)
 */
function border4(inBase: usize, iy0: i32, ix0: i32, inH: i32, inW: i32, step: usize, inOff: i32,
  bias0: i32, bias1: i32, bias2: i32, bias3: i32, outOff: i32, actMin: i32, actMax: i32): i32 {
  const kyBeg = iy0 < 0 ? -iy0 : 0, kyEnd = min(3, inH - iy0);
  const kxBeg = ix0 < 0 ? -ix0 : 0, kxEnd = min(3, inW - ix0);
  let a0 = bias0, a1 = bias1, a2 = bias2, a3 = bias3;
  for (let ky = kyBeg; ky < kyEnd; ky++) {
    for (let kx = kxBeg; kx < kxEnd; kx++) {
      const x = load<i32>(inBase + <usize>((iy0 + ky) * inW + ix0 + kx) * step);
      const wt = GROUP_W + <usize>((ky * 3 + kx) << 4);
      a0 += (lane0(x) + inOff) * load<i32>(wt); a1 += (lane1(x) + inOff) * load<i32>(wt, 4);
      a2 += (lane2(x) + inOff) * load<i32>(wt, 8); a3 += (lane3(x) + inOff) * load<i32>(wt, 12);
    }
  }
  return blockPack(a0, a1, a2, a3, outOff, actMin, actMax);
}

/** Channels [j, n) of the tile, one at a time (the channels left over from the groups of 4). */
function channels(p: ConvParams, tile: usize, oc0: i32, n: i32, jBeg: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const s = p.strideW, padH = p.padH, padW = p.padW;
  const inOff = p.inputOffset, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const rowBytes = inW * inC;
  const step = <usize>inC; // bytes between horizontally neighbouring input pixels
  // Output columns [oxLo, oxHi) read three input columns that all exist.
  const oxLo = min(outW, (padW + s - 1) / s);
  const lastX = inW - 3 + padW; // the interior needs ox * s <= lastX
  const oxHi = lastX < 0 ? oxLo : max(oxLo, min(outW, lastX / s + 1));
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);

  for (let j = jBeg; j < n; j++) {
    const ch = tile + <usize>(j * CHANNEL_DATA_BYTES);
    const bias = load<i32>(ch), mult = load<i32>(ch, 4), shift = load<i32>(ch, 8);
    const w = wBase + <usize>(j * 9);
    const w00 = <i32>load<i8>(w), w01 = <i32>load<i8>(w, 1), w02 = <i32>load<i8>(w, 2);
    const w10 = <i32>load<i8>(w, 3), w11 = <i32>load<i8>(w, 4), w12 = <i32>load<i8>(w, 5);
    const w20 = <i32>load<i8>(w, 6), w21 = <i32>load<i8>(w, 7), w22 = <i32>load<i8>(w, 8);
    const inCh = ARENA + <usize>p.input + <usize>(oc0 + j);
    const outCh = ARENA + <usize>p.output + <usize>(oc0 + j);

    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * s - padH;
      // Filter rows outside the input: weight 0, and a valid row to read.
      const v0 = iy0 >= 0 && iy0 < inH, v1 = iy0 + 1 >= 0 && iy0 + 1 < inH, v2 = iy0 + 2 >= 0 && iy0 + 2 < inH;
      const a00 = v0 ? w00 : 0, a01 = v0 ? w01 : 0, a02 = v0 ? w02 : 0;
      const a10 = v1 ? w10 : 0, a11 = v1 ? w11 : 0, a12 = v1 ? w12 : 0;
      const a20 = v2 ? w20 : 0, a21 = v2 ? w21 : 0, a22 = v2 ? w22 : 0;
      const r0 = inCh + <usize>(rowOrClamp(iy0, inH) * rowBytes);
      const r1 = inCh + <usize>(rowOrClamp(iy0 + 1, inH) * rowBytes);
      const r2 = inCh + <usize>(rowOrClamp(iy0 + 2, inH) * rowBytes);
      const col0 = a00 + a10 + a20, col1 = a01 + a11 + a21, col2 = a02 + a12 + a22; // weight sums per filter column
      const rowBase = bias + inOff * (col0 + col1 + col2);
      const outRow = outCh + <usize>(oy * outW * outC);

      // Left and right ends: filter columns outside the input get weight 0 (and read column 0).
      for (let ox = 0; ox < outW; ox++) {
        if (ox == oxLo) ox = oxHi; // the interior is done below
        if (ox >= outW) break;
        const ix0 = ox * s - padW;
        const u0 = ix0 >= 0 && ix0 < inW, u1 = ix0 + 1 >= 0 && ix0 + 1 < inW, u2 = ix0 + 2 >= 0 && ix0 + 2 < inW;
        const o0 = u0 ? <usize>(ix0 * inC) : 0, o1 = u1 ? <usize>((ix0 + 1) * inC) : 0, o2 = u2 ? <usize>((ix0 + 2) * inC) : 0;
        let acc = rowBase - inOff * ((u0 ? 0 : col0) + (u1 ? 0 : col1) + (u2 ? 0 : col2));
        if (u0) acc += px(r0, o0) * a00 + px(r1, o0) * a10 + px(r2, o0) * a20;
        if (u1) acc += px(r0, o1) * a01 + px(r1, o1) * a11 + px(r2, o1) * a21;
        if (u2) acc += px(r0, o2) * a02 + px(r1, o2) * a12 + px(r2, o2) * a22;
        store<i8>(outRow + <usize>(ox * outC), <i8>requantize(acc, mult, shift, outOff, actMin, actMax));
      }
      if (oxLo >= oxHi) continue;

      // Interior: a sliding window over columns (p: first, q: second, t: third filter column).
      let o = <usize>((oxLo * s - padW) * inC);
      let outP = outRow + <usize>(oxLo * outC);
      const outEnd = outRow + <usize>(oxHi * outC);
      let p0 = px(r0, o), p1 = px(r1, o), p2 = px(r2, o);
      if (s == 1) {
        let q0 = px(r0, o + step), q1 = px(r1, o + step), q2 = px(r2, o + step);
        const o2: usize = step << 1;
        while (outP < outEnd) {
          const t0 = px(r0, o + o2), t1 = px(r1, o + o2), t2 = px(r2, o + o2);
          const acc = rowBase + p0 * a00 + q0 * a01 + t0 * a02 + p1 * a10 + q1 * a11 + t1 * a12 + p2 * a20 + q2 * a21 + t2 * a22;
          store<i8>(outP, <i8>requantize(acc, mult, shift, outOff, actMin, actMax));
          p0 = q0; p1 = q1; p2 = q2;
          q0 = t0; q1 = t1; q2 = t2;
          o += step;
          outP += <usize>outC;
        }
      } else {
        const o2: usize = step << 1;
        while (outP < outEnd) {
          const q0 = px(r0, o + step), q1 = px(r1, o + step), q2 = px(r2, o + step);
          const t0 = px(r0, o + o2), t1 = px(r1, o + o2), t2 = px(r2, o + o2);
          const acc = rowBase + p0 * a00 + q0 * a01 + t0 * a02 + p1 * a10 + q1 * a11 + t1 * a12 + p2 * a20 + q2 * a21 + t2 * a22;
          store<i8>(outP, <i8>requantize(acc, mult, shift, outOff, actMin, actMax));
          p0 = t0; p1 = t1; p2 = t2;
          o += o2;
          outP += <usize>outC;
        }
      }
    }
  }
}
