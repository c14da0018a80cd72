// Exact tests of the training helpers: activation masks (assembly/train/activation_mask.ts), SGD
// (sgd.ts), the f32 vector helpers (elementwise.ts) and the rounding back to int8 / int32
// (materialize.ts). Values are chosen so every expected result is exact in f32.
import { activation_mask_pack, activation_mask_apply_f32, activation_mask_bytes } from "../../assembly/train/activation_mask";
import { sgd_update_f32 } from "../../assembly/train/sgd";
import { accumulate_f32, scale_f32, copy_f32, zero_f32 } from "../../assembly/train/elementwise";
import { store_weights_s8, store_bias_s32 } from "../../assembly/train/materialize";

const Y = memory.data(512, 16); // int8 outputs
const MASK = memory.data(64 + 16, 16);
const A = memory.data(1024, 16);
const B = memory.data(1024, 16);
const V = memory.data(1024, 16);

function f32At(b: usize, i: i32): f32 { return load<f32>(b + (<usize>i << 2)); }
function setF32(b: usize, i: i32, v: f32): void { store<f32>(b + (<usize>i << 2), v); }
function bitAt(i: i32): i32 { return (<i32>load<u8>(MASK + <usize>(i >> 3)) >> (i & 7)) & 1; }

/** Packs the mask of all 256 int8 values (-128..127, in order) and counts bits that disagree with actMin < y < actMax. */
function maskMisses(actMin: i32, actMax: i32): i32 {
  for (let i = 0; i < 256; i++) store<i8>(Y + <usize>i, <i8>(i - 128));
  memory.fill(MASK, 0xa5, 48);
  activation_mask_pack(Y, 256, actMin, actMax, MASK);
  let bad = 0;
  for (let i = 0; i < 256; i++) {
    const y = i - 128;
    if (bitAt(i) != (y > actMin && y < actMax ? 1 : 0)) bad++;
  }
  if (load<u8>(MASK + 32) != 0xa5) bad += 1000; // exactly 32 bytes written
  return bad;
}

describe("activation masks", () => {
  it("pack every int8 value for the plain range, ReLU, ReLU6 and a one-value range", () => {
    expect<i32>(maskMisses(-128, 127)).toBe(0); // no activation: only the saturated ends are cut
    expect<i32>(maskMisses(-5, 127)).toBe(0); // ReLU with output zero point -5
    expect<i32>(maskMisses(-128, 40)).toBe(0);
    expect<i32>(maskMisses(-20, 30)).toBe(0); // ReLU6-like
    expect<i32>(maskMisses(7, 7)).toBe(0); // empty: every bit 0
    // the -128..127 mask: first byte 0b11111110, last byte 0b01111111
    maskMisses(-128, 127);
    expect<u8>(load<u8>(MASK)).toBe(0xfe);
    expect<u8>(load<u8>(MASK + 31)).toBe(0x7f);
  });
  it("a partial last byte has its unused bits 0, and nothing past it is written", () => {
    for (let i = 0; i < 13; i++) store<i8>(Y + <usize>i, 50);
    memory.fill(MASK, 0xff, 8);
    activation_mask_pack(Y, 13, 0, 127, MASK);
    expect<u8>(load<u8>(MASK)).toBe(0xff);
    expect<u8>(load<u8>(MASK + 1)).toBe(0x1f);
    expect<u8>(load<u8>(MASK + 2)).toBe(0xff);
    expect<i32>(activation_mask_bytes(13)).toBe(2);
    expect<i32>(activation_mask_bytes(16)).toBe(2);
    expect<i32>(activation_mask_bytes(0)).toBe(0);
    // n = 0 writes nothing
    activation_mask_pack(Y, 0, 0, 127, MASK + 2);
    expect<u8>(load<u8>(MASK + 2)).toBe(0xff);
  });
  it("apply zeroes exactly the masked-out errors and leaves the rest bit-identical", () => {
    for (let i = 0; i < 256; i++) store<i8>(Y + <usize>i, <i8>(i - 128));
    activation_mask_pack(Y, 256, -10, 100, MASK);
    for (let i = 0; i < 256; i++) setF32(A, i, <f32>(i - 100) * 0.375);
    activation_mask_apply_f32(A, MASK, 256);
    for (let i = 0; i < 256; i++) {
      const y = i - 128;
      expect<f32>(f32At(A, i)).toBe(y > -10 && y < 100 ? <f32>(i - 100) * 0.375 : 0);
    }
  });
});

describe("sgd_update_f32", () => {
  it("without momentum: master -= step * grad, velocity untouched", () => {
    const m: StaticArray<f32> = [1, -2, 0.5, 100];
    const g: StaticArray<f32> = [0.5, -1, 2, -8];
    for (let i = 0; i < 4; i++) { setF32(A, i, m[i]); setF32(B, i, g[i]); }
    sgd_update_f32(A, B, 4, 0.25, 0, 0.9);
    const want: StaticArray<f32> = [0.875, -1.75, 0, 102];
    for (let i = 0; i < 4; i++) expect<f32>(f32At(A, i)).toBe(want[i]);
    for (let i = 0; i < 4; i++) expect<f32>(f32At(B, i)).toBe(g[i]); // gradient untouched
  });
  it("with momentum: v = momentum * v + g, master -= step * v, over two steps", () => {
    const m: StaticArray<f32> = [1, -2, 0.5];
    const g: StaticArray<f32> = [0.5, -1, 2];
    const v0: StaticArray<f32> = [1, 2, -1];
    for (let i = 0; i < 3; i++) { setF32(A, i, m[i]); setF32(B, i, g[i]); setF32(V, i, v0[i]); }
    setF32(A, 3, 77); setF32(V, 3, 55); // past n: untouched
    sgd_update_f32(A, B, 3, 0.25, V, 0.5);
    // v = [1, 0, 1.5]; master = [0.75, -2, 0.125]
    const v1: StaticArray<f32> = [1, 0, 1.5];
    const m1: StaticArray<f32> = [0.75, -2, 0.125];
    for (let i = 0; i < 3; i++) { expect<f32>(f32At(V, i)).toBe(v1[i]); expect<f32>(f32At(A, i)).toBe(m1[i]); }
    sgd_update_f32(A, B, 3, 0.25, V, 0.5);
    // v = [1, -1, 2.75]; master = [0.5, -1.75, -0.5625]
    const v2: StaticArray<f32> = [1, -1, 2.75];
    const m2: StaticArray<f32> = [0.5, -1.75, -0.5625];
    for (let i = 0; i < 3; i++) { expect<f32>(f32At(V, i)).toBe(v2[i]); expect<f32>(f32At(A, i)).toBe(m2[i]); }
    expect<f32>(f32At(A, 3)).toBe(77);
    expect<f32>(f32At(V, 3)).toBe(55);
  });
  it("momentum 0 with a velocity buffer equals plain SGD and stores v = g", () => {
    setF32(A, 0, 3); setF32(B, 0, 1.5); setF32(V, 0, 1000);
    sgd_update_f32(A, B, 1, 0.5, V, 0);
    expect<f32>(f32At(A, 0)).toBe(2.25);
    expect<f32>(f32At(V, 0)).toBe(1.5);
  });
});

describe("f32 vector helpers", () => {
  it("accumulate, scale, copy, zero", () => {
    for (let i = 0; i < 9; i++) { setF32(A, i, <f32>i); setF32(B, i, <f32>(i * 10) + 0.5); }
    setF32(A, 9, -1); setF32(B, 9, -1);
    accumulate_f32(A, B, 9);
    for (let i = 0; i < 9; i++) expect<f32>(f32At(A, i)).toBe(<f32>(i * 11) + 0.5);
    expect<f32>(f32At(A, 9)).toBe(-1);
    scale_f32(A, 9, -2);
    for (let i = 0; i < 9; i++) expect<f32>(f32At(A, i)).toBe(<f32>(i * -22) - 1);
    expect<f32>(f32At(A, 9)).toBe(-1);
    copy_f32(V, A, 9);
    for (let i = 0; i < 9; i++) expect<f32>(f32At(V, i)).toBe(f32At(A, i));
    zero_f32(A, 9);
    for (let i = 0; i < 9; i++) expect<u32>(load<u32>(A + (<usize>i << 2))).toBe(0); // +0.0
    expect<f32>(f32At(A, 9)).toBe(-1);
    zero_f32(A, 0); copy_f32(A, B, 0); // n = 0 is a no-op
    expect<f32>(f32At(A, 0)).toBe(0);
  });
});

describe("store_weights_s8", () => {
  it("rounds half to even and clamps to [-127, 127]; NaN stores 0", () => {
    const inp: StaticArray<f32> = [
      0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 0.50000006, 3.7, -3.7,
      126.5, 127.4, 127.5, 128, 200, -126.5, -127.5, -128, -1000,
      Infinity, -Infinity, NaN, 1e-45, -0.0, 1e30, -1e30,
    ];
    const want: StaticArray<i8> = [
      0, 2, 2, 0, -2, -2, 0, 1, 4, -4,
      126, 127, 127, 127, 127, -126, -127, -127, -127,
      127, -127, 0, 0, 0, 127, -127,
    ];
    const n = inp.length;
    for (let i = 0; i < n; i++) setF32(A, i, inp[i]);
    memory.fill(B, 0x5a, 64);
    store_weights_s8(A, B, n);
    for (let i = 0; i < n; i++) expect<i8>(load<i8>(B + <usize>i)).toBe(want[i]);
    expect<u8>(load<u8>(B + <usize>n)).toBe(0x5a); // nothing past n
  });
  it("an integer-valued master stores back its own weight (-127..127)", () => {
    for (let w = -127; w <= 127; w++) setF32(A, w + 127, <f32>w);
    store_weights_s8(A, B, 255);
    for (let w = -127; w <= 127; w++) expect<i8>(load<i8>(B + <usize>(w + 127))).toBe(<i8>w);
  });
});

describe("store_bias_s32", () => {
  it("rounds half to even and saturates to int32; NaN stores 0", () => {
    expect<i32>(store_bias_s32(2.5)).toBe(2);
    expect<i32>(store_bias_s32(3.5)).toBe(4);
    expect<i32>(store_bias_s32(-2.5)).toBe(-2);
    expect<i32>(store_bias_s32(-3.5)).toBe(-4);
    expect<i32>(store_bias_s32(-7.25)).toBe(-7);
    expect<i32>(store_bias_s32(16777216)).toBe(16777216);
    expect<i32>(store_bias_s32(2147483520)).toBe(2147483520); // largest f32 below 2^31
    expect<i32>(store_bias_s32(2147483648)).toBe(i32.MAX_VALUE);
    expect<i32>(store_bias_s32(3e9)).toBe(i32.MAX_VALUE);
    expect<i32>(store_bias_s32(Infinity)).toBe(i32.MAX_VALUE);
    expect<i32>(store_bias_s32(-2147483648)).toBe(i32.MIN_VALUE);
    expect<i32>(store_bias_s32(-2147483520)).toBe(-2147483520);
    expect<i32>(store_bias_s32(-3e9)).toBe(i32.MIN_VALUE);
    expect<i32>(store_bias_s32(-Infinity)).toBe(i32.MIN_VALUE);
    expect<i32>(store_bias_s32(NaN)).toBe(0);
  });
});
