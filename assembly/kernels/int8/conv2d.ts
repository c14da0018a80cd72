// int8 CONV_2D, bit-exact with TFLite (Micro)'s reference_integer_ops::ConvPerChannel.
//
// Computes output channels [oc0, oc1) from one weight tile (see host/format/spec.ts):
//   [bias i32, multiplier i32, shift i32] x n, then n x [kH][kW][inC] int8 weights.
// Taps that fall outside the input are skipped (they contribute nothing: TFLite adds
// the input offset only to valid taps), so the valid ky/kx ranges are computed once
// per output row/column instead of testing every tap.
import { ConvParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { tapBegin, tapEnd, dotOffset, requantizeChannel, channelTileOk, convGeometryOk, dot4, sumInt8, pack4, requantize } from "./common";
import { isPointwise, pointwise_s8 } from "./pointwise";

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

  // Blocks of 4 channels over the pixels whose taps are all inside the input (dilation 1);
  // the generic loop does the border pixels of those channels and every pixel of the rest.
  const n4 = dilH == 1 && dilW == 1 ? n & ~3 : 0;
  for (let j = 0; j < n4; j += 4) interior4(p, tile, oc0, n, j);
  if (n4 > 0) generic(p, tile, oc0, n, 0, n4, true);
  generic(p, tile, oc0, n, n4, n, false);
  return STATUS_OK;
}

/**
 * The reference loop for channels [jBeg, jEnd) of the tile (n channels from oc0); with
 * skipInterior it leaves out the pixels interior4 computes (every tap inside the input).
 */
function generic(p: ConvParams, tile: usize, oc0: i32, n: i32, jBeg: i32, jEnd: i32, skipInterior: bool): void {
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

      if (skipInterior && kyEnd - kyBeg == kH && kxCount == kW) continue;
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

/**
 * Channels j..j+3 of the tile at every output pixel whose kH x kW taps all lie inside the input
 * (dilation 1). Each filter row of a pixel is one contiguous span of kW * inC input bytes; it is
 * read a word at a time and each input word serves all four channels. The input offset is
 * folded into a per-channel constant, bias + inputOffset * (sum of the channel's weights).
 */
function interior4(p: ConvParams, tile: usize, oc0: i32, n: i32, j: i32): void {
  const inH = p.inH, inW = p.inW, inC = p.inC;
  const outH = p.outH, outW = p.outW, outC = p.outC;
  const kH = p.kH, kW = p.kW, strideH = p.strideH, strideW = p.strideW, padH = p.padH, padW = p.padW;
  const inOff = p.inputOffset, outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const perCh = kH * kW * inC;
  const span = kW * inC, span4 = <usize>(span & ~3), spanEnd = <usize>span;
  const rowBytes = <usize>(inW * inC);
  const ch0 = tile + <usize>(j * CHANNEL_DATA_BYTES);
  const ch1 = ch0 + <usize>CHANNEL_DATA_BYTES, ch2 = ch1 + <usize>CHANNEL_DATA_BYTES, ch3 = ch2 + <usize>CHANNEL_DATA_BYTES;
  const w0 = tile + <usize>(n * CHANNEL_DATA_BYTES + j * perCh);
  const w1 = w0 + <usize>perCh, w2 = w1 + <usize>perCh, w3 = w2 + <usize>perCh;
  const base0 = load<i32>(ch0) + inOff * sumInt8(w0, perCh), base1 = load<i32>(ch1) + inOff * sumInt8(w1, perCh);
  const base2 = load<i32>(ch2) + inOff * sumInt8(w2, perCh), base3 = load<i32>(ch3) + inOff * sumInt8(w3, perCh);
  const m0 = load<i32>(ch0, 4), m1 = load<i32>(ch1, 4), m2 = load<i32>(ch2, 4), m3 = load<i32>(ch3, 4);
  const s0 = load<i32>(ch0, 8), s1 = load<i32>(ch1, 8), s2 = load<i32>(ch2, 8), s3 = load<i32>(ch3, 8);
  // Interior outputs: oy * strideH - padH in [0, inH - kH], likewise for x.
  const oyLo = min(outH, (max(padH, 0) + strideH - 1) / strideH);
  const oyHi = inH - kH + padH < 0 ? oyLo : max(oyLo, min(outH, (inH - kH + padH) / strideH + 1));
  const oxLo = min(outW, (max(padW, 0) + strideW - 1) / strideW);
  const oxHi = inW - kW + padW < 0 ? oxLo : max(oxLo, min(outW, (inW - kW + padW) / strideW + 1));
  const outBase = ARENA + <usize>p.output + <usize>(oc0 + j);
  const inBase = ARENA + <usize>p.input;

  for (let oy = oyLo; oy < oyHi; oy++) {
    let outP = outBase + <usize>((oy * outW + oxLo) * outC);
    let inP = inBase + <usize>((oy * strideH - padH) * inW * inC + (oxLo * strideW - padW) * inC);
    for (let ox = oxLo; ox < oxHi; ox++) {
      let a0 = base0, a1 = base1, a2 = base2, a3 = base3;
      let x = inP;
      let wOff: usize = 0; // offset of the filter row inside each channel's weights
      for (let r = 0; r < kH; r++) {
        let k: usize = 0;
        for (; k < span4; k += 4) {
          const xv = load<i32>(x + k);
          a0 += dot4(xv, load<i32>(w0 + wOff + k));
          a1 += dot4(xv, load<i32>(w1 + wOff + k));
          a2 += dot4(xv, load<i32>(w2 + wOff + k));
          a3 += dot4(xv, load<i32>(w3 + wOff + k));
        }
        for (; k < spanEnd; k++) {
          const xv = <i32>load<i8>(x + k);
          a0 += xv * <i32>load<i8>(w0 + wOff + k);
          a1 += xv * <i32>load<i8>(w1 + wOff + k);
          a2 += xv * <i32>load<i8>(w2 + wOff + k);
          a3 += xv * <i32>load<i8>(w3 + wOff + k);
        }
        x += rowBytes;
        wOff += spanEnd;
      }
      store<i32>(outP, pack4(
        requantize(a0, m0, s0, outOff, actMin, actMax), requantize(a1, m1, s1, outOff, actMin, actMax),
        requantize(a2, m2, s2, outOff, actMin, actMax), requantize(a3, m3, s3, outOff, actMin, actMax)));
      outP += <usize>outC;
      inP += <usize>(strideW * inC);
    }
  }
}
