// Hybrid fp8 training (assembly/train/fp8_error.ts, and the backward kernels reading E5M2 errors
// and E4M3 inputs) against references written here in f64: every stored value must be the
// nearest fp8 value (searched over all codes, decoded by the OCP formula below, not the engine's
// decoder), the shared exponent must put the largest magnitude in [2^14, 2^15), and the kernels
// must compute exactly what the f32 kernels compute on the decoded values.
import { ConvParams, FullyConnectedParams } from "../../assembly/format";
import {
  e5m2_exponent, e5m2_error_encode, e5m2_error_decode, e5m2_error_accumulate, e5m2_error_mask_apply, e5m2_error_scale,
  e5m2_codes, e4m3_save_s8,
} from "../../assembly/train/fp8_error";
import { conv2d_backward_input, conv2d_backward_input_f32, conv2d_weight_grad } from "../../assembly/train/conv2d_backward";
import {
  depthwise_conv2d_backward_input, depthwise_conv2d_backward_input_f32, depthwise_conv2d_weight_grad,
} from "../../assembly/train/depthwise_conv2d_backward";
import {
  fully_connected_backward_input, fully_connected_backward_input_f32, fully_connected_weight_grad,
} from "../../assembly/train/fully_connected_backward";
import { fp8_table, FP8_E4M3, FP8_E5M2 } from "../../assembly/fp8";
import { seedRandom, xorshift32, randInt, staticParams, setConvGeometry } from "./support";

// ---- the OCP values, literally (f64) ----
function pow2(k: i32): f64 { return Math.pow(2, <f64>k); }
/** Value of a finite code (E4M3: bias 7, 3 mantissa bits; E5M2: bias 15, 2). */
function ocpValue(format: u32, code: u32): f64 {
  const m = format == FP8_E4M3 ? 3 : 2, bias = format == FP8_E4M3 ? 7 : 15;
  const e = <i32>((code & 0x7f) >> <u32>m), f = <f64>(code & ((1 << m) - 1));
  const mag = e == 0 ? f * pow2(1 - bias - m) : (1 + f / pow2(m)) * pow2(e - bias);
  return (code & 0x80) != 0 ? -mag : mag;
}
function finite(format: u32, code: u32): bool {
  return format == FP8_E4M3 ? (code & 0x7f) != 0x7f : ((code >> 2) & 0x1f) != 0x1f;
}
/** Distance from x to the nearest finite value of the format. */
function nearestDistance(format: u32, x: f64): f64 {
  let best = Infinity;
  for (let c: u32 = 0; c < 256; c++) if (finite(format, c)) best = Math.min(best, Math.abs(ocpValue(format, c) - x));
  return best;
}

const N = 400;
const SRC = memory.data(N * 4, 16);
const SRC2 = memory.data(N * 4, 16);
const ERR = memory.data(4 + N, 16);
const ERR2 = memory.data(4 + N, 16);
const DEC = memory.data(N * 4, 16);
const MASK = memory.data(N / 8 + 1, 16);
const TARGET = memory.data(N * 8, 16); // f64 reference values

function randF(lo: f64, hi: f64): f64 { return lo + (hi - lo) * (<f64>xorshift32() / 4294967296.0); }
function f32At(b: usize, i: i32): f64 { return <f64>load<f32>(b + (<usize>i << 2)); }
function codeAt(err: usize, i: i32): u32 { return <u32>load<u8>(e5m2_codes(err) + <usize>i); }
function exponentOf(err: usize): i32 { return load<i32>(err); }
/** Real value of element i of an E5M2 error buffer, by the OCP formula. */
function errValue(err: usize, i: i32): f64 { return ocpValue(FP8_E5M2, codeAt(err, i)) * pow2(-exponentOf(err)); }

/** n f32 values spread over ~40 binades, both signs, some zeros. */
function fillWide(dst: usize, n: i32, topExp: i32): void {
  for (let i = 0; i < n; i++) {
    const v = randInt(0, 9) == 0 ? 0 : randF(1, 2) * pow2(randInt(topExp - 40, topExp)) * (randInt(0, 1) ? -1 : 1);
    store<f32>(dst + (<usize>i << 2), <f32>v);
  }
}

/** The exponent the reference expects: the largest magnitude lands in [2^14, 2^15). */
function refExponent(maxAbs: f64): i32 { return maxAbs == 0 ? 0 : 14 - <i32>Math.floor(Math.log2(maxAbs)); }

/** Every element of err is the nearest E5M2 value of ref[i] * 2^k (k its exponent; ref: f64[n]). */
function expectNearest(err: usize, ref: usize, n: i32): void {
  const k = exponentOf(err);
  for (let i = 0; i < n; i++) {
    const target = load<f64>(ref + (<usize>i << 3)) * pow2(k);
    const got = ocpValue(FP8_E5M2, codeAt(err, i));
    expect(finite(FP8_E5M2, codeAt(err, i))).toBe(true);
    expect(Math.abs(got - target)).toBe(nearestDistance(FP8_E5M2, target), "element " + i.toString());
  }
}

describe("E5M2 error buffers", () => {
  it("encode: the shared exponent puts the largest magnitude in [2^14, 2^15) and every code is the nearest value", () => {
    seedRandom(7);
    for (let trial = 0; trial < 6; trial++) {
      const top = randInt(-30, 20);
      fillWide(SRC, N, top);
      e5m2_error_encode(SRC, N, ERR);
      let m: f64 = 0;
      for (let i = 0; i < N; i++) m = Math.max(m, Math.abs(f32At(SRC, i)));
      expect(exponentOf(ERR)).toBe(refExponent(m));
      const scaled = m * pow2(exponentOf(ERR));
      expect(scaled >= 16384 && scaled < 32768).toBe(true);
      for (let i = 0; i < N; i++) store<f64>(TARGET + (<usize>i << 3), f32At(SRC, i));
      expectNearest(ERR, TARGET, N);
    }
  });

  it("encode: all zeros keep exponent 0 and code 0", () => {
    memory.fill(SRC, 0, N * 4);
    store<i32>(ERR, 99);
    e5m2_error_encode(SRC, N, ERR);
    expect(exponentOf(ERR)).toBe(0);
    for (let i = 0; i < N; i++) expect(codeAt(ERR, i)).toBe(0);
  });

  it("e5m2_exponent clamps to [-126, 126] (f32 subnormal or huge maxima stay representable)", () => {
    expect(e5m2_exponent(<f32>1.0)).toBe(14);
    expect(e5m2_exponent(<f32>16384.0)).toBe(0);
    expect(e5m2_exponent(<f32>1e-44)).toBe(126);
    expect(e5m2_exponent(<f32>3e38)).toBe(-113);
    expect(e5m2_exponent(<f32>0)).toBe(0);
  });

  it("decode is exact: decode(encode(x)) gives the OCP values times 2^-k", () => {
    seedRandom(8);
    fillWide(SRC, N, 3);
    e5m2_error_encode(SRC, N, ERR);
    e5m2_error_decode(ERR, N, DEC);
    for (let i = 0; i < N; i++) expect(f32At(DEC, i)).toBe(errValue(ERR, i));
    expect(<f64>e5m2_error_scale(ERR)).toBe(pow2(-exponentOf(ERR)));
  });

  it("accumulate: dst + src rounded to the nearest E5M2 value under the sum's new exponent", () => {
    seedRandom(9);
    for (let trial = 0; trial < 4; trial++) {
      fillWide(SRC, N, randInt(-10, 5));
      fillWide(SRC2, N, randInt(-10, 5));
      e5m2_error_encode(SRC, N, ERR);
      e5m2_error_encode(SRC2, N, ERR2);
      // the exact sums, kept in f64 before dst changes
      let m: f64 = 0;
      for (let i = 0; i < N; i++) {
        const sum = errValue(ERR, i) + errValue(ERR2, i);
        store<f64>(TARGET + (<usize>i << 3), sum);
        m = Math.max(m, Math.abs(sum));
      }
      e5m2_error_accumulate(ERR, ERR2, N);
      expect(exponentOf(ERR)).toBe(refExponent(m));
      expectNearest(ERR, TARGET, N);
    }
  });

  it("mask apply zeroes exactly the masked elements", () => {
    seedRandom(10);
    fillWide(SRC, N, 0);
    e5m2_error_encode(SRC, N, ERR);
    e5m2_error_encode(SRC, N, ERR2);
    for (let i = 0; i < N / 8 + 1; i++) store<u8>(MASK + <usize>i, <u8>xorshift32());
    e5m2_error_mask_apply(ERR, MASK, N);
    for (let i = 0; i < N; i++) {
      const pass = ((<u32>load<u8>(MASK + <usize>(i >> 3)) >> <u32>(i & 7)) & 1) != 0;
      expect(codeAt(ERR, i)).toBe(pass ? codeAt(ERR2, i) : 0);
    }
    expect(exponentOf(ERR)).toBe(exponentOf(ERR2));
  });
});

const XQ = memory.data(256, 16);
const XE = memory.data(256, 16);

describe("E4M3 saved activations", () => {
  it("every int8 value minus the zero point becomes its nearest E4M3 value", () => {
    for (let zp = -128; zp <= 127; zp += 51) {
      for (let i = 0; i < 256; i++) store<i8>(XQ + <usize>i, <i8>(i - 128));
      e4m3_save_s8(XQ, 256, zp, XE);
      for (let i = 0; i < 256; i++) {
        const v = <f64>(i - 128 - zp);
        const c = <u32>load<u8>(XE + <usize>i);
        expect(finite(FP8_E4M3, c)).toBe(true);
        expect(Math.abs(ocpValue(FP8_E4M3, c) - v)).toBe(nearestDistance(FP8_E4M3, v));
        if (Math.abs(v) <= 16) expect(ocpValue(FP8_E4M3, c)).toBe(v); // small integers are exact
      }
    }
  });

  it("ties go to the even mantissa", () => {
    const cases: i32[] = [17, 16, 19, 20, 255, 256, -33, -32, 34, 32, 38, 40];
    for (let k = 0; k < cases.length; k += 2) {
      store<i8>(XQ, <i8>(cases[k] >= 0 ? cases[k] - 128 : cases[k]));
      e4m3_save_s8(XQ, 1, cases[k] >= 0 ? -128 : 0, XE);
      expect(ocpValue(FP8_E4M3, <u32>load<u8>(XE))).toBe(<f64>cases[k + 1]);
    }
  });
});

// ---- the backward kernels on fp8 operands ----
const P = staticParams<ConvParams>();
const F = staticParams<FullyConnectedParams>();
const TILE = memory.data(64 * 12 + 4096, 16);
const SW = memory.data(64 * 4, 16);
const GIN = memory.data(1024 * 4, 16);
const GIN2 = memory.data(1024 * 4, 16);
const WG = memory.data(1024 * 4, 16);
const GERR = memory.data(4 + 2048, 16);
const GF32 = memory.data(2048 * 4, 16);
const XCODES = memory.data(1024, 16);

/** A random error (some zeros) encoded as E5M2, and its exact f32 decoding; random weights and scales. */
function fillKernelData(nOut: i32, outC: i32, perCh: i32, nIn: i32): void {
  for (let i = 0; i < nOut; i++) store<f32>(SRC + (<usize>i << 2), randInt(0, 4) == 0 ? <f32>0 : <f32>randF(-1, 1) * <f32>pow2(randInt(-12, 0)));
  e5m2_error_encode(SRC, nOut, GERR);
  e5m2_error_decode(GERR, nOut, GF32);
  for (let j = 0; j < outC * 3; j++) store<u32>(TILE + (<usize>j << 2), xorshift32());
  for (let k = 0; k < outC * perCh; k++) store<i8>(TILE + <usize>(outC * 12 + k), <i8>randInt(-127, 127));
  for (let oc = 0; oc < outC; oc++) store<f32>(SW + (<usize>oc << 2), <f32>randF(0.002, 0.02));
  for (let i = 0; i < nIn; i++) store<i8>(SRC2 + <usize>i, <i8>randInt(-128, 127));
  e4m3_save_s8(SRC2, nIn, -3, XCODES);
}

/** Same bits in two f32 buffers of n elements. */
function expectSameF32(a: usize, b: usize, n: i32): void {
  for (let i = 0; i < n; i++) expect(load<u32>(a + (<usize>i << 2))).toBe(load<u32>(b + (<usize>i << 2)), "element " + i.toString());
}

/** g (decoded) times E4M3 input (decoded by the OCP formula), summed in f64 over the conv's taps: channel oc's weight gradient. */
function refConvWeightGrad(dw: bool, oc: i32, out: usize): f64 {
  const perCh = dw ? P.kH * P.kW : P.kH * P.kW * P.inC;
  let bias: f64 = 0;
  memory.fill(out, 0, <usize>perCh << 3);
  for (let oy = 0; oy < P.outH; oy++) for (let ox = 0; ox < P.outW; ox++) {
    const g = errValue(GERR, (oy * P.outW + ox) * P.outC + oc);
    bias += g;
    for (let ky = 0; ky < P.kH; ky++) for (let kx = 0; kx < P.kW; kx++) {
      const iy = oy * P.strideH - P.padH + ky * P.dilH, ix = ox * P.strideW - P.padW + kx * P.dilW;
      if (iy < 0 || iy >= P.inH || ix < 0 || ix >= P.inW) continue;
      if (dw) {
        addF64(out, ky * P.kW + kx, g * ocpValue(FP8_E4M3, load<u8>(XCODES + <usize>((iy * P.inW + ix) * P.inC + oc / P.depthMultiplier))));
      } else {
        for (let ic = 0; ic < P.inC; ic++) addF64(out, (ky * P.kW + kx) * P.inC + ic, g * ocpValue(FP8_E4M3, load<u8>(XCODES + <usize>((iy * P.inW + ix) * P.inC + ic))));
      }
    }
  }
  return bias;
}

const REF = memory.data(1024 * 8, 16);
function addF64(b: usize, i: i32, v: f64): void { store<f64>(b + (<usize>i << 3), load<f64>(b + (<usize>i << 3)) + v); }

function expectClose(got: f64, want: f64, scale: f64): void {
  expect(Math.abs(got - want) <= 1e-5 * (Math.abs(want) + scale)).toBe(true, got.toString() + " vs " + want.toString());
}

describe("backward kernels on E5M2 errors and E4M3 inputs", () => {
  it("CONV_2D and DEPTHWISE_CONV_2D: the input error equals the f32 kernel's on the decoded error, bit for bit", () => {
    seedRandom(11);
    for (let dw = 0; dw < 2; dw++) {
      setConvGeometry(P, 6, 5, dw ? 4 : 3, dw ? 8 : 5, dw ? 2 : 1, 3, 3, 2, 1, true);
      const nOut = P.outH * P.outW * P.outC, nIn = P.inH * P.inW * P.inC;
      fillKernelData(nOut, P.outC, dw ? 9 : 9 * P.inC, nIn);
      memory.fill(GIN, 0, nIn * 4);
      memory.fill(GIN2, 0, nIn * 4);
      const table = fp8_table(FP8_E5M2), s = e5m2_error_scale(GERR);
      if (dw) {
        depthwise_conv2d_backward_input<u8>(P, e5m2_codes(GERR), GIN, TILE, 0, P.outC, SW, table, s);
        depthwise_conv2d_backward_input_f32(P, GF32, GIN2, TILE, 0, P.outC, SW);
      } else {
        conv2d_backward_input<u8>(P, e5m2_codes(GERR), GIN, TILE, 0, P.outC, SW, table, s);
        conv2d_backward_input_f32(P, GF32, GIN2, TILE, 0, P.outC, SW);
      }
      expectSameF32(GIN, GIN2, nIn);
      let nonzero = 0;
      for (let i = 0; i < nIn; i++) if (load<f32>(GIN + (<usize>i << 2)) != 0) nonzero++;
      expect(nonzero > nIn / 2).toBe(true);
    }
  });

  it("CONV_2D and DEPTHWISE_CONV_2D: weight and bias gradients from E4M3 inputs match the f64 reference", () => {
    seedRandom(12);
    for (let dw = 0; dw < 2; dw++) {
      setConvGeometry(P, 6, 5, dw ? 4 : 3, dw ? 8 : 5, dw ? 2 : 1, 3, 3, 2, 1, true);
      const nOut = P.outH * P.outW * P.outC, nIn = P.inH * P.inW * P.inC;
      const perCh = dw ? 9 : 9 * P.inC;
      fillKernelData(nOut, P.outC, perCh, nIn);
      for (let oc = 0; oc < P.outC; oc++) {
        const table = fp8_table(FP8_E5M2), s = e5m2_error_scale(GERR), xt = fp8_table(FP8_E4M3);
        const bias = dw
          ? depthwise_conv2d_weight_grad<u8, u8>(P, e5m2_codes(GERR), XCODES, 12345, oc, WG, table, s, xt)
          : conv2d_weight_grad<u8, u8>(P, e5m2_codes(GERR), XCODES, 12345, oc, WG, table, s, xt); // zero point unused
        const refBias = refConvWeightGrad(dw != 0, oc, REF);
        expectClose(<f64>bias, refBias, 1e-3);
        for (let k = 0; k < perCh; k++) expectClose(f32At(WG, k), load<f64>(REF + (<usize>k << 3)), 1e-2);
      }
    }
  });

  it("FULLY_CONNECTED: input error bit for bit with the f32 kernel; weight gradient against f64", () => {
    seedRandom(13);
    F.batches = 3; F.inC = 40; F.outC = 7; F.filterOffset = 0;
    const nOut = F.batches * F.outC, nIn = F.batches * F.inC;
    fillKernelData(nOut, F.outC, F.inC, nIn);
    memory.fill(GIN, 0, nIn * 4);
    memory.fill(GIN2, 0, nIn * 4);
    const table = fp8_table(FP8_E5M2), s = e5m2_error_scale(GERR), xt = fp8_table(FP8_E4M3);
    fully_connected_backward_input<u8>(F, e5m2_codes(GERR), GIN, TILE, 0, F.outC, SW, table, s);
    fully_connected_backward_input_f32(F, GF32, GIN2, TILE, 0, F.outC, SW);
    expectSameF32(GIN, GIN2, nIn);
    for (let oc = 0; oc < F.outC; oc++) {
      const bias = fully_connected_weight_grad<u8, u8>(F, e5m2_codes(GERR), XCODES, 0, oc, WG, table, s, xt);
      let refBias: f64 = 0;
      for (let b = 0; b < F.batches; b++) refBias += errValue(GERR, b * F.outC + oc);
      expectClose(<f64>bias, refBias, 1e-3);
      for (let i = 0; i < F.inC; i++) {
        let want: f64 = 0;
        for (let b = 0; b < F.batches; b++) want += errValue(GERR, b * F.outC + oc) * ocpValue(FP8_E4M3, load<u8>(XCODES + <usize>(b * F.inC + i)));
        expectClose(f32At(WG, i), want, 1e-2);
      }
    }
  });
});
