import { PadParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { pad_s8 } from "../../assembly/kernels/int8/pad";
import { seedRandom, xorshift32, fillRandomBytes, TEST_ARENA, useTestArena, staticParams } from "./support";

const IN: i32 = 0;
const OUT: i32 = 8192;

seedRandom(0x85ebca6b); // this spec's random stream

function setup(d0: i32, d1: i32, d2: i32, d3: i32, b0: i32, b1: i32, b2: i32, b3: i32,
  a0: i32, a1: i32, a2: i32, a3: i32, padValue: i32): PadParams {
  useTestArena();
  const p = staticParams<PadParams>();
  p.input = IN; p.output = OUT;
  p.d0 = d0; p.d1 = d1; p.d2 = d2; p.d3 = d3;
  p.b0 = b0; p.b1 = b1; p.b2 = b2; p.b3 = b3;
  p.a0 = a0; p.a1 = a1; p.a2 = a2; p.a3 = a3;
  p.padValue = padValue;
  fillRandomBytes(TEST_ARENA + <usize>IN, d0 * d1 * d2 * d3);
  memory.fill(TEST_ARENA + <usize>OUT, 0x5a, 16384); // sentinel
  return p;
}

/** Checks every output element (by its 4-D index) and the byte just past the output. */
function mismatches(p: PadParams): i32 {
  const o0 = p.d0 + p.b0 + p.a0, o1 = p.d1 + p.b1 + p.a1, o2 = p.d2 + p.b2 + p.a2, o3 = p.d3 + p.b3 + p.a3;
  let bad = 0, k = 0;
  for (let i0 = 0; i0 < o0; i0++) for (let i1 = 0; i1 < o1; i1++) for (let i2 = 0; i2 < o2; i2++) for (let i3 = 0; i3 < o3; i3++) {
    const j0 = i0 - p.b0, j1 = i1 - p.b1, j2 = i2 - p.b2, j3 = i3 - p.b3;
    let want: i32;
    if (j0 < 0 || j0 >= p.d0 || j1 < 0 || j1 >= p.d1 || j2 < 0 || j2 >= p.d2 || j3 < 0 || j3 >= p.d3) want = <i32><i8>p.padValue;
    else want = <i32>load<i8>(TEST_ARENA + <usize>(IN + ((j0 * p.d1 + j1) * p.d2 + j2) * p.d3 + j3));
    if (<i32>load<i8>(TEST_ARENA + <usize>(OUT + k)) != want) bad++;
    k++;
  }
  if (load<u8>(TEST_ARENA + <usize>(OUT + k)) != 0x5a) bad++;
  return bad;
}

describe("pad", () => {
  it("pads H and W of an NHWC tensor (SAME-conv style)", () => {
    const p = setup(1, 5, 6, 3, 0, 1, 1, 0, 0, 1, 2, 0, -7);
    expect<i32>(pad_s8(p)).toBe(STATUS_OK);
    expect<i32>(mismatches(p)).toBe(0);
  });

  it("pads every dimension, before and after", () => {
    const p = setup(2, 3, 4, 5, 1, 2, 0, 3, 2, 0, 1, 1, 100);
    expect<i32>(pad_s8(p)).toBe(STATUS_OK);
    expect<i32>(mismatches(p)).toBe(0);
  });

  it("handles random shapes and paddings including none", () => {
    for (let t = 0; t < 30; t++) {
      const p = setup(1 + <i32>(xorshift32() % 3), 1 + <i32>(xorshift32() % 5), 1 + <i32>(xorshift32() % 5), 1 + <i32>(xorshift32() % 6),
        <i32>(xorshift32() % 2), <i32>(xorshift32() % 3), <i32>(xorshift32() % 3), <i32>(xorshift32() % 3),
        <i32>(xorshift32() % 2), <i32>(xorshift32() % 3), <i32>(xorshift32() % 3), <i32>(xorshift32() % 3),
        <i32><i8>xorshift32());
      expect<i32>(pad_s8(p)).toBe(STATUS_OK);
      expect<i32>(mismatches(p)).toBe(0);
    }
    const q = setup(1, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    expect<i32>(pad_s8(q)).toBe(STATUS_OK);
    expect<i32>(mismatches(q)).toBe(0);
  });

  it("fills everything when the input is empty and rejects negative padding", () => {
    const p = setup(1, 0, 3, 2, 0, 1, 0, 0, 0, 1, 0, 0, -128);
    expect<i32>(pad_s8(p)).toBe(STATUS_OK);
    expect<i32>(mismatches(p)).toBe(0);
    const q = setup(1, 3, 3, 2, 0, -1, 0, 0, 0, 0, 0, 0, 0);
    expect<i32>(pad_s8(q)).toBe(STATUS_KERNEL);
  });
});
