// Parameters of the fp8-weight kernels (fully_connected_fp8, conv2d_fp8,
// depthwise_conv2d_fp8) and the element arithmetic they share.
//
// Unlike the int8 kernels' records, every pointer here is an absolute linear-memory
// address (not an arena offset), so a caller can point the kernels anywhere.
// Every field is one 32-bit word (pointers are wasm32 usize), FP8_CONV_PARAMS_BYTES in all.
//
// Weights: fp8 codes (weightFormat FP8_E4M3 or FP8_E5M2), decoded through fp8_table.
// As with the int8 weight tiles (host/format/spec.ts), a call computes output channels
// [oc0, oc1) and `weights`, `weightScales` and `bias` address the data of THAT range:
// entry 0 belongs to channel oc0.
//   weights:      (oc1 - oc0) x perChannel codes; perChannel is [kH][kW][inC] (conv),
//                 [kH][kW] (depthwise), [inC] (fully connected)
//   weightScales: f32 x (oc1 - oc0) when perChannelScale = 1, else a single f32
//   bias:         f32 x (oc1 - oc0), or 0 for no bias
// Activations (one byte per element, NHWC; fully connected [batches][inC]):
//   FP8_ACT_S8:   int8, real = (q - zeroPoint) * scale
//   FP8_ACT_E4M3: fp8 E4M3 code, real = decode(code) * scale (no zero point)
//
// The arithmetic, all f32 in this fixed order (no fused multiply-add, no reassociation),
// identical on every wasm runtime:
//   x[i]  = (q - inZeroPoint)  or  decode_E4M3(q)          (exact)
//   w[i]  = decode_weightFormat(code)                      (exact)
//   acc   = 0; for each valid tap in (ky, kx, ic) order: acc = acc + x[i] * w[i]
//           (each product is exact; taps outside the input are skipped, i.e. the padding
//           is real zero)
//   scale = inScale * weightScale[channel]
//   y     = acc * scale + bias[channel]      (bias 0 when absent: y = acc * scale + 0)
//   int8 out: q = roundHalfAway(y / outScale) + outZeroPoint, clamped to [actMin, actMax]
//             (NaN y gives outZeroPoint before the clamp)
//   E4M3 out: v = y clamped to [actMinF, actMaxF] (real domain; NaN stays NaN);
//             code = fp8_encode(E4M3, v / outScale) (round to nearest even, saturating);
//             a NaN v stores 0x7F whatever its sign (wasm leaves the sign of a NaN
//             produced by arithmetic, e.g. Inf * 0, up to the runtime)
// The input/weight scales are applied once per output rather than per element: that is
// both faster (one multiply per MAC) and more accurate (the products are exact).
import { fp8_table, fp8_encode, FP8_E4M3, FP8_E5M2, FP8_E4M3_NAN } from "../../fp8";

export const FP8_ACT_S8: i32 = 0;
export const FP8_ACT_E4M3: i32 = 1;

@unmanaged
export class Fp8ConvParams {
  input: usize; // absolute pointer
  inH: i32;
  inW: i32;
  inC: i32;
  output: usize; // absolute pointer
  outH: i32;
  outW: i32;
  outC: i32;
  kH: i32;
  kW: i32;
  strideH: i32;
  strideW: i32;
  dilH: i32;
  dilW: i32;
  padH: i32;
  padW: i32;
  depthMultiplier: i32; // depthwise only
  batches: i32; // fully connected only
  inType: i32; // FP8_ACT_S8 | FP8_ACT_E4M3
  outType: i32; // FP8_ACT_S8 | FP8_ACT_E4M3
  inScale: f32;
  inZeroPoint: i32; // int8 input only
  outScale: f32;
  outZeroPoint: i32; // int8 output only
  actMin: i32; // int8 output clamp (quantized domain)
  actMax: i32;
  actMinF: f32; // E4M3 output clamp (real domain; -Infinity / Infinity for none)
  actMaxF: f32;
  weightFormat: i32; // FP8_E4M3 | FP8_E5M2
  weights: usize; // absolute pointer: codes of channel oc0 onward
  weightScales: usize; // absolute pointer: f32, see perChannelScale
  perChannelScale: i32; // 1: one scale per output channel; 0: one for the tensor
  bias: usize; // absolute pointer: f32 per channel from oc0, or 0
}

export const FP8_CONV_PARAMS_BYTES: i32 = 33 * 4;

// @ts-ignore: decorator
@inline
function finitePositive(x: f32): bool {
  return x > <f32>0 && x < Infinity;
}

/** Checks the fields every fp8 kernel uses (types, scales, ranges, pointers). */
export function fp8ParamsOk(p: Fp8ConvParams): bool {
  if (p.inType != FP8_ACT_S8 && p.inType != FP8_ACT_E4M3) return false;
  if (p.outType != FP8_ACT_S8 && p.outType != FP8_ACT_E4M3) return false;
  if (<u32>p.weightFormat != FP8_E4M3 && <u32>p.weightFormat != FP8_E5M2) return false;
  if (p.perChannelScale != 0 && p.perChannelScale != 1) return false;
  if (!finitePositive(p.inScale) || !finitePositive(p.outScale)) return false;
  if (p.inType == FP8_ACT_S8 && (p.inZeroPoint < -128 || p.inZeroPoint > 127)) return false;
  if (p.outType == FP8_ACT_S8) {
    if (p.outZeroPoint < -128 || p.outZeroPoint > 127) return false;
    if (p.actMin < -128 || p.actMax > 127 || p.actMin > p.actMax) return false;
  } else if (!(p.actMinF <= p.actMaxF)) {
    return false; // also rejects NaN bounds
  }
  return p.input != 0 && p.output != 0 && p.weights != 0 && p.weightScales != 0;
}

/** table[byte] for a 256-entry f32 table. */
// @ts-ignore: decorator
@inline
export function lut(table: usize, byteAt: usize): f32 {
  return load<f32>(table + (<usize>load<u8>(byteAt) << 2));
}

/** The byte of `word` at `k` (0..3) as a signed value. */
// @ts-ignore: decorator
@inline
function sbyte(word: u32, k: u32): i32 {
  return <i32>(word << (24 - (k << 3))) >> 24;
}

/** The byte of `word` at `k` (0..3) unsigned. */
// @ts-ignore: decorator
@inline
function ubyte(word: u32, k: u32): u32 {
  return (word >> (k << 3)) & 0xff;
}

/**
 * acc + sum over i < len, ascending, of x[i] * w[i], one rounding per add as written out:
 * the contiguous dot product of the conv and fully connected kernels. The input's value
 * comes from xLut, or, for int8 input (xLut = 0), is converted directly (q - zp, exact);
 * four bytes of each side are read per word. The order of the adds is what params.ts fixes.
 */
export function dot(acc: f32, x: usize, w: usize, len: i32, xLut: usize, zp: f32, wLut: usize): f32 {
  const end = x + <usize>len;
  const end4 = x + <usize>(len & ~3);
  if (xLut == 0) {
    while (x < end4) {
      const xs = load<u32>(x), ws = load<u32>(w);
      acc += (<f32>sbyte(xs, 0) - zp) * load<f32>(wLut + (<usize>ubyte(ws, 0) << 2));
      acc += (<f32>sbyte(xs, 1) - zp) * load<f32>(wLut + (<usize>ubyte(ws, 1) << 2));
      acc += (<f32>sbyte(xs, 2) - zp) * load<f32>(wLut + (<usize>ubyte(ws, 2) << 2));
      acc += (<f32>sbyte(xs, 3) - zp) * load<f32>(wLut + (<usize>ubyte(ws, 3) << 2));
      x += 4;
      w += 4;
    }
    while (x < end) {
      acc += (<f32>load<i8>(x) - zp) * lut(wLut, w);
      x++;
      w++;
    }
    return acc;
  }
  while (x < end4) {
    const xs = load<u32>(x), ws = load<u32>(w);
    acc += load<f32>(xLut + (<usize>ubyte(xs, 0) << 2)) * load<f32>(wLut + (<usize>ubyte(ws, 0) << 2));
    acc += load<f32>(xLut + (<usize>ubyte(xs, 1) << 2)) * load<f32>(wLut + (<usize>ubyte(ws, 1) << 2));
    acc += load<f32>(xLut + (<usize>ubyte(xs, 2) << 2)) * load<f32>(wLut + (<usize>ubyte(ws, 2) << 2));
    acc += load<f32>(xLut + (<usize>ubyte(xs, 3) << 2)) * load<f32>(wLut + (<usize>ubyte(ws, 3) << 2));
    x += 4;
    w += 4;
  }
  while (x < end) {
    acc += lut(xLut, x) * lut(wLut, w);
    x++;
    w++;
  }
  return acc;
}

/** The table `dot` reads inputs through: 0 for int8 input (converted directly), else E4M3's. */
export function dotInputTable(p: Fp8ConvParams): usize {
  return p.inType == FP8_ACT_S8 ? 0 : fp8_table(FP8_E4M3);
}

/** inScale * weightScale of the j-th channel of the call's range. */
// @ts-ignore: decorator
@inline
export function channelScale(p: Fp8ConvParams, j: i32): f32 {
  const ws = load<f32>(p.weightScales + (p.perChannelScale != 0 ? <usize>j << 2 : 0));
  return p.inScale * ws;
}

/** Bias of the j-th channel of the call's range (0 without bias). */
// @ts-ignore: decorator
@inline
export function channelBias(p: Fp8ConvParams, j: i32): f32 {
  return p.bias != 0 ? load<f32>(p.bias + (<usize>j << 2)) : <f32>0;
}

/** std::round for f32: nearest, ties away from zero (x - trunc(x) is exact). */
// @ts-ignore: decorator
@inline
function roundHalfAway(x: f32): f32 {
  const t = Mathf.trunc(x);
  const frac = x - t;
  if (frac >= <f32>0.5) return t + <f32>1;
  if (frac <= <f32>-0.5) return t - <f32>1;
  return t;
}

/** Quantizes the real result y of one output element and stores it at `at`. */
export function storeOutput(p: Fp8ConvParams, at: usize, y: f32): void {
  if (p.outType == FP8_ACT_S8) {
    let r = roundHalfAway(y / p.outScale);
    if (!(r > <f32>-1e9)) r = r != r ? <f32>0 : <f32>-1e9; // NaN -> 0; bound before the i32 cast
    else if (r > <f32>1e9) r = <f32>1e9;
    let q = <i32>r + p.outZeroPoint;
    q = q < p.actMin ? p.actMin : (q > p.actMax ? p.actMax : q);
    store<i8>(at, <i8>q);
  } else {
    let v = y;
    if (v < p.actMinF) v = p.actMinF;
    if (v > p.actMaxF) v = p.actMaxF;
    // A NaN made by arithmetic has a runtime-dependent sign bit in wasm: store the one
    // canonical NaN code so the output bytes are the same everywhere.
    store<u8>(at, v != v ? <u8>FP8_E4M3_NAN : <u8>fp8_encode(FP8_E4M3, v / p.outScale));
  }
}
