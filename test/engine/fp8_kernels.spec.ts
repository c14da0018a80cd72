// fp8-weight kernels (assembly/kernels/fp8) against plain f32 references written here in
// the same operation order (so the output bytes must be identical), and against an exact
// f64 computation (so they must also be close to the true result).
import { STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { fp8_encode, fp8_decode, FP8_E4M3, FP8_E5M2 } from "../../assembly/fp8";
import { Fp8ConvParams, FP8_CONV_PARAMS_BYTES, FP8_ACT_S8, FP8_ACT_E4M3 } from "../../assembly/kernels/fp8/params";
import { fully_connected_fp8, fully_connected_fp8_accumulate, fully_connected_fp8_finish } from "../../assembly/kernels/fp8/fully_connected";
import { conv2d_fp8 } from "../../assembly/kernels/fp8/conv2d";
import { depthwise_conv2d_fp8 } from "../../assembly/kernels/fp8/depthwise_conv2d";

// ---- buffers (static; no allocation) ----
const IN = memory.data(8192, 16); // input activations
const OUT_BUF = memory.data(8192 + 64, 16); // output with sentinel guards
const W = memory.data(32768, 16); // weights [outC][perChannel] (the tile layout)
const SC = memory.data(64 * 4, 16); // weight scales f32 (per channel or [0])
const BI = memory.data(64 * 4, 16); // bias f32
const REF = memory.data(8192, 16); // reference output bytes
const YREF = memory.data(8192 * 4, 16); // reference pre-quantization y (f32)
const YEX = memory.data(8192 * 8, 16); // exact y (f64)
const P = changetype<Fp8ConvParams>(memory.data(FP8_CONV_PARAMS_BYTES, 16));
const OUT_AT: i32 = 21; // odd offset of the output inside OUT_BUF
const GUARD: i32 = 16;
const SENT: u8 = 0xa5;

const K_FC: i32 = 0, K_CONV: i32 = 1, K_DW: i32 = 2;
let kind: i32 = K_CONV;
let hasBias = true;

// ---- xorshift32 ----
let rng: u32 = 1;
function seed(s: u32): void { rng = s != 0 ? s : 1; }
function next(): u32 {
  let x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return x;
}
function randInt(lo: i32, hi: i32): i32 { return lo + <i32>(next() % <u32>(hi - lo + 1)); }
function rand01(): f64 { return <f64>(next() >> 8) / 16777216.0; }

// ---- independent fp8 decoding: the OCP formula, written out ----
function pow2(k: i32): f64 {
  let r: f64 = 1.0;
  if (k >= 0) for (let i = 0; i < k; i++) r *= 2.0;
  else for (let i = 0; i < -k; i++) r /= 2.0;
  return r;
}
function refFp8(format: u32, code: u32): f64 {
  const mb: i32 = format == FP8_E4M3 ? 3 : 2, eb: i32 = format == FP8_E4M3 ? 4 : 5, bias: i32 = format == FP8_E4M3 ? 7 : 15;
  const sign: f64 = (code & 0x80) != 0 ? -1.0 : 1.0;
  const e = <i32>((code >> <u32>mb) & <u32>((1 << eb) - 1)), m = <i32>(code & <u32>((1 << mb) - 1));
  if (format == FP8_E4M3 && (code & 0x7f) == 0x7f) return NaN;
  if (format == FP8_E5M2 && e == 31) return m == 0 ? sign * Infinity : NaN;
  if (e == 0) return sign * pow2(1 - bias) * (<f64>m / pow2(mb));
  return sign * pow2(e - bias) * (1.0 + <f64>m / pow2(mb));
}
function isSpecial(format: u32, code: u32): bool {
  if (format == FP8_E4M3) return (code & 0x7f) == 0x7f;
  return (code & 0x7c) == 0x7c;
}
/** A random finite code. */
function randCode(format: u32): u8 {
  let c = next() & 0xff;
  while (isSpecial(format, c)) c = next() & 0xff;
  return <u8>c;
}

// ---- reference element arithmetic ----
function refX(at: usize): f32 {
  const b = load<u8>(at);
  if (P.inType == FP8_ACT_S8) return <f32>(<i32><i8>b - P.inZeroPoint);
  return <f32>refFp8(FP8_E4M3, b);
}
function refW(at: usize): f32 { return <f32>refFp8(<u32>P.weightFormat, load<u8>(at)); }
function wScaleOf(oc: i32): f32 { return load<f32>(SC + (P.perChannelScale != 0 ? <usize>oc << 2 : 0)); }
function biasOf(oc: i32): f32 { return hasBias ? load<f32>(BI + (<usize>oc << 2)) : <f32>0; }

/** The documented output quantization, written independently (round half away via f64). */
function refQuantize(y: f32): u8 {
  if (P.outType == FP8_ACT_S8) {
    const v = y / P.outScale;
    let q: f64;
    if (v != v) q = 0;
    else {
      const a = Math.floor(Math.abs(<f64>v) + 0.5);
      q = v < 0 ? -a : a;
    }
    q += <f64>P.outZeroPoint;
    if (q < <f64>P.actMin) q = <f64>P.actMin;
    if (q > <f64>P.actMax) q = <f64>P.actMax;
    return <u8><i8><i32>q;
  }
  let v = y;
  if (v != v) return 0x7f;
  if (v < P.actMinF) v = P.actMinF;
  if (v > P.actMaxF) v = P.actMaxF;
  return <u8>fp8_encode(FP8_E4M3, v / P.outScale);
}

function perChannel(): i32 {
  if (kind == K_FC) return P.inC;
  if (kind == K_DW) return P.kH * P.kW;
  return P.kH * P.kW * P.inC;
}
function outCount(): i32 {
  if (kind == K_FC) return P.batches * P.outC;
  return P.outH * P.outW * P.outC;
}

/** y (f32, documented order) and y (exact, f64) of output element i. */
let yExact: f64 = 0;
function refY(i: i32): f32 {
  const oc = i % P.outC;
  let acc: f32 = 0;
  let ex: f64 = 0;
  if (kind == K_FC) {
    const b = i / P.outC;
    for (let k = 0; k < P.inC; k++) {
      const x = refX(IN + <usize>(b * P.inC + k)), w = refW(W + <usize>(oc * P.inC + k));
      acc += x * w;
      ex += <f64>x * <f64>w;
    }
  } else {
    const pix = i / P.outC;
    const oy = pix / P.outW, ox = pix % P.outW;
    for (let ky = 0; ky < P.kH; ky++) {
      for (let kx = 0; kx < P.kW; kx++) {
        const iy = oy * P.strideH - P.padH + ky * P.dilH;
        const ix = ox * P.strideW - P.padW + kx * P.dilW;
        if (iy < 0 || iy >= P.inH || ix < 0 || ix >= P.inW) continue;
        if (kind == K_CONV) {
          for (let ic = 0; ic < P.inC; ic++) {
            const x = refX(IN + <usize>((iy * P.inW + ix) * P.inC + ic));
            const w = refW(W + <usize>(((oc * P.kH + ky) * P.kW + kx) * P.inC + ic));
            acc += x * w;
            ex += <f64>x * <f64>w;
          }
        } else {
          const ic = oc / P.depthMultiplier;
          const x = refX(IN + <usize>((iy * P.inW + ix) * P.inC + ic));
          const w = refW(W + <usize>((oc * P.kH + ky) * P.kW + kx));
          acc += x * w;
          ex += <f64>x * <f64>w;
        }
      }
    }
  }
  const s: f32 = P.inScale * wScaleOf(oc);
  yExact = ex * (<f64>P.inScale * <f64>wScaleOf(oc)) + <f64>biasOf(oc);
  return acc * s + biasOf(oc);
}

function computeRef(): void {
  for (let i = 0; i < outCount(); i++) {
    const y = refY(i);
    store<f32>(YREF + (<usize>i << 2), y);
    store<f64>(YEX + (<usize>i << 3), yExact);
  }
  for (let i = 0; i < outCount(); i++) store<u8>(REF + <usize>i, refQuantize(load<f32>(YREF + (<usize>i << 2))));
}

// ---- modes: activation types, weight format, scale granularity ----
/** mode bits: 0-1 = (inType, outType) pair, 2 = weight format, 3 = per-channel scale. */
function setMode(mode: i32): void {
  const io = mode & 3;
  P.inType = io == 1 || io == 2 ? FP8_ACT_E4M3 : FP8_ACT_S8;
  P.outType = io == 1 || io == 3 ? FP8_ACT_E4M3 : FP8_ACT_S8;
  P.weightFormat = (mode & 4) != 0 ? <i32>FP8_E5M2 : <i32>FP8_E4M3;
  P.perChannelScale = (mode & 8) != 0 ? 1 : 0;
}

function defaults(): void {
  P.inScale = 0.05; P.inZeroPoint = 0;
  P.outScale = 1; P.outZeroPoint = 0;
  P.actMin = -128; P.actMax = 127;
  P.actMinF = -Infinity; P.actMaxF = Infinity;
  P.depthMultiplier = 1; P.batches = 0;
  P.input = IN; P.output = OUT_BUF + <usize>OUT_AT;
  P.weights = W; P.weightScales = SC; P.bias = BI;
  hasBias = true;
}

function geometry(k: i32, inH: i32, inW: i32, inC: i32, outC: i32, kH: i32, kW: i32, stride: i32, dil: i32, same: bool): void {
  kind = k;
  defaults();
  P.inH = inH; P.inW = inW; P.inC = inC; P.outC = outC;
  P.kH = kH; P.kW = kW;
  P.strideH = stride; P.strideW = stride; P.dilH = dil; P.dilW = dil;
  if (k == K_DW) P.depthMultiplier = outC / inC;
  const effH = (kH - 1) * dil + 1, effW = (kW - 1) * dil + 1;
  if (same) {
    P.outH = (inH + stride - 1) / stride;
    P.outW = (inW + stride - 1) / stride;
    P.padH = max(0, (P.outH - 1) * stride + effH - inH) / 2;
    P.padW = max(0, (P.outW - 1) * stride + effW - inW) / 2;
  } else {
    P.outH = (inH - effH) / stride + 1;
    P.outW = (inW - effW) / stride + 1;
    P.padH = 0; P.padW = 0;
  }
}

function fcGeometry(batches: i32, inC: i32, outC: i32): void {
  kind = K_FC;
  defaults();
  P.batches = batches; P.inC = inC; P.outC = outC;
  P.inH = 1; P.inW = 1; P.outH = 1; P.outW = 1; P.kH = 1; P.kW = 1;
  P.strideH = 1; P.strideW = 1; P.dilH = 1; P.dilW = 1; P.padH = 0; P.padW = 0;
}

function inCount(): i32 { return kind == K_FC ? P.batches * P.inC : P.inH * P.inW * P.inC; }

/** Random data for the current mode, then output scale/zero point chosen from the
 *  reference so outputs cover the range (a few saturating). `target` = max |y| in output units. */
function fillData(s: u32, target: f32): void {
  seed(s);
  for (let i = 0; i < inCount(); i++) {
    store<u8>(IN + <usize>i, P.inType == FP8_ACT_S8 ? <u8>next() : randCode(FP8_E4M3));
  }
  if (P.inType == FP8_ACT_S8) { P.inZeroPoint = randInt(-20, 20); P.inScale = <f32>(0.01 + 0.05 * rand01()); }
  else P.inScale = <f32>(0.001 + 0.01 * rand01());
  const nW = P.outC * perChannel();
  for (let i = 0; i < nW; i++) store<u8>(W + <usize>i, randCode(<u32>P.weightFormat));
  const wBase: f64 = P.weightFormat == <i32>FP8_E4M3 ? 1.0 / 64 : 1.0 / 8192;
  for (let c = 0; c < P.outC; c++) store<f32>(SC + (<usize>c << 2), <f32>(wBase * (0.25 + rand01())));
  // biases of the same size as the products' sums
  const savedBias = hasBias;
  hasBias = false;
  computeRef();
  let maxAbs: f32 = 0;
  for (let i = 0; i < outCount(); i++) maxAbs = max(maxAbs, Mathf.abs(load<f32>(YREF + (<usize>i << 2))));
  for (let c = 0; c < P.outC; c++) store<f32>(BI + (<usize>c << 2), <f32>((rand01() - 0.5) * <f64>maxAbs));
  hasBias = savedBias;
  P.bias = hasBias ? BI : 0;
  computeRef();
  maxAbs = 0;
  for (let i = 0; i < outCount(); i++) maxAbs = max(maxAbs, Mathf.abs(load<f32>(YREF + (<usize>i << 2))));
  P.outScale = maxAbs > 0 ? maxAbs / target : 1;
  if (P.outType == FP8_ACT_S8) P.outZeroPoint = randInt(-10, 10);
  computeRef();
}

// ---- running ----
function fillOutput(): void {
  memory.fill(OUT_BUF + <usize>(OUT_AT - GUARD), SENT, <usize>(outCount() + 2 * GUARD));
}
function outAt(i: i32): u8 { return load<u8>(OUT_BUF + <usize>(OUT_AT + i)); }
function guardsChanged(): i32 {
  for (let i = 1; i <= GUARD; i++) {
    if (outAt(-i) != SENT) return -i;
    if (outAt(outCount() - 1 + i) != SENT) return outCount() - 1 + i;
  }
  return -1;
}

/** Runs channels [oc0, oc1) with the pointers addressing that range, as the tile convention says. */
function runRange(oc0: i32, oc1: i32): i32 {
  P.weights = W + <usize>(oc0 * perChannel());
  P.weightScales = SC + (P.perChannelScale != 0 ? <usize>oc0 << 2 : 0);
  P.bias = hasBias ? BI + (<usize>oc0 << 2) : 0;
  let s: i32;
  if (kind == K_FC) s = fully_connected_fp8(P, oc0, oc1);
  else if (kind == K_CONV) s = conv2d_fp8(P, oc0, oc1);
  else s = depthwise_conv2d_fp8(P, oc0, oc1);
  P.weights = W; P.weightScales = SC; P.bias = hasBias ? BI : 0;
  return s;
}

/** Kernel over tiles of tileCh channels vs the reference: -1 if identical, else where it differs. */
function check(tileCh: i32): i32 {
  computeRef();
  fillOutput();
  for (let oc0 = 0; oc0 < P.outC; oc0 += tileCh) {
    const s = runRange(oc0, min(P.outC, oc0 + tileCh));
    if (s != STATUS_OK) return -1000 - s;
  }
  const g = guardsChanged();
  if (g != -1) return -2000 + g;
  for (let i = 0; i < outCount(); i++) if (outAt(i) != load<u8>(REF + <usize>i)) return i;
  return -1;
}

/** Only channels [oc0, oc1) must be written (and match); every other byte untouched. */
function checkPartial(oc0: i32, oc1: i32): i32 {
  computeRef();
  fillOutput();
  const s = runRange(oc0, oc1);
  if (s != STATUS_OK) return -1000 - s;
  const g = guardsChanged();
  if (g != -1) return -2000 + g;
  for (let i = 0; i < outCount(); i++) {
    const c = i % P.outC;
    const want = c >= oc0 && c < oc1 ? load<u8>(REF + <usize>i) : SENT;
    if (outAt(i) != want) return i;
  }
  return -1;
}

/** Runs every mode on the current geometry; returns the number of failing modes. */
const ACC = memory.data(64 * 4, 16); // chunked FC: f32 accumulator per batch row

/** Chunked FC (each channel's weights `chunk` at a time, accumulate then finish) vs the reference. */
function checkChunked(chunk: i32): i32 {
  computeRef();
  fillOutput();
  const per = perChannel();
  for (let oc = 0; oc < P.outC; oc++) {
    memory.fill(ACC, 0, <usize>(P.batches << 2));
    for (let k0 = 0; k0 < P.inC; k0 += chunk) {
      const w = W + <usize>(oc * per + k0);
      P.weights = w;
      const s = fully_connected_fp8_accumulate(P, ACC, w, k0, min(chunk, P.inC - k0));
      if (s != STATUS_OK) return -1000 - s;
    }
    P.weightScales = SC + (P.perChannelScale != 0 ? <usize>oc << 2 : 0);
    P.bias = hasBias ? BI + (<usize>oc << 2) : 0;
    const s = fully_connected_fp8_finish(P, ACC, oc);
    if (s != STATUS_OK) return -1000 - s;
  }
  P.weights = W; P.weightScales = SC; P.bias = hasBias ? BI : 0;
  const g = guardsChanged();
  if (g != -1) return -2000 + g;
  for (let i = 0; i < outCount(); i++) if (outAt(i) != load<u8>(REF + <usize>i)) return i;
  return -1;
}

function checkAllModes(s: u32, tileCh: i32): i32 {
  let bad = 0;
  for (let mode = 0; mode < 16; mode++) {
    setMode(mode);
    fillData(s + <u32>mode * 101, P.outType == FP8_ACT_S8 ? <f32>110 : <f32>400);
    const r = check(tileCh);
    if (r != -1) {
      if (bad < 3) trace("mismatch (mode, result)", 2, <f64>mode, <f64>r);
      bad++;
    }
  }
  return bad;
}

/** Rank of an E4M3 finite code on the number line (both zeros 0). */
function rank(c: u8): i32 { return (c & 0x80) != 0 ? -<i32>(c & 0x7f) : <i32>(c & 0x7f); }

/** Kernel output vs the exact f64 result: int8 within 1 step, E4M3 within one code. Returns the worst distance. */
function worstVsExact(): i32 {
  let worst = 0;
  for (let i = 0; i < outCount(); i++) {
    const ex = load<f64>(YEX + (<usize>i << 3));
    const got = outAt(i);
    let d: i32;
    if (P.outType == FP8_ACT_S8) {
      let q = Math.round(ex / <f64>P.outScale) + <f64>P.outZeroPoint; // ties differ only in +-0.5: within 1 anyway
      q = Math.max(<f64>P.actMin, Math.min(<f64>P.actMax, q));
      d = abs(<i32><i8>got - <i32>q);
    } else {
      let v = ex;
      if (v < <f64>P.actMinF) v = <f64>P.actMinF;
      if (v > <f64>P.actMaxF) v = <f64>P.actMaxF;
      const want = <u8>fp8_encode(FP8_E4M3, <f32>(v / <f64>P.outScale));
      d = abs(rank(got) - rank(want));
    }
    if (d > worst) worst = d;
  }
  return worst;
}

/** Counts int8 reference outputs at actMin, at actMax, and strictly between. */
let atMin = 0, atMax = 0, inside = 0;
function stats(): void {
  atMin = 0; atMax = 0; inside = 0;
  for (let i = 0; i < outCount(); i++) {
    const v = <i32>load<i8>(REF + <usize>i);
    if (v == P.actMin) atMin++;
    else if (v == P.actMax) atMax++;
    else inside++;
  }
}

describe("fp8 kernels: element arithmetic", () => {
  it("the reference decoder agrees with fp8_decode on every finite code", () => {
    let bad = 0;
    for (let f: u32 = 0; f < 2; f++) {
      for (let c: u32 = 0; c < 256; c++) {
        if (isSpecial(f, c)) continue;
        if (reinterpret<u32>(<f32>refFp8(f, c)) != reinterpret<u32>(fp8_decode(f, c))) bad++;
      }
    }
    expect<i32>(bad).toBe(0);
  });

  it("fully connected: a hand-computed case (int8 in/out and E4M3 in/out)", () => {
    fcGeometry(1, 3, 2);
    setMode(0); // int8 in/out, E4M3 weights, per-tensor scale
    store<i8>(IN, 10); store<i8>(IN + 1, -4); store<i8>(IN + 2, 7);
    P.inZeroPoint = 2; P.inScale = 0.5; P.outScale = 0.25; P.outZeroPoint = 3;
    // weights: 1.0 (0x38), -0.5 (0xb0), 2.0 (0x40); channel 1: 0.125 (0x20) x 3
    store<u8>(W, 0x38); store<u8>(W + 1, 0xb0); store<u8>(W + 2, 0x40);
    store<u8>(W + 3, 0x20); store<u8>(W + 4, 0x20); store<u8>(W + 5, 0x20);
    store<f32>(SC, 0.5);
    store<f32>(BI, 0.375); store<f32>(BI + 4, -1.0);
    fillOutput();
    expect<i32>(runRange(0, 2)).toBe(STATUS_OK);
    // ch0: acc = 8*1 + (-6)*(-0.5) + 5*2 = 21; y = 21 * 0.25 + 0.375 = 5.625; /0.25 = 22.5 -> 23 (+3) = 26
    // ch1: acc = (8 - 6 + 5) * 0.125 = 0.875; y = 0.875 * 0.25 - 1 = -0.78125; /0.25 = -3.125 -> -3 (+3) = 0
    expect<i8>(<i8>outAt(0)).toBe(26);
    expect<i8>(<i8>outAt(1)).toBe(0);
    expect<i32>(check(2)).toBe(-1);

    setMode(1); // E4M3 in/out
    store<u8>(IN, 0x38); store<u8>(IN + 1, 0x40); store<u8>(IN + 2, 0xc8); // 1, 2, -4
    P.inScale = 2; P.outScale = 0.5;
    fillOutput();
    expect<i32>(runRange(0, 2)).toBe(STATUS_OK);
    // ch0: acc = 1 - 1 - 8 = -8; y = -8 * 1 + 0.375 = -7.625; /0.5 = -15.25 -> E4M3 -15 (0xd7 = -1.875 * 8)
    // ch1: acc = (1 + 2 - 4) * 0.125 = -0.125; y = -0.125 - 1 = -1.125; /0.5 = -2.25 -> -2.25 (0xc1)
    expect<u8>(outAt(0)).toBe(0xd7);
    expect<u8>(outAt(1)).toBe(0xc1);
    expect<i32>(check(1)).toBe(-1);
  });

  it("clamps fp8 outputs in the real domain (ReLU / ReLU6) and saturates at +-448", () => {
    fcGeometry(2, 5, 7);
    setMode(1 | 8);
    fillData(77, 900); // outputs up to ~2x the E4M3 range: many saturate
    expect<i32>(check(7)).toBe(-1);
    let sat = 0;
    for (let i = 0; i < outCount(); i++) if ((outAt(i) & 0x7f) == 0x7e) sat++;
    expect<i32>(sat).toBeGreaterThan(0);
    P.actMinF = 0; // ReLU
    expect<i32>(check(7)).toBe(-1);
    for (let i = 0; i < outCount(); i++) expect<bool>((outAt(i) & 0x80) == 0).toBe(true);
    P.actMaxF = <f32>6 * P.outScale; // ReLU6-style bound, at 6.0 in output units
    expect<i32>(check(3)).toBe(-1);
    for (let i = 0; i < outCount(); i++) expect<bool>(outAt(i) <= 0x4c).toBe(true); // 0x4c = 6.0
  });

  it("propagates NaN/Inf: NaN outputs are 0x7F (fp8) or the zero point (int8)", () => {
    fcGeometry(1, 4, 6);
    setMode(1 | 4); // E4M3 in/out, E5M2 weights
    fillData(5, 400);
    store<u8>(IN + 1, 0xff); // NaN input: every output is NaN
    expect<i32>(check(6)).toBe(-1);
    for (let i = 0; i < 6; i++) expect<u8>(outAt(i)).toBe(0x7f);
    fillData(6, 400);
    store<u8>(IN, 0x00); // a zero input times an infinite weight: NaN (sign up to the runtime)
    store<u8>(W + 2 * 4, 0xfc); // channel 2, tap 0: -Inf
    expect<i32>(check(6)).toBe(-1);
    expect<u8>(outAt(2)).toBe(0x7f);
    setMode(2 | 4); // E4M3 in, int8 out
    fillData(7, 110);
    store<u8>(IN + 3, 0x7f);
    P.outZeroPoint = -7; P.actMin = -5;
    expect<i32>(check(6)).toBe(-1);
    for (let i = 0; i < 6; i++) expect<i8>(<i8>outAt(i)).toBe(-5); // zero point -7, clamped to actMin
  });
});

describe("fully_connected_fp8", () => {
  it("matches the reference in every mode, several batches, tiled and untiled", () => {
    fcGeometry(3, 13, 9);
    expect<i32>(checkAllModes(100, 9)).toBe(0);
    expect<i32>(checkAllModes(200, 4)).toBe(0);
    fcGeometry(1, 1, 1);
    expect<i32>(checkAllModes(300, 1)).toBe(0);
    fcGeometry(2, 64, 5);
    expect<i32>(checkAllModes(400, 2)).toBe(0);
  });

  it("without bias, and with fused int8 ranges", () => {
    fcGeometry(4, 10, 8);
    hasBias = false;
    expect<i32>(checkAllModes(500, 3)).toBe(0);
    hasBias = true;
    setMode(8);
    fillData(501, 150);
    P.actMin = max(-128, P.outZeroPoint); P.actMax = 60;
    expect<i32>(check(8)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
    expect<i32>(inside).toBeGreaterThan(0);
  });

  it("writes only its channels", () => {
    fcGeometry(3, 7, 11);
    setMode(1 | 8);
    fillData(600, 400);
    expect<i32>(checkPartial(0, 6)).toBe(-1);
    expect<i32>(checkPartial(6, 11)).toBe(-1);
    expect<i32>(checkPartial(4, 5)).toBe(-1);
    expect<i32>(checkPartial(3, 3)).toBe(-1);
  });

  it("chunked (a channel's weights in pieces, accumulated) writes the same bytes as whole channels", () => {
    fcGeometry(3, 37, 5);
    for (let mode = 0; mode < 16; mode++) {
      setMode(mode);
      fillData(800 + <u32>mode, P.outType == FP8_ACT_S8 ? <f32>110 : <f32>400);
      for (let chunk = 1; chunk <= 37; chunk += 4) expect<i32>(checkChunked(chunk)).toBe(-1);
    }
    P.inC = 37;
    expect<i32>(fully_connected_fp8_accumulate(P, ACC, W, 30, 8)).toBe(STATUS_KERNEL); // past inC
    expect<i32>(fully_connected_fp8_finish(P, ACC, 5)).toBe(STATUS_KERNEL); // no channel 5
  });

  it("is close to the exact f64 result", () => {
    fcGeometry(4, 48, 10);
    for (let mode = 0; mode < 16; mode++) {
      setMode(mode);
      fillData(700 + <u32>mode, P.outType == FP8_ACT_S8 ? <f32>110 : <f32>400);
      expect<i32>(check(10)).toBe(-1);
      expect<i32>(worstVsExact()).toBeLessThanOrEqual(1);
    }
  });
});

describe("conv2d_fp8", () => {
  it("matches the reference: 3x3 SAME stride 1, all borders, every mode", () => {
    geometry(K_CONV, 5, 6, 3, 7, 3, 3, 1, 1, true);
    expect<i32>(P.padH).toBe(1);
    expect<i32>(checkAllModes(1, 7)).toBe(0);
  });

  it("matches the reference: stride 2 with uneven padding, even kernels", () => {
    geometry(K_CONV, 8, 7, 5, 6, 3, 3, 2, 1, true);
    expect<i32>(checkAllModes(2, 6)).toBe(0);
    geometry(K_CONV, 9, 6, 4, 5, 4, 2, 2, 1, true);
    expect<i32>(checkAllModes(3, 2)).toBe(0);
  });

  it("matches the reference: dilation (SAME, VALID, per axis)", () => {
    geometry(K_CONV, 7, 8, 3, 5, 3, 3, 1, 2, true);
    expect<i32>(P.padH).toBe(2);
    expect<i32>(checkAllModes(4, 5)).toBe(0);
    geometry(K_CONV, 9, 10, 2, 4, 3, 2, 2, 2, false);
    expect<i32>(checkAllModes(5, 4)).toBe(0);
    geometry(K_CONV, 8, 8, 3, 4, 3, 3, 1, 1, true);
    P.dilH = 1; P.dilW = 3; P.padW = 3;
    expect<i32>(checkAllModes(6, 3)).toBe(0);
  });

  it("matches the reference: 1x1 kernels and odd channel counts", () => {
    geometry(K_CONV, 4, 5, 7, 9, 1, 1, 1, 1, false);
    expect<i32>(checkAllModes(7, 9)).toBe(0);
    geometry(K_CONV, 5, 5, 13, 6, 1, 1, 2, 1, true);
    expect<i32>(checkAllModes(8, 4)).toBe(0);
  });

  it("matches the reference: kernel larger than the input, outputs with no valid tap (bias only)", () => {
    geometry(K_CONV, 3, 3, 2, 5, 5, 5, 1, 1, true);
    expect<i32>(checkAllModes(9, 5)).toBe(0);
    geometry(K_CONV, 4, 4, 3, 5, 3, 3, 1, 1, false);
    P.padH = 3; P.padW = 4; P.outH = 8; P.outW = 9;
    expect<i32>(checkAllModes(10, 5)).toBe(0);
    hasBias = false; // no tap and no bias: exactly zero
    setMode(1);
    fillData(11, 400);
    expect<i32>(check(5)).toBe(-1);
    expect<u8>(outAt(0)).toBe(0x00);
  });

  it("matches the reference with fused int8 activation ranges", () => {
    geometry(K_CONV, 6, 6, 4, 8, 3, 3, 1, 1, true);
    setMode(8 | 4);
    fillData(12, 150);
    P.actMin = max(-128, P.outZeroPoint); P.actMax = 127; // ReLU
    expect<i32>(check(8)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    P.actMax = 30;
    expect<i32>(check(8)).toBe(-1);
    stats();
    expect<i32>(atMin).toBeGreaterThan(0);
    expect<i32>(atMax).toBeGreaterThan(0);
    expect<i32>(inside).toBeGreaterThan(0);
  });

  it("gives the same result in several tiles and writes only its channels", () => {
    geometry(K_CONV, 6, 5, 3, 11, 3, 3, 2, 1, true);
    setMode(2 | 8);
    fillData(13, 400);
    expect<i32>(check(11)).toBe(-1);
    expect<i32>(check(4)).toBe(-1);
    expect<i32>(check(1)).toBe(-1);
    expect<i32>(checkPartial(0, 6)).toBe(-1);
    expect<i32>(checkPartial(6, 11)).toBe(-1);
    expect<i32>(checkPartial(3, 4)).toBe(-1);
    expect<i32>(checkPartial(5, 5)).toBe(-1);
  });

  it("matches the reference and the exact result over many random shapes", () => {
    let bad = 0, far = 0;
    for (let t = 0; t < 60; t++) {
      seed(1000 + t);
      const inH = randInt(1, 7), inW = randInt(1, 7), inC = randInt(1, 9), outC = randInt(1, 12);
      const kH = randInt(1, 4), kW = randInt(1, 4), stride = randInt(1, 3), dil = randInt(1, 2);
      const same = (t & 1) == 0 || (kH - 1) * dil + 1 > inH || (kW - 1) * dil + 1 > inW;
      geometry(K_CONV, inH, inW, inC, outC, kH, kW, stride, dil, same);
      setMode(t & 15);
      hasBias = (t % 5) != 4;
      fillData(7000 + <u32>t, P.outType == FP8_ACT_S8 ? <f32>110 : <f32>400);
      const r = check(randInt(1, outC));
      if (r != -1) { trace("failing random conv case", 2, <f64>t, <f64>r); bad++; }
      if (worstVsExact() > 1) { trace("random conv case far from exact", 1, <f64>t); far++; }
    }
    expect<i32>(bad).toBe(0);
    expect<i32>(far).toBe(0);
  });

  it("rejects nonsensical parameters without writing", () => {
    geometry(K_CONV, 4, 4, 3, 4, 3, 3, 1, 1, true);
    setMode(0);
    fillData(14, 110);
    fillOutput();
    expect<i32>(conv2d_fp8(P, 0, 5)).toBe(STATUS_KERNEL);
    expect<i32>(conv2d_fp8(P, 3, 2)).toBe(STATUS_KERNEL);
    expect<i32>(conv2d_fp8(P, -1, 2)).toBe(STATUS_KERNEL);
    P.strideW = 0;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.strideW = 1; P.dilH = 0;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.dilH = 1; P.inType = 2;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.inType = FP8_ACT_S8; P.outType = -1;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.outType = FP8_ACT_S8; P.weightFormat = 2;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.weightFormat = 0; P.perChannelScale = 2;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.perChannelScale = 0; const os = P.outScale; P.outScale = 0;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.outScale = NaN;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.outScale = os; const is = P.inScale; P.inScale = Infinity;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.inScale = is; P.actMin = 10; P.actMax = 5;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.actMin = -128; P.actMax = 127; P.inZeroPoint = 200;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.inZeroPoint = 0; P.outType = FP8_ACT_E4M3; P.actMinF = NaN;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.actMinF = 1; P.actMaxF = 0;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.actMinF = -Infinity; P.actMaxF = Infinity; P.weights = 0;
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_KERNEL);
    P.weights = W;
    expect<i32>(guardsChanged()).toBe(-1);
    for (let i = 0; i < outCount(); i++) expect<u8>(outAt(i)).toBe(SENT);
    expect<i32>(conv2d_fp8(P, 0, 4)).toBe(STATUS_OK);
  });
});

describe("depthwise_conv2d_fp8", () => {
  it("matches the reference: 3x3 SAME, depth multiplier 1, 2 and 3, every mode", () => {
    geometry(K_DW, 5, 6, 4, 4, 3, 3, 1, 1, true);
    expect<i32>(checkAllModes(21, 4)).toBe(0);
    geometry(K_DW, 5, 5, 3, 6, 3, 3, 1, 1, true);
    expect<i32>(P.depthMultiplier).toBe(2);
    expect<i32>(checkAllModes(22, 6)).toBe(0);
    geometry(K_DW, 4, 6, 2, 6, 3, 3, 2, 1, true);
    expect<i32>(P.depthMultiplier).toBe(3);
    expect<i32>(checkAllModes(23, 6)).toBe(0);
  });

  it("matches the reference: stride, dilation, VALID, kernel larger than the input", () => {
    geometry(K_DW, 8, 7, 5, 10, 3, 3, 2, 1, true);
    expect<i32>(checkAllModes(24, 10)).toBe(0);
    geometry(K_DW, 7, 8, 3, 3, 3, 3, 1, 2, true);
    expect<i32>(checkAllModes(25, 3)).toBe(0);
    geometry(K_DW, 9, 10, 2, 4, 3, 2, 2, 2, false);
    expect<i32>(checkAllModes(26, 4)).toBe(0);
    geometry(K_DW, 3, 3, 2, 4, 5, 5, 1, 1, true);
    expect<i32>(checkAllModes(27, 4)).toBe(0);
    geometry(K_DW, 8, 8, 3, 3, 3, 3, 1, 1, true);
    P.dilH = 2; P.dilW = 1; P.padH = 2;
    expect<i32>(checkAllModes(28, 3)).toBe(0);
  });

  it("tiles that start inside a depth-multiplier group, and writes only its channels", () => {
    geometry(K_DW, 5, 5, 3, 9, 3, 3, 1, 1, true); // dm 3
    setMode(1 | 4 | 8);
    fillData(29, 400);
    expect<i32>(check(2)).toBe(-1); // [0,2) [2,4) ... split groups
    expect<i32>(check(4)).toBe(-1);
    expect<i32>(checkPartial(1, 5)).toBe(-1);
    expect<i32>(checkPartial(7, 9)).toBe(-1);
    expect<i32>(checkPartial(4, 4)).toBe(-1);
  });

  it("matches the reference and the exact result over many random shapes", () => {
    let bad = 0, far = 0;
    for (let t = 0; t < 60; t++) {
      seed(3000 + t);
      const inH = randInt(1, 7), inW = randInt(1, 7), inC = randInt(1, 6), dm = randInt(1, 3);
      const kH = randInt(1, 4), kW = randInt(1, 4), stride = randInt(1, 3), dil = randInt(1, 2);
      const same = (t & 1) == 0 || (kH - 1) * dil + 1 > inH || (kW - 1) * dil + 1 > inW;
      geometry(K_DW, inH, inW, inC, inC * dm, kH, kW, stride, dil, same);
      setMode((t * 7) & 15);
      hasBias = (t % 5) != 2;
      fillData(9000 + <u32>t, P.outType == FP8_ACT_S8 ? <f32>110 : <f32>400);
      const r = check(randInt(1, inC * dm));
      if (r != -1) { trace("failing random depthwise case", 2, <f64>t, <f64>r); bad++; }
      if (worstVsExact() > 1) { trace("random depthwise case far from exact", 1, <f64>t); far++; }
    }
    expect<i32>(bad).toBe(0);
    expect<i32>(far).toBe(0);
  });

  it("rejects a depth multiplier that does not match and a bad range", () => {
    geometry(K_DW, 4, 4, 3, 6, 3, 3, 1, 1, true);
    setMode(0);
    fillData(30, 110);
    fillOutput();
    P.depthMultiplier = 3;
    expect<i32>(depthwise_conv2d_fp8(P, 0, 6)).toBe(STATUS_KERNEL);
    P.depthMultiplier = 0;
    expect<i32>(depthwise_conv2d_fp8(P, 0, 6)).toBe(STATUS_KERNEL);
    P.depthMultiplier = 2;
    expect<i32>(depthwise_conv2d_fp8(P, 0, 7)).toBe(STATUS_KERNEL);
    P.outScale = -1;
    expect<i32>(depthwise_conv2d_fp8(P, 0, 6)).toBe(STATUS_KERNEL);
    expect<i32>(guardsChanged()).toBe(-1);
    for (let i = 0; i < outCount(); i++) expect<u8>(outAt(i)).toBe(SENT);
  });
});
