// int8 FULLY_CONNECTED over weights stored in groups of four output channels (weightLayout 1,
// see host/format/spec.ts), for one batch row and no filter offset. Same results as
// fully_connected.ts (TFLite's reference), fewer instructions: two multiply-adds per
// 32x32->64-bit multiply.
//
// A group stores, for each input k, one word [w0 ^ 0x80, w1, w2 ^ 0x80, w3] (the bytes of
// channels 0..3 at k; channels 0 and 2 offset to unsigned). Masking the word with 0xFF0000FF
// leaves the i32 (w0 + 128) + w3 * 2^24; rotating it by 16 first gives (w2 + 128) + w1 * 2^24.
// One smlal of each by the signed input x[k] adds x*(w0 + 128) to the low 24 bits of a 64-bit
// sum and x*w3 above them. Over at most SEGMENT inputs the low part stays inside
// (-2^23, 2^23), so sign-extending the low 24 bits recovers it exactly and the rest, shifted
// down 24, is the other channel's sum. The +128 comes off as 128 * sum(x), once per row; the
// input offset is folded into the bias by the compiler (bias + inputOffset * sum(w)), equal to
// TFLite's sum((x + inputOffset) * w) + bias modulo 2^32 like every i32 sum here.
import { FullyConnectedParams, STATUS_OK, STATUS_KERNEL, CHANNEL_DATA_BYTES } from "../../format";
import { ARENA } from "../../arena";
import { requantizeChannel, channelTileOk, pack4, sumInt8 } from "./common";

/** Channels per group. */
export const GROUP: i32 = 4;
/** Inputs one pair of 64-bit sums takes before it is split: 256 * 255 * 128 < 2^23. */
const SEGMENT: i32 = 256;
const LANES: i32 = 0xff0000ff;

/** The group's four channel sums from the last groupDot (without the 128 * sum(x) correction). */
const SUMS: usize = memory.data(16, 16);
/** 128 * sum(x) of the op's input row: set by fully_connected_grouped_prepare before any tile. */
let laneCorrection: i32 = 0;

/** Checks the params this layout needs, and computes 128 * sum(x) over the input row. */
export function fully_connected_grouped_prepare(p: FullyConnectedParams): i32 {
  if (p.batches != 1 || p.filterOffset != 0 || p.inC < 1 || p.outC < GROUP || (p.outC & (GROUP - 1)) != 0) return STATUS_KERNEL;
  laneCorrection = sumInt8(ARENA + <usize>p.input, p.inC) << 7;
  return STATUS_OK;
}

/** sum_k x[k] * w_c[k] for the group's four channels over len inputs, into SUMS. */
function groupDot(x: usize, w: usize, len: i32): void {
  let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0;
  let xp = x;
  const end = x + <usize>len;
  while (xp < end) {
    const seg = min(end, xp + <usize>SEGMENT);
    const seg4 = xp + ((seg - xp) & ~3);
    let a: i64 = 0, c: i64 = 0; // channels 0 (low) and 3; channels 2 (low) and 1
    // Four inputs a pass, each lane of the input word used as soon as it is taken out (fewer live registers).
    while (xp < seg4) {
      const xv = load<i32>(xp);
      let xk = <i64>((xv << 24) >> 24), wv = load<i32>(w);
      a += <i64>(wv & LANES) * xk;
      c += <i64>(rotr<i32>(wv, 16) & LANES) * xk;
      xk = <i64>((xv << 16) >> 24); wv = load<i32>(w, 4);
      a += <i64>(wv & LANES) * xk;
      c += <i64>(rotr<i32>(wv, 16) & LANES) * xk;
      xk = <i64>((xv << 8) >> 24); wv = load<i32>(w, 8);
      a += <i64>(wv & LANES) * xk;
      c += <i64>(rotr<i32>(wv, 16) & LANES) * xk;
      xk = <i64>(xv >> 24); wv = load<i32>(w, 12);
      a += <i64>(wv & LANES) * xk;
      c += <i64>(rotr<i32>(wv, 16) & LANES) * xk;
      xp += 4;
      w += 16;
    }
    while (xp < seg) {
      const xk = <i64>load<i8>(xp);
      const wv = load<i32>(w);
      a += <i64>(wv & LANES) * xk;
      c += <i64>(rotr<i32>(wv, 16) & LANES) * xk;
      xp++;
      w += 4;
    }
    const la = (<i32>a << 8) >> 8, lc = (<i32>c << 8) >> 8;
    s0 += la;
    s3 += <i32>((a - <i64>la) >> 24);
    s2 += lc;
    s1 += <i32>((c - <i64>lc) >> 24);
  }
  store<i32>(SUMS, s0);
  store<i32>(SUMS, s1, 4);
  store<i32>(SUMS, s2, 8);
  store<i32>(SUMS, s3, 12);
}

/** Requantizes a group's four sums (channel records at ch) and writes them as one word. */
// @ts-ignore: decorator
@inline
function finishGroup(s0: i32, s1: i32, s2: i32, s3: i32, ch: usize, out: usize, p: FullyConnectedParams): void {
  const outOff = p.outputOffset, actMin = p.actMin, actMax = p.actMax;
  const c1 = ch + <usize>CHANNEL_DATA_BYTES, c2 = c1 + <usize>CHANNEL_DATA_BYTES, c3 = c2 + <usize>CHANNEL_DATA_BYTES;
  store<i32>(out, pack4(
    requantizeChannel(s0 - laneCorrection, ch, outOff, actMin, actMax), requantizeChannel(s1, c1, outOff, actMin, actMax),
    requantizeChannel(s2 - laneCorrection, c2, outOff, actMin, actMax), requantizeChannel(s3, c3, outOff, actMin, actMax)));
}

/** Output channels [oc0, oc1) (whole groups) from one tile: [channel data] x n, then n / 4 groups of inC words. */
export function fully_connected_grouped_s8(p: FullyConnectedParams, tile: usize, oc0: i32, oc1: i32): i32 {
  const inC = p.inC;
  if (p.batches != 1 || inC < 1 || ((oc1 - oc0) & (GROUP - 1)) != 0) return STATUS_KERNEL;
  if (!channelTileOk(tile, oc0, oc1, p.outC, p.actMin, p.actMax)) return STATUS_KERNEL;
  const n = oc1 - oc0;
  const x = ARENA + <usize>p.input;
  let w = tile + <usize>(n * CHANNEL_DATA_BYTES);
  for (let j = 0; j < n; j += GROUP) {
    groupDot(x, w, inC);
    finishGroup(load<i32>(SUMS), load<i32>(SUMS, 4), load<i32>(SUMS, 8), load<i32>(SUMS, 12),
      tile + <usize>(j * CHANNEL_DATA_BYTES), ARENA + <usize>p.output + <usize>(oc0 + j), p);
    w += <usize>(inC << 2);
  }
  return STATUS_OK;
}

/** Chunked form: adds the group's sums over inputs [k0, k0 + n) (weights at w, 4n bytes) to acc[0..3]. */
export function fully_connected_grouped_accumulate_s8(p: FullyConnectedParams, acc: usize, w: usize, k0: i32, n: i32): i32 {
  if (k0 < 0 || n < 0 || k0 > p.inC - n) return STATUS_KERNEL;
  groupDot(ARENA + <usize>p.input + <usize>k0, w, n);
  store<i32>(acc, load<i32>(acc) + load<i32>(SUMS));
  store<i32>(acc, load<i32>(acc, 4) + load<i32>(SUMS, 4), 4);
  store<i32>(acc, load<i32>(acc, 8) + load<i32>(SUMS, 8), 8);
  store<i32>(acc, load<i32>(acc, 12) + load<i32>(SUMS, 12), 12);
  return STATUS_OK;
}

/** Chunked form: requantizes the group of output channels [oc, oc + 4) from acc[0..3] (records at channel). */
export function fully_connected_grouped_finish_s8(p: FullyConnectedParams, channel: usize, acc: usize, oc: i32): i32 {
  if (oc < 0 || oc > p.outC - GROUP) return STATUS_KERNEL;
  if (!channelTileOk(channel, 0, GROUP, GROUP, p.actMin, p.actMax)) return STATUS_KERNEL;
  finishGroup(load<i32>(acc), load<i32>(acc, 4), load<i32>(acc, 8), load<i32>(acc, 12), channel, ARENA + <usize>p.output + <usize>oc, p);
  return STATUS_OK;
}
