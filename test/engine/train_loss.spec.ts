// softmax_cross_entropy_f32 and argmax_s8 (assembly/train/softmax_cross_entropy.ts). The gradient
// is checked against central finite differences of the f64 loss log(sum exp z) - z[label] on the
// real logits z = scale * (q - zeroPoint), the loss against its f64 value.
import { softmax_cross_entropy_f32, argmax_s8 } from "../../assembly/train/softmax_cross_entropy";
import { seedRandom, xorshift32, randInt, f64At, setF64 } from "./support";

const TOL: f64 = 1e-3;
const H: f64 = 1e-4;

const Q = memory.data(256, 16); // int8 logits
const Z = memory.data(256 * 8, 16); // f64 real logits
const GR = memory.data(256 * 4 + 16, 16); // f32 gradient from the kernel (+ a guard word)


/** -log softmax(z)[label] in f64, shifted by the maximum. */
function refLoss(n: i32, label: i32): f64 {
  let m: f64 = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, f64At(Z, i));
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += Math.exp(f64At(Z, i) - m);
  return Math.log(s) + m - f64At(Z, label);
}

function setLogits(n: i32, scale: f32, zp: i32, lo: i32, hi: i32): void {
  for (let i = 0; i < n; i++) {
    const q = randInt(lo, hi);
    store<i8>(Q + <usize>i, <i8>q);
    setF64(Z, i, <f64>scale * <f64>(q - zp));
  }
}

/** Count of gradient entries off the finite differences; also checks the returned loss (relative 1e-5, absolute 1e-6). */
function check(n: i32, scale: f32, zp: i32, label: i32): i32 {
  store<u32>(GR + (<usize>n << 2), 0xdeadbeef);
  const L = softmax_cross_entropy_f32(Q, n, scale, zp, label, GR);
  let bad = 0;
  const ref = refLoss(n, label);
  if (Math.abs(<f64>L - ref) > 1e-5 * Math.abs(ref) + 1e-6) bad += 1000; // f32 resolves log(sum) near 0 to ~1e-7
  if (load<u32>(GR + (<usize>n << 2)) != 0xdeadbeef) bad += 10000;
  for (let i = 0; i < n; i++) {
    const v = f64At(Z, i);
    setF64(Z, i, v + H);
    const lp = refLoss(n, label);
    setF64(Z, i, v - H);
    const lm = refLoss(n, label);
    setF64(Z, i, v);
    const fd = (lp - lm) / (2 * H);
    // gradient entries are probabilities in [-1, 1]: an absolute floor of 1e-6
    if (Math.abs(<f64>load<f32>(GR + (<usize>i << 2)) - fd) > TOL * Math.abs(fd) + 1e-6) bad++;
  }
  return bad;
}

describe("softmax_cross_entropy_f32", () => {
  it("matches finite differences of the real loss (10 classes, moderate logits)", () => {
    seedRandom(1);
    for (let t = 0; t < 10; t++) {
      const zp = randInt(-20, 20);
      setLogits(10, 0.05, zp, -128, 127);
      expect<i32>(check(10, 0.05, zp, t)).toBe(0);
    }
  });
  it("two classes, and many classes with small scale", () => {
    seedRandom(2);
    setLogits(2, 0.1, 3, -60, 60);
    expect<i32>(check(2, 0.1, 3, 1)).toBe(0);
    setLogits(100, 0.01, -7, -128, 127);
    expect<i32>(check(100, 0.01, -7, 42)).toBe(0);
  });
  it("stays finite with huge logits (scale 1: a spread of 255)", () => {
    seedRandom(3);
    setLogits(7, 1.0, 0, -128, 127);
    store<i8>(Q, 127); setF64(Z, 0, 127);
    store<i8>(Q + 1, -128); setF64(Z, 1, -128);
    const L1 = softmax_cross_entropy_f32(Q, 7, 1.0, 0, 1, GR);
    expect<bool>(isFinite(L1)).toBe(true);
    expect<bool>(Math.abs(<f64>L1 - refLoss(7, 1)) < 1e-5 * refLoss(7, 1)).toBe(true);
    expect<i32>(check(7, 1.0, 0, 0)).toBe(0);
    expect<i32>(check(7, 1.0, 0, 1)).toBe(0);
  });
  it("a single class: loss 0, gradient 0", () => {
    store<i8>(Q, -5);
    expect<f32>(softmax_cross_entropy_f32(Q, 1, 0.3, 2, 0, GR)).toBe(0);
    expect<f32>(load<f32>(GR)).toBe(0);
  });
  it("equal logits: loss log n, gradient 1/n - onehot, summing to 0", () => {
    for (let i = 0; i < 4; i++) store<i8>(Q + <usize>i, 9);
    const L = softmax_cross_entropy_f32(Q, 4, 0.2, 0, 2, GR);
    expect<f32>(L).toBe(Mathf.log(4));
    for (let i = 0; i < 4; i++) expect<f32>(load<f32>(GR + (<usize>i << 2))).toBe(i == 2 ? -0.75 : 0.25);
  });
  it("an out-of-range label returns NaN and writes the softmax", () => {
    for (let i = 0; i < 4; i++) store<i8>(Q + <usize>i, 9);
    expect<bool>(isNaN(softmax_cross_entropy_f32(Q, 4, 0.2, 0, 4, GR))).toBe(true);
    expect<bool>(isNaN(softmax_cross_entropy_f32(Q, 4, 0.2, 0, -1, GR))).toBe(true);
    for (let i = 0; i < 4; i++) expect<f32>(load<f32>(GR + (<usize>i << 2))).toBe(0.25);
  });
  it("the check fails a gradient with the wrong sign", () => {
    seedRandom(4);
    setLogits(10, 0.05, 0, -128, 127);
    expect<i32>(check(10, 0.05, 0, 3)).toBe(0);
    // onehot - softmax instead of softmax - onehot
    let bad = 0;
    for (let i = 0; i < 10; i++) {
      const g = -<f64>load<f32>(GR + (<usize>i << 2));
      const v = f64At(Z, i);
      setF64(Z, i, v + H); const lp = refLoss(10, 3);
      setF64(Z, i, v - H); const lm = refLoss(10, 3);
      setF64(Z, i, v);
      if (Math.abs(g - (lp - lm) / (2 * H)) > TOL * Math.abs((lp - lm) / (2 * H)) + 1e-6) bad++;
    }
    expect<i32>(bad).toBe(10);
  });
});

describe("argmax_s8", () => {
  it("returns the first largest value's index", () => {
    const v: StaticArray<i8> = [-3, 7, 2, 7, -128, 7];
    for (let i = 0; i < 6; i++) store<i8>(Q + <usize>i, v[i]);
    expect<i32>(argmax_s8(Q, 6)).toBe(1);
    expect<i32>(argmax_s8(Q, 1)).toBe(0);
    store<i8>(Q + 5, 127);
    expect<i32>(argmax_s8(Q, 6)).toBe(5);
    for (let i = 0; i < 6; i++) store<i8>(Q + <usize>i, -128);
    expect<i32>(argmax_s8(Q, 6)).toBe(0);
    expect<i32>(argmax_s8(Q, 0)).toBe(0);
  });
});
