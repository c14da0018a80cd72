// Backward of AVERAGE_POOL_2D, MAX_POOL_2D and MEAN (assembly/train/pool_backward.ts,
// mean_backward.ts) against central finite differences of L(x) = sum G * op(x), computed in f64
// on the real input x = s * (x_q - z). Max pool inputs are distinct within the tensor so the
// maximum is differentiable; ties are checked exactly on their own.
import { PoolParams, MeanParams } from "../../assembly/format";
import { average_pool_backward_f32, max_pool_backward_f32 } from "../../assembly/train/pool_backward";
import { mean_backward_f32 } from "../../assembly/train/mean_backward";
import { seedRandom, xorshift32, randInt, staticParams, f64At, setF64, centralDifference } from "./support";

const TOL: f64 = 1e-3;
const H: f64 = 1e-4; // below the gap between distinct real inputs (s >= 0.01)

const XQ = memory.data(2048, 16);
const XR = memory.data(2048 * 8, 16);
const G = memory.data(2048 * 4, 16);
const GIN = memory.data(2048 * 4, 16);
const PRE = memory.data(2048 * 4, 16);
const FD = memory.data(2048 * 8, 16);
const P = staticParams<PoolParams>();
const M = staticParams<MeanParams>();

function randF(lo: f64, hi: f64): f64 { return lo + (hi - lo) * (<f64>xorshift32() / 4294967296.0); }
function f32At(b: usize, i: i32): f64 { return <f64>load<f32>(b + (<usize>i << 2)); }

let scale: f64 = 0.05;
let zp: i32 = 0;

/**
 * n int8 inputs; distinct values when `distinct` (a random affine walk over the residues mod 251,
 * so at most 251 elements), real values, and G for nOut outputs with ~20% zeros.
 */
function fillData(n: i32, nOut: i32, distinct: bool): void {
  scale = randF(0.01, 0.1);
  zp = randInt(-10, 10);
  const a = randInt(1, 250), c = randInt(0, 250);
  for (let i = 0; i < n; i++) {
    const q = distinct ? (a * i + c) % 251 - 125 : randInt(-128, 127);
    store<i8>(XQ + <usize>i, <i8>q);
    setF64(XR, i, scale * <f64>(q - zp));
  }
  // ~20% zeros (the kernels skip them), none when there are few outputs
  for (let i = 0; i < nOut; i++) {
    store<f32>(G + (<usize>i << 2), nOut > 4 && randInt(0, 4) == 0 ? <f32>0 : <f32>randF(-1, 1));
  }
}

// ---- reference forwards (f64) ----

const AVG = 0, MAX = 1, MEAN = 2;
let kind = AVG;

function lossPool(isMax: bool): f64 {
  let L: f64 = 0;
  for (let oy = 0; oy < P.outH; oy++) {
    for (let ox = 0; ox < P.outW; ox++) {
      for (let c = 0; c < P.channels; c++) {
        let sum: f64 = 0, best: f64 = -Infinity, count = 0;
        for (let ky = 0; ky < P.kH; ky++) {
          for (let kx = 0; kx < P.kW; kx++) {
            const y = oy * P.strideH - P.padH + ky, x = ox * P.strideW - P.padW + kx;
            if (y < 0 || y >= P.inH || x < 0 || x >= P.inW) continue;
            const v = f64At(XR, (y * P.inW + x) * P.channels + c);
            sum += v; count++;
            if (v > best) best = v;
          }
        }
        const out = isMax ? best : sum / <f64>count;
        L += f32At(G, (oy * P.outW + ox) * P.channels + c) * out;
      }
    }
  }
  return L;
}

function lossMean(): f64 {
  const d0 = M.d0, d1 = M.d1, d2 = M.d2, d3 = M.d3, m = M.axisMask;
  const o1 = (m & 2) ? 1 : d1, o2 = (m & 4) ? 1 : d2, o3 = (m & 8) ? 1 : d3;
  let n = 1;
  if (m & 1) n *= d0;
  if (m & 2) n *= d1;
  if (m & 4) n *= d2;
  if (m & 8) n *= d3;
  let L: f64 = 0;
  // every input element contributes G[its output] * x / n
  for (let i0 = 0; i0 < d0; i0++) for (let i1 = 0; i1 < d1; i1++) for (let i2 = 0; i2 < d2; i2++) for (let i3 = 0; i3 < d3; i3++) {
    const o = ((((m & 1) ? 0 : i0) * o1 + ((m & 2) ? 0 : i1)) * o2 + ((m & 4) ? 0 : i2)) * o3 + ((m & 8) ? 0 : i3);
    L += f32At(G, o) * f64At(XR, ((i0 * d1 + i1) * d2 + i2) * d3 + i3) / <f64>n;
  }
  return L;
}

function loss(): f64 { return kind == MEAN ? lossMean() : lossPool(kind == MAX); }

function fdAt(i: i32): f64 { return centralDifference(XR, i, H, loss); }

/** Runs the kernel onto random GIN contents and counts elements off the finite differences. */
function check(nIn: i32): i32 {
  for (let i = 0; i < nIn; i++) {
    const v = <f32>randF(-0.5, 0.5);
    store<f32>(GIN + (<usize>i << 2), v);
    store<f32>(PRE + (<usize>i << 2), v);
  }
  if (kind == AVG) average_pool_backward_f32(P, G, GIN);
  else if (kind == MAX) max_pool_backward_f32(P, XQ, G, GIN);
  else mean_backward_f32(M, G, GIN);
  let s: f64 = 0;
  for (let i = 0; i < nIn; i++) { const f = fdAt(i); setF64(FD, i, f); s += f * f; }
  const r = Math.sqrt(s / <f64>nIn);
  if (r == 0) return -1; // an all-zero gradient would check nothing
  let bad = 0;
  for (let i = 0; i < nIn; i++) {
    const got = f32At(GIN, i) - f32At(PRE, i);
    const fd = f64At(FD, i);
    if (Math.abs(got - fd) > TOL * (Math.abs(fd) + r)) bad++;
  }
  return bad;
}

function pool(seed: u32, isMax: bool, inH: i32, inW: i32, ch: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, padH: i32, padW: i32): i32 {
  seedRandom(seed);
  kind = isMax ? MAX : AVG;
  P.inH = inH; P.inW = inW; P.channels = ch; P.outH = outH; P.outW = outW;
  P.kH = kH; P.kW = kW; P.strideH = sH; P.strideW = sW; P.padH = padH; P.padW = padW;
  P.actMin = -128; P.actMax = 127;
  fillData(inH * inW * ch, outH * outW * ch, isMax);
  return check(inH * inW * ch);
}

function mean(seed: u32, d0: i32, d1: i32, d2: i32, d3: i32, mask: i32): i32 {
  seedRandom(seed);
  kind = MEAN;
  M.d0 = d0; M.d1 = d1; M.d2 = d2; M.d3 = d3; M.axisMask = mask;
  let nOut = 1;
  if (!(mask & 1)) nOut *= d0;
  if (!(mask & 2)) nOut *= d1;
  if (!(mask & 4)) nOut *= d2;
  if (!(mask & 8)) nOut *= d3;
  fillData(d0 * d1 * d2 * d3, nOut, false);
  return check(d0 * d1 * d2 * d3);
}

describe("average_pool_backward_f32 (finite differences)", () => {
  it("3x3 SAME stride 1: border windows divide by their in-bounds taps", () => {
    expect<i32>(pool(1, false, 5, 6, 3, 5, 6, 3, 3, 1, 1, 1, 1)).toBe(0);
  });
  it("3x3 stride 2 SAME with uneven padding, 2x2 stride 2 VALID, overlapping 3x2 stride 1", () => {
    expect<i32>(pool(2, false, 7, 8, 5, 4, 4, 3, 3, 2, 2, 1, 0)).toBe(0);
    expect<i32>(pool(3, false, 8, 6, 4, 4, 3, 2, 2, 2, 2, 0, 0)).toBe(0);
    expect<i32>(pool(4, false, 6, 7, 3, 4, 6, 3, 2, 1, 1, 0, 0)).toBe(0);
  });
  it("the check fails a wrong divisor (the full window at the border)", () => {
    // SAME 3x3 on 4x4: input (0,0) lies in the windows of outputs (0,0), (0,1), (1,0), (1,1)
    expect<i32>(pool(5, false, 4, 4, 1, 4, 4, 3, 3, 1, 1, 1, 1)).toBe(0);
    const wrong = (f32At(G, 0) + f32At(G, 1) + f32At(G, 4) + f32At(G, 5)) / 9.0;
    expect<bool>(Math.abs(wrong - f64At(FD, 0)) > TOL * Math.abs(f64At(FD, 0))).toBe(true);
  });
});

describe("max_pool_backward_f32", () => {
  it("matches finite differences: 2x2 stride 2, 3x3 SAME stride 1 and stride 2", () => {
    expect<i32>(pool(11, true, 6, 6, 3, 3, 3, 2, 2, 2, 2, 0, 0)).toBe(0);
    expect<i32>(pool(12, true, 5, 6, 4, 5, 6, 3, 3, 1, 1, 1, 1)).toBe(0);
    expect<i32>(pool(13, true, 7, 5, 5, 4, 3, 3, 3, 2, 2, 1, 1)).toBe(0);
  });
  it("routes a tie to the first maximal tap in scan order", () => {
    // one 2x3 window over [[1, 7, 7], [7, 3, -128]]: the first 7 (index 1) takes the error
    P.inH = 2; P.inW = 3; P.channels = 1; P.outH = 1; P.outW = 1;
    P.kH = 2; P.kW = 3; P.strideH = 1; P.strideW = 1; P.padH = 0; P.padW = 0;
    const v: StaticArray<i8> = [1, 7, 7, 7, 3, -128];
    for (let i = 0; i < 6; i++) store<i8>(XQ + <usize>i, v[i]);
    store<f32>(G, 2.5);
    memory.fill(GIN, 0, 24);
    max_pool_backward_f32(P, XQ, G, GIN);
    for (let i = 0; i < 6; i++) expect<f32>(load<f32>(GIN + (<usize>i << 2))).toBe(i == 1 ? 2.5 : 0);
    // all taps -128 (the forward's starting value): the first tap takes it
    // all taps -128 (the forward's starting value): each window's first tap takes it. Two 2x2
    // windows, stride 2, over a 2x4 input: first taps at 0 and 2
    P.inW = 4; P.outW = 2; P.kW = 2; P.strideW = 2;
    for (let i = 0; i < 8; i++) store<i8>(XQ + <usize>i, -128);
    store<f32>(G, 2.5); store<f32>(G, -1.5, 4);
    memory.fill(GIN, 0, 32);
    max_pool_backward_f32(P, XQ, G, GIN);
    for (let i = 0; i < 8; i++) expect<f32>(load<f32>(GIN + (<usize>i << 2))).toBe(i == 0 ? 2.5 : (i == 2 ? -1.5 : 0));
  });
  it("clipped windows pick only in-bounds taps", () => {
    // 3x3 SAME on a 2x2 input of one channel: every window sees all 4 inputs, the max at (1,1)
    P.inH = 2; P.inW = 2; P.channels = 1; P.outH = 2; P.outW = 2;
    P.kH = 3; P.kW = 3; P.strideH = 1; P.strideW = 1; P.padH = 1; P.padW = 1;
    const v: StaticArray<i8> = [-100, -90, -80, -70];
    for (let i = 0; i < 4; i++) store<i8>(XQ + <usize>i, v[i]);
    for (let i = 0; i < 4; i++) store<f32>(G + (<usize>i << 2), <f32>(1 << i));
    memory.fill(GIN, 0, 16);
    max_pool_backward_f32(P, XQ, G, GIN);
    expect<f32>(load<f32>(GIN)).toBe(0);
    expect<f32>(load<f32>(GIN + 12)).toBe(15);
  });
});

describe("mean_backward_f32 (finite differences)", () => {
  it("axes {1, 2} (global average pool) and {3}", () => {
    expect<i32>(mean(21, 1, 5, 6, 7, 6)).toBe(0);
    expect<i32>(mean(22, 1, 4, 3, 9, 8)).toBe(0);
  });
  it("axes {0, 2}, {1}, all four, and none", () => {
    expect<i32>(mean(23, 3, 4, 5, 2, 5)).toBe(0);
    expect<i32>(mean(24, 2, 7, 3, 3, 2)).toBe(0);
    expect<i32>(mean(25, 2, 3, 4, 5, 15)).toBe(0);
    expect<i32>(mean(26, 2, 3, 2, 3, 0)).toBe(0);
  });
  it("divides by the reduced count exactly (powers of two)", () => {
    M.d0 = 1; M.d1 = 2; M.d2 = 2; M.d3 = 2; M.axisMask = 6;
    store<f32>(G, 1); store<f32>(G, -3, 4);
    memory.fill(GIN, 0, 32);
    mean_backward_f32(M, G, GIN);
    for (let i = 0; i < 8; i++) expect<f32>(load<f32>(GIN + (<usize>i << 2))).toBe((i & 1) == 0 ? 0.25 : -0.75);
  });
});
