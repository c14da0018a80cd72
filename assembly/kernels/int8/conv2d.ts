// int8 CONV_2D, bit-exact with TFLite (Micro)'s reference_integer_ops::ConvPerChannel.
//
// Computes output channels [oc0, oc1) from one weight tile (see host/format/spec.ts):
//   [bias i32, multiplier i32, shift i32] x n, then n x [kH][kW][inC] int8 weights.
// Taps that fall outside the input are skipped (they contribute nothing: TFLite adds
// the input offset only to valid taps), so the valid ky/kx ranges are computed once
// per output row/column instead of testing every tap.
import { ConvParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { tapBegin, tapEnd, dotOffset, requantizeChannel, channelTileOk, convGeometryOk, sumInt8, pack4, requantize,
  lane0, lane1, lane2, lane3, dotLanes, pair, macPairs, lowSum, highSum, PAIR_CHUNK, setBlockQuant, blockPack, blockPair, pairWeights } from "./common";
import { isPointwise, pointwise_s8 } from "./pointwise";
import { SCRATCH, SCRATCH_BYTES } from "./scratch";
import { isGatherConv, conv2d_gather_s8 } from "./conv2d_gather";

export function conv2d_s8(p: ConvParams, tile: usize, oc0: i32, oc1: i32): i32 {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW;
  const strideH = p.strideH, strideW = p.strideW;
  const dilH = p.dilH, dilW = p.dilW;
  const actMin = p.actMin, actMax = p.actMax;

  if (!convGeometryOk(inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW) || outC < 1) return STATUS_KERNEL;
  if (!channelTileOk(tile, oc0, oc1, outC, actMin, actMax)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  if (n == 0) return STATUS_OK;
  if (isPointwise(p)) { // 1x1 without padding: the blocked matrix product of pointwise.ts
    pointwise_s8(p, tile, oc0, n);
    return STATUS_OK;
  }
  if (isGatherConv(p)) { // small filters (first layers): one gathered patch per pixel, conv2d_gather.ts
    conv2d_gather_s8(p, tile, oc0, n);
    return STATUS_OK;
  }

  // Blocks of 4 channels (dilation 1): columns4x2 over the output columns whose filter columns
  // all lie inside the input, sides4 over the other columns; the generic loop does every pixel
  // of the channels left over.
  const n4 = dilH == 1 && dilW == 1 ? n & ~3 : 0;
  const padW = p.padW;
  const oxLo = insideLo(outW, padW, strideW), oxHi = insideHi(outW, inW, kW, padW, strideW, oxLo);
  const packed = kH * kW * inC * 4 <= SCRATCH_BYTES && kW * inC <= <i32>PAIR_CHUNK;
  for (let j = 0; j < n4; j += 4) {
    if (packed) {
      setBlockQuant(tile + <usize>(j * CHANNEL_DATA_BYTES), p.outputOffset);
      columnsPacked(p, tile, oc0, n, j, oxLo, oxHi);
      columnsPacked(p, tile, oc0, n, j + 2, oxLo, oxHi);
    } else {
      columns4x2(p, tile, oc0, n, j, oxLo, oxHi);
    }
    sides4(p, tile, oc0, n, j, oxLo, oxHi);
  }
  generic(p, tile, oc0, n, n4, n);
  return STATUS_OK;
}

/**
 * The reference loop for channels [jBeg, jEnd) of the tile (n channels from oc0).
 */
function generic(p: ConvParams, tile: usize, oc0: i32, n: i32, jBeg: i32, jEnd: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW;
  const strideH = p.strideH, strideW = p.strideW;
  const dilH = p.dilH, dilW = p.dilW;
  const padH = p.padH, padW = p.padW;
  const inOff = p.inputOffset, outOff = p.outputOffset;
  const actMin = p.actMin, actMax = p.actMax;
  if (jBeg >= jEnd) return;
  const perCh = kH * kW * inC;
  const inBase = ARENA + <usize>p.input;
  const outBase = ARENA + <usize>p.output;
  const wBase = tile + <usize>(n * CHANNEL_DATA_BYTES);
  const rowBytes = inW * inC;
  const kxStep = dilW * inC; // input bytes between horizontally adjacent taps

  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const kyBeg = tapBegin(iy0, dilH);
    const kyEnd = tapEnd(iy0, dilH, inH, kH);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padW;
      const kxBeg = tapBegin(ix0, dilW);
      const kxEnd = tapEnd(ix0, dilW, inW, kW);
      const kxCount = kxEnd - kxBeg;
      // Input address of tap (kyBeg, kxBeg), and its offset inside a channel's filter.
      const inStart = inBase + <usize>((iy0 + kyBeg * dilH) * rowBytes + (ix0 + kxBeg * dilW) * inC);
      const wStart = <usize>((kyBeg * kW + kxBeg) * inC);
      const rows = kxCount > 0 ? kyEnd - kyBeg : 0;
      const spanBytes = kxCount * inC; // contiguous when dilW == 1

      let outP = outBase + <usize>((oy * outW + ox) * outC + oc0 + jBeg);
      let chP = tile + <usize>(jBeg * CHANNEL_DATA_BYTES);
      let wCh = wBase + <usize>(jBeg * perCh);
      for (let j = jBeg; j < jEnd; j++) {
        let acc: i32 = 0;
        let inRow = inStart;
        let wRow = wCh + wStart;
        for (let r = 0; r < rows; r++) {
          if (dilW == 1) {
            acc += dotOffset(inRow, wRow, spanBytes, inOff);
          } else {
            let inP = inRow;
            let wP = wRow;
            for (let kx = 0; kx < kxCount; kx++) {
              acc += dotOffset(inP, wP, inC, inOff);
              inP += <usize>kxStep;
              wP += <usize>inC;
            }
          }
          inRow += <usize>(dilH * rowBytes);
          wRow += <usize>(kW * inC);
        }
        store<i8>(outP, <i8>requantizeChannel(acc, chP, outOff, actMin, actMax));
        outP++;
        chP += <usize>CHANNEL_DATA_BYTES;
        wCh += <usize>perCh;
      }
    }
  }
}

/** First output index whose window (kernel k, stride, padding pad) starts inside the input. */
// @ts-ignore: decorator
@inline
function insideLo(outN: i32, pad: i32, stride: i32): i32 {
  return min(outN, (max(pad, 0) + stride - 1) / stride);
}

/** One past the last output index whose window lies wholly inside the input (at least lo). */
// @ts-ignore: decorator
@inline
function insideHi(outN: i32, inN: i32, k: i32, pad: i32, stride: i32, lo: i32): i32 {
  return inN - k + pad < 0 ? lo : max(lo, min(outN, (inN - k + pad) / stride + 1));
}

/**
 * Channels j..j+3 of the tile at output columns [oxLo, oxHi) of every row (dilation 1): the
 * columns whose kW filter columns all lie inside the input. Rows whose filter rows stick out of
 * the input use only their valid filter rows [kyBeg, kyEnd) (TFLite adds the input offset to
 * valid taps only). Each filter row of a pixel is one contiguous span of kW * inC input bytes,
 * read a word (4 lanes) at a time, two neighbouring pixels at once: each input word serves four
 * channels and each weight word two pixels, so 6 loads feed 32 multiply-adds (on the Cortex-M
 * build every load carries an address mask or check: few loads per MAC keep safety cheap; i64
 * loads would halve them again but spill registers on the M4). The two pixels' inputs are packed
 * into one register per lane (pair() in common.ts), so one 64-bit multiply-add per weight (smlal)
 * does both pixels' products. The input offset is folded into a
 * per-channel constant, bias + inputOffset * (sum of the channel's weights over the valid rows).
 * A row with an odd number of columns re-reads its last pixel as the second of the final pair
 * (same pointer) and discards those results.
 */
function columns4x2(p: ConvParams, tile: usize, oc0: i32, n: i32, j: i32, oxLo: i32, oxHi: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW, strideH = p.strideH, strideW = p.strideW, padH = p.padH, padW = p.padW;
  const inOff = p.inputOffset, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  if (oxLo >= oxHi) return;
  const perCh = kH * kW * inC;
  const span = kW * inC, span4 = <usize>(span & ~3), spanEnd = <usize>span;
  const rowBytes = <usize>(inW * inC), pxStep = <usize>(strideW * inC);
  const ch0 = tile + <usize>(j * CHANNEL_DATA_BYTES);
  const ch1 = ch0 + <usize>CHANNEL_DATA_BYTES, ch2 = ch1 + <usize>CHANNEL_DATA_BYTES, ch3 = ch2 + <usize>CHANNEL_DATA_BYTES;
  const w0 = tile + <usize>(n * CHANNEL_DATA_BYTES + j * perCh);
  const w1 = w0 + <usize>perCh, w2 = w1 + <usize>perCh, w3 = w2 + <usize>perCh;
  const bias0 = load<i32>(ch0), bias1 = load<i32>(ch1), bias2 = load<i32>(ch2), bias3 = load<i32>(ch3);
  const full0 = bias0 + inOff * sumInt8(w0, perCh), full1 = bias1 + inOff * sumInt8(w1, perCh);
  const full2 = bias2 + inOff * sumInt8(w2, perCh), full3 = bias3 + inOff * sumInt8(w3, perCh);
  const m0 = load<i32>(ch0, 4), m1 = load<i32>(ch1, 4), m2 = load<i32>(ch2, 4), m3 = load<i32>(ch3, 4);
  const s0 = load<i32>(ch0, 8), s1 = load<i32>(ch1, 8), s2 = load<i32>(ch2, 8), s3 = load<i32>(ch3, 8);
  const outBase = ARENA + <usize>p.output + <usize>(oc0 + j);
  const inBase = ARENA + <usize>p.input;

  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const kyBeg = tapBegin(iy0, 1), rows = tapEnd(iy0, 1, inH, kH) - kyBeg;
    // Constant part of each accumulator: over all filter rows, or only the valid ones.
    let base0 = full0, base1 = full1, base2 = full2, base3 = full3;
    const wRow = <usize>(kyBeg * span);
    if (rows < kH) {
      const len = max(rows, 0) * span;
      base0 = bias0 + inOff * sumInt8(w0 + wRow, len); base1 = bias1 + inOff * sumInt8(w1 + wRow, len);
      base2 = bias2 + inOff * sumInt8(w2 + wRow, len); base3 = bias3 + inOff * sumInt8(w3 + wRow, len);
    }
    let outP = outBase + <usize>((oy * outW + oxLo) * outC);
    let inP = inBase + <usize>((iy0 + kyBeg) * inW * inC + (oxLo * strideW - padW) * inC);
    for (let ox = oxLo; ox < oxHi; ox += 2) {
      const two = ox + 1 < oxHi;
      const bStep = two ? pxStep : 0; // pixel b's input, relative to pixel a's
      let a0 = base0, a1 = base1, a2 = base2, a3 = base3; // pixel a
      let b0 = base0, b1 = base1, b2 = base2, b3 = base3; // pixel b
      let xa = inP;
      let wOff = wRow; // offset of the filter row inside each channel's weights
      // The two pixels' inputs packed (pair()): one 64-bit multiply-add per weight, the sums
      // split into a* and b* every PAIR_CHUNK products (`used`), across filter rows.
      let t0: i64 = 0, t1: i64 = 0, t2: i64 = 0, t3: i64 = 0;
      let used: usize = 0;
      for (let r = 0; r < rows; r++) {
        const xb = xa + bStep;
        let k: usize = 0;
        while (k < span4) {
          if (used == PAIR_CHUNK) {
            a0 += lowSum(t0); b0 += highSum(t0); a1 += lowSum(t1); b1 += highSum(t1);
            a2 += lowSum(t2); b2 += highSum(t2); a3 += lowSum(t3); b3 += highSum(t3);
            t0 = 0; t1 = 0; t2 = 0; t3 = 0; used = 0;
          }
          const kc = min(k + PAIR_CHUNK - used, span4);
          used += kc - k;
          for (; k < kc; k += 4) {
            const xA = load<i32>(xa + k), xB = load<i32>(xb + k);
            const x0 = pair(lane0(xA), lane0(xB)), x1 = pair(lane1(xA), lane1(xB));
            const x2 = pair(lane2(xA), lane2(xB)), x3 = pair(lane3(xA), lane3(xB));
            let w = load<i32>(w0 + wOff + k);
            t0 = macPairs(t0, w, x0, x1, x2, x3);
            w = load<i32>(w1 + wOff + k);
            t1 = macPairs(t1, w, x0, x1, x2, x3);
            w = load<i32>(w2 + wOff + k);
            t2 = macPairs(t2, w, x0, x1, x2, x3);
            w = load<i32>(w3 + wOff + k);
            t3 = macPairs(t3, w, x0, x1, x2, x3);
          }
        }
        for (; k < spanEnd; k++) {
          const xA = <i32>load<i8>(xa + k), xB = <i32>load<i8>(xb + k);
          let w = <i32>load<i8>(w0 + wOff + k);
          a0 += xA * w; b0 += xB * w;
          w = <i32>load<i8>(w1 + wOff + k);
          a1 += xA * w; b1 += xB * w;
          w = <i32>load<i8>(w2 + wOff + k);
          a2 += xA * w; b2 += xB * w;
          w = <i32>load<i8>(w3 + wOff + k);
          a3 += xA * w; b3 += xB * w;
        }
        xa += rowBytes;
        wOff += spanEnd;
      }
      a0 += lowSum(t0); b0 += highSum(t0); a1 += lowSum(t1); b1 += highSum(t1);
      a2 += lowSum(t2); b2 += highSum(t2); a3 += lowSum(t3); b3 += highSum(t3);
      store<i32>(outP, pack4(
        requantize(a0, m0, s0, outOff, actMin, actMax), requantize(a1, m1, s1, outOff, actMin, actMax),
        requantize(a2, m2, s2, outOff, actMin, actMax), requantize(a3, m3, s3, outOff, actMin, actMax)));
      if (two) {
        store<i32>(outP + <usize>outC, pack4(
          requantize(b0, m0, s0, outOff, actMin, actMax), requantize(b1, m1, s1, outOff, actMin, actMax),
          requantize(b2, m2, s2, outOff, actMin, actMax), requantize(b3, m3, s3, outOff, actMin, actMax)));
      }
      outP += <usize>(2 * outC);
      inP += <usize>(2 * pxStep);
    }
  }
}

/**
 * columns4x2 for channels j, j+1 with their weights paired per tap (w_j + w_j+1 * 2^23, into
 * SCRATCH: 4 bytes per tap), two pixels at a time: each input byte is one sign-extending load,
 * each paired word feeds both pixels' sums (smlal each). A filter row's span is at most
 * PAIR_CHUNK taps, so the sums are split after every row. setBlockQuant was called for the
 * channels' block of 4 (j is its first or third channel).
 */
function columnsPacked(p: ConvParams, tile: usize, oc0: i32, n: i32, j: i32, oxLo: i32, oxHi: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW, strideH = p.strideH, strideW = p.strideW, padH = p.padH, padW = p.padW;
  const inOff = p.inputOffset, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  if (oxLo >= oxHi) return;
  const perCh = kH * kW * inC;
  const span = kW * inC;
  const rowBytes = <usize>(inW * inC), pxStep = <usize>(strideW * inC);
  const ch0 = tile + <usize>(j * CHANNEL_DATA_BYTES), ch1 = ch0 + <usize>CHANNEL_DATA_BYTES;
  const w0 = tile + <usize>(n * CHANNEL_DATA_BYTES + j * perCh), w1 = w0 + <usize>perCh;
  pairWeights(SCRATCH, w0, perCh, perCh, 1);
  const bias0 = load<i32>(ch0), bias1 = load<i32>(ch1);
  const full0 = bias0 + inOff * sumInt8(w0, perCh), full1 = bias1 + inOff * sumInt8(w1, perCh);
  const c = j & 3; // the pair's place in BLOCK_Q
  const outBase = ARENA + <usize>p.output + <usize>(oc0 + j);
  const inBase = ARENA + <usize>p.input;
  const span4 = <usize>((span & ~3) << 2), spanEnd = <usize>(span << 2); // in packed bytes

  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const kyBeg = tapBegin(iy0, 1), rows = tapEnd(iy0, 1, inH, kH) - kyBeg;
    let base0 = full0, base1 = full1;
    const wRow = SCRATCH + <usize>((kyBeg * span) << 2);
    if (rows < kH) {
      const len = max(rows, 0) * span;
      base0 = bias0 + inOff * sumInt8(w0 + <usize>(kyBeg * span), len);
      base1 = bias1 + inOff * sumInt8(w1 + <usize>(kyBeg * span), len);
    }
    let outP = outBase + <usize>((oy * outW + oxLo) * outC);
    let inP = inBase + <usize>((iy0 + kyBeg) * inW * inC + (oxLo * strideW - padW) * inC);
    for (let ox = oxLo; ox < oxHi; ox += 2) {
      const two = ox + 1 < oxHi;
      let a0 = base0, a1 = base1, b0 = base0, b1 = base1;
      let xa = inP, xb = two ? inP + pxStep : inP;
      let wr = wRow;
      for (let r = 0; r < rows; r++) {
        let ta: i64 = 0, tb: i64 = 0;
        let pa = xa, pb = xb, w = wr;
        const end4 = wr + span4, end = wr + spanEnd;
        while (w < end4) {
          const q0 = <i64>load<i32>(w), q1 = <i64>load<i32>(w, 4), q2 = <i64>load<i32>(w, 8), q3 = <i64>load<i32>(w, 12);
          ta += q0 * <i64>load<i8>(pa); ta += q1 * <i64>load<i8>(pa, 1); ta += q2 * <i64>load<i8>(pa, 2); ta += q3 * <i64>load<i8>(pa, 3);
          tb += q0 * <i64>load<i8>(pb); tb += q1 * <i64>load<i8>(pb, 1); tb += q2 * <i64>load<i8>(pb, 2); tb += q3 * <i64>load<i8>(pb, 3);
          pa += 4; pb += 4; w += 16;
        }
        while (w < end) {
          const q0 = <i64>load<i32>(w);
          ta += q0 * <i64>load<i8>(pa); tb += q0 * <i64>load<i8>(pb);
          pa += 1; pb += 1; w += 4;
        }
        a0 += lowSum(ta); a1 += highSum(ta); b0 += lowSum(tb); b1 += highSum(tb);
        xa += rowBytes; xb += rowBytes; wr += <usize>(span << 2);
      }
      store<u16>(outP, <u16>blockPair(a0, a1, c, outOff, actMin, actMax));
      if (two) store<u16>(outP + <usize>outC, <u16>blockPair(b0, b1, c, outOff, actMin, actMax));
      outP += <usize>(2 * outC);
      inP += <usize>(2 * pxStep);
    }
  }
}

/**
 * Channels j..j+3 of the tile at the output columns columns4x2 leaves out, [0, oxLo) and
 * [oxHi, outW) (dilation 1): some filter columns fall outside the input. Taps outside add nothing,
 * so each valid filter row is one contiguous span of kxCount * inC input bytes, read a word at a
 * time, the input offset added to the word's lanes once for all four channels.
 */
function sides4(p: ConvParams, tile: usize, oc0: i32, n: i32, j: i32, oxLo: i32, oxHi: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW, strideH = p.strideH, strideW = p.strideW, padH = p.padH, padW = p.padW;
  const off = p.inputOffset, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const perCh = kH * kW * inC;
  const rowBytes = <usize>(inW * inC), filterRow = <usize>(kW * inC);
  const ch0 = tile + <usize>(j * CHANNEL_DATA_BYTES);
  const ch1 = ch0 + <usize>CHANNEL_DATA_BYTES, ch2 = ch1 + <usize>CHANNEL_DATA_BYTES, ch3 = ch2 + <usize>CHANNEL_DATA_BYTES;
  const w0 = tile + <usize>(n * CHANNEL_DATA_BYTES + j * perCh);
  const w1 = w0 + <usize>perCh, w2 = w1 + <usize>perCh, w3 = w2 + <usize>perCh;
  const outBase = ARENA + <usize>p.output + <usize>(oc0 + j);
  const inBase = ARENA + <usize>p.input;
  const bias0 = load<i32>(ch0), bias1 = load<i32>(ch1), bias2 = load<i32>(ch2), bias3 = load<i32>(ch3);
  setBlockQuant(ch0, outOff);

  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padH;
    const kyBeg = tapBegin(iy0, 1), kyEnd = tapEnd(iy0, 1, inH, kH);
    for (let ox = 0; ox < outW; ox++) {
      if (ox == oxLo) ox = oxHi; // columns4x2's columns
      if (ox >= outW) break;
      const ix0 = ox * strideW - padW;
      const kxBeg = tapBegin(ix0, 1), kxEnd = tapEnd(ix0, 1, inW, kW);
      const rows = kxEnd > kxBeg ? kyEnd - kyBeg : 0;
      const span = <usize>(max(kxEnd - kxBeg, 0) * inC), span4 = span & ~3;
      let x = inBase + <usize>((iy0 + kyBeg) * inW * inC + (ix0 + kxBeg) * inC);
      let wOff = <usize>((kyBeg * kW + kxBeg) * inC);
      let a0 = bias0, a1 = bias1, a2 = bias2, a3 = bias3;
      for (let r = 0; r < rows; r++) {
        let k: usize = 0;
        for (; k < span4; k += 4) {
          const xv = load<i32>(x + k);
          const x0 = lane0(xv) + off, x1 = lane1(xv) + off, x2 = lane2(xv) + off, x3 = lane3(xv) + off;
          a0 += dotLanes(x0, x1, x2, x3, load<i32>(w0 + wOff + k));
          a1 += dotLanes(x0, x1, x2, x3, load<i32>(w1 + wOff + k));
          a2 += dotLanes(x0, x1, x2, x3, load<i32>(w2 + wOff + k));
          a3 += dotLanes(x0, x1, x2, x3, load<i32>(w3 + wOff + k));
        }
        for (; k < span; k++) {
          const xk = <i32>load<i8>(x + k) + off;
          a0 += xk * <i32>load<i8>(w0 + wOff + k);
          a1 += xk * <i32>load<i8>(w1 + wOff + k);
          a2 += xk * <i32>load<i8>(w2 + wOff + k);
          a3 += xk * <i32>load<i8>(w3 + wOff + k);
        }
        x += rowBytes;
        wOff += filterRow;
      }
      store<i32>(outBase + <usize>((oy * outW + ox) * outC), blockPack(a0, a1, a2, a3, outOff, actMin, actMax));
    }
  }
}
