// Scaffolding shared by the kernel specs (test/engine/*.spec.ts): a seeded generator, the
// test arena, static parameter blocks, byte comparisons, reference arithmetic, and the
// harness of the per-channel kernels (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED).
//
// The reference arithmetic is transcribed from TFLite / gemmlowp and deliberately does not
// call assembly/quant.ts: a spec must not check the engine against the engine's own code.
// Each spec compiles to its own module, so every spec has its own copy of the state here.
import { setArena } from "../../assembly/arena";
import { ConvParams, STATUS_OK } from "../../assembly/format";

// ---- xorshift32 (Marsaglia 13/17/5) ----

let rngState: u32 = 1;

/** Restarts the generator; 0 (a fixed point of xorshift) is replaced by 1. */
export function seedRandom(s: u32): void {
  rngState = s != 0 ? s : 1;
}

export function xorshift32(): u32 {
  let x = rngState;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rngState = x;
  return x;
}

/** Uniform-ish integer in [lo, hi] (modulo bias is fine for tests). */
export function randInt(lo: i32, hi: i32): i32 {
  return lo + <i32>(xorshift32() % <u32>(hi - lo + 1));
}

export function randomI8(): i8 {
  return <i8>(xorshift32() & 0xff);
}

/** n random bytes at `at` (one generator step per byte). */
export function fillRandomBytes(at: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u8>(at + <usize>i, <u8>xorshift32());
}

/** n random int8 values at `at` in [zeroPoint - r, zeroPoint + r], cut to the int8 range. */
export function fillAroundZeroPoint(at: usize, n: i32, zeroPoint: i32, r: i32): void {
  for (let i = 0; i < n; i++) {
    store<i8>(at + <usize>i, <i8>randInt(max(-128, zeroPoint - r), min(127, zeroPoint + r)));
  }
}

// ---- the arena and parameter blocks (static: no allocation) ----

export const TEST_ARENA_BYTES: i32 = 32768;
export const TEST_ARENA: usize = memory.data(32768, 16);

/** Points the engine's arena at TEST_ARENA; tensors are then TEST_ARENA + offset. */
export function useTestArena(): void {
  setArena(TEST_ARENA, TEST_ARENA_BYTES);
}

/** The spec's one zeroed block for a T params struct: every call returns the same block. */
export function staticParams<T>(): T {
  return changetype<T>(memory.data(offsetof<T>(), 16));
}

// ---- comparing bytes ----

/** Index of the first of n int8 values where a and b differ, or -1. */
export function firstDifference(a: usize, b: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) if (load<i8>(a + <usize>i) != load<i8>(b + <usize>i)) return i;
  return -1;
}

/** How many of n int8 values differ between a and b. */
export function countDifferences(a: usize, b: usize, n: i32): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) if (load<i8>(a + <usize>i) != load<i8>(b + <usize>i)) bad++;
  return bad;
}

// ---- reference fixed-point arithmetic (literal transcriptions of the C++) ----

/** gemmlowp SaturatingRoundingDoublingHighMul: nudge, then a division truncating toward zero. */
export function refSaturatingRoundingDoublingHighMul(a: i32, b: i32): i32 {
  if (a == i32.MIN_VALUE && b == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab: i64 = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? <i64>(1 << 30) : <i64>1 - <i64>(1 << 30);
  return <i32>((ab + nudge) / <i64>2147483648); // i64 division truncates toward zero
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent to nearest, ties away from zero. */
export function refRoundingDivideByPOT(x: i32, exponent: i32): i32 {
  if (exponent == 0) return x;
  const mag: i64 = x < 0 ? -<i64>x : <i64>x;
  const q: i64 = (mag + (<i64>1 << <i64>(exponent - 1))) >> <i64>exponent;
  return <i32>(x < 0 ? -q : q);
}

/** TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^shift, shift of either sign. */
export function refMultiplyByQuantizedMultiplier(x: i32, multiplier: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return refRoundingDivideByPOT(refSaturatingRoundingDoublingHighMul(x * (1 << left), multiplier), right);
}

/** Results of quantizeMultiplier. */
export let qmMultiplier: i32 = 0;
export let qmShift: i32 = 0;

/** TFLite QuantizeMultiplier (for the specs' own parameter set-up): real = qmMultiplier * 2^(qmShift - 31). */
export function quantizeMultiplier(real: f64): void {
  let shift = 0;
  let q = real;
  while (q >= 1.0) { q /= 2; shift++; }
  while (q < 0.5) { q *= 2; shift--; }
  let fixed = <i64>Math.round(q * 2147483648.0);
  if (fixed == (<i64>1 << 31)) { fixed /= 2; shift++; }
  qmMultiplier = <i32>fixed;
  qmShift = shift;
  if (qmShift < -31) { qmShift = 0; qmMultiplier = 0; }
}

// ---- per-channel kernels: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED ----

/** The model's per-channel records [bias, multiplier, shift] x outC (outC <= 80), before tiling. */
export const CHANNELS: usize = memory.data(80 * 12, 16);
/** Reference output. */
export const REF: usize = memory.data(8192, 16);
/** Sentinel bytes on each side of a kernel's output: writes outside it must not happen. */
export const GUARD: i32 = 16;
const SHIFTS = memory.data<i32>([-9, 0, 2, -5, -12, 1, -1, -16]);

/** The record of channel c in CHANNELS; fields at +0 bias, +4 multiplier, +8 shift. */
export function channelRecord(c: i32): usize {
  return CHANNELS + <usize>(c * 12);
}

/**
 * Random channel records: biases in [-biasMax, biasMax] except channels c % 5 == 3 / 4 (+-2^24,
 * saturating), multipliers in [0.5, 1) except c % 4 == 0 (exactly 0.5: many rounding ties) and
 * c % 4 == 1 (the largest), shifts drawn from SHIFTS.
 */
export function fillChannelRecords(outC: i32, biasMax: i32): void {
  for (let c = 0; c < outC; c++) {
    let bias = randInt(-biasMax, biasMax);
    if (c % 5 == 3) bias = 1 << 24; // saturates high
    if (c % 5 == 4) bias = -(1 << 24); // saturates low
    let mult: i32 = (1 << 30) | <i32>(xorshift32() & 0x3fffffff);
    if (c % 4 == 0) mult = 1 << 30; // exactly 0.5: many rounding ties
    if (c % 4 == 1) mult = i32.MAX_VALUE;
    const shift = load<i32>(SHIFTS + <usize>((xorshift32() & 7) << 2));
    store<i32>(channelRecord(c), bias);
    store<i32>(channelRecord(c), mult, 4);
    store<i32>(channelRecord(c), shift, 8);
  }
}

/** Overrides every channel's shift (and multiplier when mult != 0). */
export function setAllShifts(outC: i32, shift: i32, mult: i32): void {
  for (let c = 0; c < outC; c++) {
    store<i32>(channelRecord(c), shift, 8);
    if (mult != 0) store<i32>(channelRecord(c), mult, 4);
  }
}

/** Small biases, multiplier 0.5 and one shift for every channel: outputs resolve single accumulator steps. */
export function setPreciseChannels(outC: i32, shift: i32): void {
  for (let c = 0; c < outC; c++) {
    store<i32>(channelRecord(c), randInt(-20, 20));
    store<i32>(channelRecord(c), 1 << 30, 4);
    store<i32>(channelRecord(c), shift, 8);
  }
}

/** Copies the records of channels [oc0, oc1) to the front of a tile; returns where their weights go. */
export function copyChannelRecords(tile: usize, oc0: i32, oc1: i32): usize {
  const n = oc1 - oc0;
  memory.copy(tile, channelRecord(oc0), <usize>(n * 12));
  return tile + <usize>(n * 12);
}

/** Tile for channels [oc0, oc1) whose weights are rows of perChannel bytes, as the model stores them. */
export function buildRowTile(tile: usize, weights: usize, perChannel: i32, oc0: i32, oc1: i32): void {
  const at = copyChannelRecords(tile, oc0, oc1);
  memory.copy(at, weights + <usize>(oc0 * perChannel), <usize>((oc1 - oc0) * perChannel));
}

/** Fills n output bytes at `out` and GUARD bytes on each side with the sentinel. */
export function fillWithSentinel(out: usize, n: i32, sentinel: i8): void {
  memory.fill(out - <usize>GUARD, <u8>sentinel, <usize>(n + 2 * GUARD));
}

/** Offset (relative to out) of the first guard byte that changed, or -1. */
export function firstGuardChanged(out: usize, n: i32, sentinel: i8): i32 {
  for (let i = 1; i <= GUARD; i++) {
    if (load<i8>(out - <usize>i) != sentinel) return -i;
    if (load<i8>(out + <usize>(n - 1 + i)) != sentinel) return n - 1 + i;
  }
  return -1;
}

/** Builds the tile of channels [oc0, oc1) and runs the kernel on it; returns its status. */
export type RunTile = (oc0: i32, oc1: i32) => i32;

/**
 * Runs a kernel over tiles of tileCh channels and compares its n output bytes (NHWC, outC
 * channels) with REF. Returns -1 when all match, else the first differing index,
 * -1000 - status for a failed call, or -2000 + the offset of a changed guard byte.
 */
export function checkTiles(runTile: RunTile, outC: i32, tileCh: i32, out: usize, n: i32, sentinel: i8): i32 {
  fillWithSentinel(out, n, sentinel);
  for (let oc0 = 0; oc0 < outC; oc0 += tileCh) {
    const s = runTile(oc0, min(outC, oc0 + tileCh));
    if (s != STATUS_OK) return -1000 - s;
  }
  const g = firstGuardChanged(out, n, sentinel);
  if (g != -1) return -2000 + g;
  return firstDifference(out, REF, n);
}

/** Runs only channels [oc0, oc1): those must match REF, every other byte must keep the sentinel. Returns as checkTiles. */
export function checkChannelRange(runTile: RunTile, outC: i32, oc0: i32, oc1: i32, out: usize, n: i32, sentinel: i8): i32 {
  fillWithSentinel(out, n, sentinel);
  const s = runTile(oc0, oc1);
  if (s != STATUS_OK) return -1000 - s;
  const g = firstGuardChanged(out, n, sentinel);
  if (g != -1) return -2000 + g;
  for (let i = 0; i < n; i++) {
    const c = i % outC;
    const want = c >= oc0 && c < oc1 ? load<i8>(REF + <usize>i) : sentinel;
    if (load<i8>(out + <usize>i) != want) return i;
  }
  return -1;
}

/** Reference outputs at actMin, at actMax, and strictly between (set by countClamped). */
export let atMin = 0, atMax = 0, inside = 0;

export function countClamped(n: i32, actMin: i32, actMax: i32): void {
  atMin = 0; atMax = 0; inside = 0;
  for (let i = 0; i < n; i++) {
    const v = <i32>load<i8>(REF + <usize>i);
    if (v == actMin) atMin++;
    else if (v == actMax) atMax++;
    else inside++;
  }
}

/**
 * Sets a convolution's shapes, stride and dilation (the same on both axes), with SAME or VALID
 * padding computed as TFLite does; zero offsets, the full int8 activation range, no tiling fields.
 */
export function setConvGeometry(p: ConvParams, inH: i32, inW: i32, inC: i32, outC: i32, depthMultiplier: i32,
  kH: i32, kW: i32, stride: i32, dil: i32, same: bool): void {
  p.inH = inH; p.inW = inW; p.inC = inC; p.outC = outC; p.depthMultiplier = depthMultiplier;
  p.kH = kH; p.kW = kW;
  p.strideH = stride; p.strideW = stride; p.dilH = dil; p.dilW = dil;
  p.inputOffset = 0; p.outputOffset = 0; p.actMin = -128; p.actMax = 127;
  p.weights = 0; p.tileCh = 0; p.tileBuf = 0;
  const effH = (kH - 1) * dil + 1, effW = (kW - 1) * dil + 1;
  if (same) {
    p.outH = (inH + stride - 1) / stride;
    p.outW = (inW + stride - 1) / stride;
    p.padH = max(0, (p.outH - 1) * stride + effH - inH) / 2;
    p.padW = max(0, (p.outW - 1) * stride + effW - inW) / 2;
  } else {
    p.outH = (inH - effH) / stride + 1;
    p.outW = (inW - effW) / stride + 1;
    p.padH = 0; p.padW = 0;
  }
}

// ---- finite differences for the training kernels' specs (f64 arrays of real values) ----

export function f64At(b: usize, i: i32): f64 { return load<f64>(b + (<usize>i << 3)); }
export function setF64(b: usize, i: i32, v: f64): void { store<f64>(b + (<usize>i << 3), v); }

/** Central difference of `loss` in the f64 value at buf[i], step h; the value is restored. */
export function centralDifference(buf: usize, i: i32, h: f64, loss: () => f64): f64 {
  const v = f64At(buf, i);
  setF64(buf, i, v + h);
  const lp = loss();
  setF64(buf, i, v - h);
  const lm = loss();
  setF64(buf, i, v);
  return (lp - lm) / (2 * h);
}
