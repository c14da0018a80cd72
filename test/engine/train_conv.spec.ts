// Backward kernels of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (assembly/train/*_backward.ts)
// against central finite differences of a real-valued (f64) loss computed here:
//   L(x, w, b) = sum over outputs of G * (op(x, w) + b)
// with x = s_x * (x_q - z_x), w = s_w[oc] * w_q, fixed random G (some entries 0). Every input
// element, weight and bias is perturbed in turn; the kernels' gradients must match within
// TOL * (|fd| + rms(fd)). The forward here is a plain loop written from TFLite's reference ops,
// not the engine's code.
import { ConvParams, FullyConnectedParams } from "../../assembly/format";
import { conv2d_backward_input_f32, conv2d_weight_grad_f32 } from "../../assembly/train/conv2d_backward";
import {
  depthwise_conv2d_backward_input_f32, depthwise_conv2d_weight_grad_f32,
} from "../../assembly/train/depthwise_conv2d_backward";
import {
  fully_connected_backward_input_f32, fully_connected_weight_grad_f32,
} from "../../assembly/train/fully_connected_backward";
import { seedRandom, xorshift32, randInt, staticParams, setConvGeometry, f64At, setF64, centralDifference } from "./support";

const TOL: f64 = 1e-3;
const H: f64 = 1e-3; // perturbation of one real value (L is linear in each, so any small h works)

// ---- buffers (static; no allocation) ----
const XQ = memory.data(1024, 16); // int8 input
const XR = memory.data(1024 * 8, 16); // f64 real input
const WQ = memory.data(4096, 16); // int8 weights, [oc][perChannel] (the tile layout)
const WR = memory.data(4096 * 8, 16); // f64 real weights
const SW = memory.data(64 * 4, 16); // f32 per-channel weight scales
const BR = memory.data(64 * 8, 16); // f64 real biases
const G = memory.data(2048 * 4, 16); // f32 error of the output (the loss's weights)
const TILE = memory.data(64 * 12 + 4096, 16);
const GIN = memory.data(1024 * 4, 16); // f32 error of the input, from the kernel
const GIN2 = memory.data(1024 * 4, 16);
const PRE = memory.data(1024 * 4, 16); // what GIN held before the kernel (it accumulates)
const WG = memory.data(4096 * 4, 16); // f32 weight gradient of one channel, from the kernel
const FD = memory.data(4096 * 8, 16); // f64 finite differences
const P = staticParams<ConvParams>();
const F = staticParams<FullyConnectedParams>();

let sX: f64 = 0.05; // input scale
let zX: i32 = 0; // input zero point

function randF(lo: f64, hi: f64): f64 { return lo + (hi - lo) * (<f64>xorshift32() / 4294967296.0); }
function f32At(b: usize, i: i32): f64 { return <f64>load<f32>(b + (<usize>i << 2)); }

/** Random int8 input around zX (with its real values), weights, scales, biases and G (~20% zeros). */
function fillData(nIn: i32, outC: i32, perCh: i32, nOut: i32): void {
  for (let i = 0; i < nIn; i++) {
    const q = randInt(max(-128, zX - 100), min(127, zX + 100));
    store<i8>(XQ + <usize>i, <i8>q);
    setF64(XR, i, sX * <f64>(q - zX));
  }
  for (let oc = 0; oc < outC; oc++) {
    const s = <f32>randF(0.002, 0.02);
    store<f32>(SW + (<usize>oc << 2), s);
    setF64(BR, oc, randF(-1, 1));
    for (let k = 0; k < perCh; k++) {
      const w = randInt(-127, 127);
      store<i8>(WQ + <usize>(oc * perCh + k), <i8>w);
      setF64(WR, oc * perCh + k, <f64>s * <f64>w);
    }
  }
  for (let i = 0; i < nOut; i++) {
    store<f32>(G + (<usize>i << 2), randInt(0, 4) == 0 ? <f32>0 : <f32>randF(-1, 1));
  }
}

/** Tile of channels [oc0, oc1): junk channel records (the backward ignores them), then the weight rows. */
function buildTile(oc0: i32, oc1: i32, perCh: i32): void {
  const n = oc1 - oc0;
  for (let j = 0; j < n * 3; j++) store<u32>(TILE + (<usize>j << 2), xorshift32());
  memory.copy(TILE + <usize>(n * 12), WQ + <usize>(oc0 * perCh), <usize>(n * perCh));
}

// ---- reference forward (f64) and loss ----

/** sum over outputs of G * (conv(x, w) + b); depthwise when dw (TFLite reference loop order). */
function lossConv(dw: bool): f64 {
  let L: f64 = 0;
  const perCh = dw ? P.kH * P.kW : P.kH * P.kW * P.inC;
  for (let oy = 0; oy < P.outH; oy++) {
    for (let ox = 0; ox < P.outW; ox++) {
      for (let oc = 0; oc < P.outC; oc++) {
        let acc: f64 = f64At(BR, oc);
        for (let ky = 0; ky < P.kH; ky++) {
          for (let kx = 0; kx < P.kW; kx++) {
            const iy = oy * P.strideH - P.padH + ky * P.dilH;
            const ix = ox * P.strideW - P.padW + kx * P.dilW;
            if (iy < 0 || iy >= P.inH || ix < 0 || ix >= P.inW) continue;
            if (dw) {
              const ic = oc / P.depthMultiplier;
              acc += f64At(XR, (iy * P.inW + ix) * P.inC + ic) * f64At(WR, oc * perCh + ky * P.kW + kx);
            } else {
              for (let ic = 0; ic < P.inC; ic++) {
                acc += f64At(XR, (iy * P.inW + ix) * P.inC + ic) * f64At(WR, oc * perCh + (ky * P.kW + kx) * P.inC + ic);
              }
            }
          }
        }
        L += f32At(G, (oy * P.outW + ox) * P.outC + oc) * acc;
      }
    }
  }
  return L;
}

function lossFc(): f64 {
  let L: f64 = 0;
  for (let b = 0; b < F.batches; b++) {
    for (let oc = 0; oc < F.outC; oc++) {
      let acc: f64 = f64At(BR, oc);
      for (let i = 0; i < F.inC; i++) acc += f64At(XR, b * F.inC + i) * f64At(WR, oc * F.inC + i);
      L += f32At(G, b * F.outC + oc) * acc;
    }
  }
  return L;
}

const KIND_CONV = 0, KIND_DW = 1, KIND_FC = 2;
let kind = KIND_CONV;

function loss(): f64 {
  return kind == KIND_FC ? lossFc() : lossConv(kind == KIND_DW);
}

/** Central difference of the loss in the f64 value at buf[i]. */
function fdAt(buf: usize, i: i32): f64 { return centralDifference(buf, i, H, loss); }

function rms(buf: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += f64At(buf, i) * f64At(buf, i);
  return Math.sqrt(s / <f64>max(n, 1));
}

/** How many of n values got[i] (f64, from the kernel) miss FD[i] by more than TOL * (|fd| + rms). */
function countFar(got: usize, n: i32): i32 {
  const r = rms(FD, n);
  let bad = 0;
  if (r == 0) { // all differences 0 (e.g. a channel whose errors are all 0): the kernel must give exact zeros
    for (let i = 0; i < n; i++) if (f64At(got, i) != 0) bad++;
    return bad;
  }
  for (let i = 0; i < n; i++) {
    const fd = f64At(FD, i);
    if (Math.abs(f64At(got, i) - fd) > TOL * (Math.abs(fd) + r)) bad++;
  }
  return bad;
}

const GOT = memory.data(4096 * 8, 16); // kernel gradients as f64 (real units)

// ---- the checks ----

function inCount(): i32 { return kind == KIND_FC ? F.batches * F.inC : P.inH * P.inW * P.inC; }
function outC(): i32 { return kind == KIND_FC ? F.outC : P.outC; }
function perChannel(): i32 {
  return kind == KIND_FC ? F.inC : (kind == KIND_DW ? P.kH * P.kW : P.kH * P.kW * P.inC);
}

/** Runs the input backward over tiles of tileCh channels into `dst` (which keeps its contents). */
function backwardInput(dst: usize, tileCh: i32): void {
  const C = outC(), perCh = perChannel();
  for (let oc0 = 0; oc0 < C; oc0 += tileCh) {
    const oc1 = min(C, oc0 + tileCh);
    buildTile(oc0, oc1, perCh);
    if (kind == KIND_CONV) conv2d_backward_input_f32(P, G, dst, TILE, oc0, oc1, SW);
    else if (kind == KIND_DW) depthwise_conv2d_backward_input_f32(P, G, dst, TILE, oc0, oc1, SW);
    else fully_connected_backward_input_f32(F, G, dst, TILE, oc0, oc1, SW);
  }
}

/** Input gradient against finite differences; GIN starts from random values (the kernel adds to them). */
function checkInput(tileCh: i32): i32 {
  const n = inCount();
  for (let i = 0; i < n; i++) {
    const v = <f32>randF(-0.5, 0.5);
    store<f32>(GIN + (<usize>i << 2), v);
    store<f32>(PRE + (<usize>i << 2), v);
  }
  backwardInput(GIN, tileCh);
  for (let i = 0; i < n; i++) {
    setF64(FD, i, fdAt(XR, i));
    setF64(GOT, i, f32At(GIN, i) - f32At(PRE, i));
  }
  return countFar(GOT, n);
}

/** Weight and bias gradients of every channel against finite differences; returns the misses. */
function checkWeights(): i32 {
  const C = outC(), perCh = perChannel();
  let bad = 0;
  for (let oc = 0; oc < C; oc++) {
    // junk in the output buffer: the kernel must overwrite, not add
    for (let k = 0; k < perCh; k++) store<f32>(WG + (<usize>k << 2), 1234.5);
    let bg: f32;
    if (kind == KIND_CONV) bg = conv2d_weight_grad_f32(P, G, XQ, zX, oc, WG);
    else if (kind == KIND_DW) bg = depthwise_conv2d_weight_grad_f32(P, G, XQ, zX, oc, WG);
    else bg = fully_connected_weight_grad_f32(F, G, XQ, zX, oc, WG);
    for (let k = 0; k < perCh; k++) {
      setF64(FD, k, fdAt(WR, oc * perCh + k));
      setF64(GOT, k, sX * f32At(WG, k)); // the kernel works in input integer units
    }
    bad += countFar(GOT, perCh);
    const fdb = fdAt(BR, oc);
    if (Math.abs(<f64>bg - fdb) > TOL * (Math.abs(fdb) + 1e-3)) bad++;
  }
  return bad;
}

/** Tile-by-tile calls give exactly the bits of one call over all channels. Returns the differing count. */
function checkTiling(tileCh: i32): i32 {
  const n = inCount();
  for (let i = 0; i < n; i++) {
    const v = <f32>randF(-0.5, 0.5);
    store<f32>(GIN + (<usize>i << 2), v);
    store<f32>(GIN2 + (<usize>i << 2), v);
  }
  backwardInput(GIN, outC());
  backwardInput(GIN2, tileCh);
  let bad = 0;
  for (let i = 0; i < n; i++) if (load<u32>(GIN + (<usize>i << 2)) != load<u32>(GIN2 + (<usize>i << 2))) bad++;
  return bad;
}

function conv(seed: u32, inH: i32, inW: i32, inC: i32, outC: i32, kH: i32, kW: i32, stride: i32, dil: i32, same: bool): void {
  seedRandom(seed);
  kind = KIND_CONV;
  setConvGeometry(P, inH, inW, inC, outC, 1, kH, kW, stride, dil, same);
  zX = randInt(-20, 20); sX = randF(0.01, 0.1);
  fillData(inH * inW * inC, outC, kH * kW * inC, P.outH * P.outW * outC);
}

function depthwise(seed: u32, inH: i32, inW: i32, inC: i32, dm: i32, kH: i32, kW: i32, stride: i32, dil: i32, same: bool): void {
  seedRandom(seed);
  kind = KIND_DW;
  setConvGeometry(P, inH, inW, inC, inC * dm, dm, kH, kW, stride, dil, same);
  zX = randInt(-20, 20); sX = randF(0.01, 0.1);
  fillData(inH * inW * inC, inC * dm, kH * kW, P.outH * P.outW * inC * dm);
}

function fc(seed: u32, batches: i32, inC: i32, outC: i32): void {
  seedRandom(seed);
  kind = KIND_FC;
  F.batches = batches; F.inC = inC; F.outC = outC;
  F.inputOffset = 0; F.filterOffset = 0; F.outputOffset = 0; F.actMin = -128; F.actMax = 127;
  zX = randInt(-20, 20); sX = randF(0.01, 0.1);
  fillData(batches * inC, outC, inC, batches * outC);
}

function allChecks(tileCh: i32): void {
  expect<i32>(checkInput(outC())).toBe(0);
  expect<i32>(checkInput(tileCh)).toBe(0);
  expect<i32>(checkWeights()).toBe(0);
  expect<i32>(checkTiling(tileCh)).toBe(0);
}

describe("conv2d backward (finite differences)", () => {
  it("3x3 SAME stride 1, 5 input / 6 output channels", () => {
    conv(1, 5, 6, 5, 6, 3, 3, 1, 1, true);
    allChecks(4);
  });
  it("3x3 SAME stride 2 on odd sizes (uneven padding)", () => {
    conv(2, 7, 6, 3, 5, 3, 3, 2, 1, true);
    allChecks(2);
  });
  it("3x3 dilation 2 SAME, and 2x3 dilation 2 stride 2 VALID", () => {
    conv(3, 7, 7, 2, 3, 3, 3, 1, 2, true);
    allChecks(2);
    conv(4, 8, 9, 3, 4, 2, 3, 2, 2, false);
    allChecks(3);
  });
  it("1x1 stride 2 and 5x5 SAME covering the whole input", () => {
    conv(5, 6, 5, 7, 9, 1, 1, 2, 1, true);
    allChecks(4);
    conv(6, 3, 4, 3, 3, 5, 5, 1, 1, true);
    allChecks(1);
  });
});

describe("depthwise_conv2d backward (finite differences)", () => {
  it("3x3 SAME stride 1, multiplier 1, 5 channels", () => {
    depthwise(11, 6, 5, 5, 1, 3, 3, 1, 1, true);
    allChecks(3);
  });
  it("depth multiplier 2 and 3, stride 2 SAME", () => {
    depthwise(12, 7, 6, 3, 2, 3, 3, 2, 1, true);
    allChecks(4);
    depthwise(13, 5, 5, 2, 3, 3, 2, 2, 1, true);
    allChecks(5);
  });
  it("dilation 2, VALID and SAME", () => {
    depthwise(14, 8, 7, 3, 2, 3, 3, 1, 2, true);
    allChecks(4);
    depthwise(15, 9, 8, 2, 1, 3, 3, 2, 2, false);
    allChecks(1);
  });
});

describe("fully_connected backward (finite differences)", () => {
  it("one batch row, 13 inputs, 7 outputs", () => {
    fc(21, 1, 13, 7);
    allChecks(3);
  });
  it("three batch rows", () => {
    fc(22, 3, 10, 5);
    allChecks(2);
  });
  it("a real filter offset is part of the real weight", () => {
    fc(23, 2, 6, 4);
    F.filterOffset = 3; // real w = s_w * (w_q + 3)
    for (let oc = 0; oc < 4; oc++) {
      for (let i = 0; i < 6; i++) {
        setF64(WR, oc * 6 + i, f32At(SW, oc) * <f64>(<i32>load<i8>(WQ + <usize>(oc * 6 + i)) + 3));
      }
    }
    expect<i32>(checkInput(4)).toBe(0);
  });
});

describe("finite-difference check", () => {
  it("detects one input gradient off by twice the tolerance, and a dropped tap", () => {
    conv(31, 5, 5, 3, 4, 3, 3, 1, 1, true);
    expect<i32>(checkInput(4)).toBe(0);
    // the same comparison with one kernel value off by twice the tolerance
    const r = rms(FD, inCount());
    setF64(GOT, 7, f64At(GOT, 7) + 2 * TOL * (Math.abs(f64At(FD, 7)) + r));
    expect<i32>(countFar(GOT, inCount())).toBe(1);
    // a kernel that forgot one weight (set to 0 in the tile only) must fail the check
    const n = inCount();
    memory.fill(GIN, 0, <usize>n << 2);
    buildTile(0, 4, 27);
    store<i8>(TILE + <usize>(4 * 12 + 13), 0);
    conv2d_backward_input_f32(P, G, GIN, TILE, 0, 4, SW);
    for (let i = 0; i < n; i++) setF64(GOT, i, f32At(GIN, i));
    expect<i32>(countFar(GOT, n)).toBeGreaterThan(0);
  });
  it("detects a weight gradient in real instead of integer units", () => {
    conv(32, 4, 4, 2, 2, 3, 3, 1, 1, true);
    conv2d_weight_grad_f32(P, G, XQ, zX, 1, WG);
    for (let k = 0; k < 18; k++) {
      setF64(FD, k, fdAt(WR, 18 + k));
      setF64(GOT, k, f32At(WG, k)); // missing the factor s_x
    }
    expect<i32>(countFar(GOT, 18)).toBeGreaterThan(0);
  });
});
