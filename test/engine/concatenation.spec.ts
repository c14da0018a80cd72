import { ConcatParams, STATUS_OK, STATUS_KERNEL } from "../../assembly/format";
import { concatenation_s8 } from "../../assembly/kernels/int8/concatenation";
import { seedRandom, fillRandomBytes, TEST_ARENA, useTestArena, staticParams } from "./support";

const PAIRS: usize = memory.data(64, 16);
const OUT: i32 = 8192;

seedRandom(0xc2b2ae35); // this spec's random stream

function params(outer: i32, outInner: i32, count: i32): ConcatParams {
  useTestArena();
  const p = staticParams<ConcatParams>();
  p.output = OUT; p.outer = outer; p.outInner = outInner; p.count = count;
  memory.fill(TEST_ARENA + <usize>OUT, 0x5a, 4096);
  return p;
}
function setPair(k: i32, offset: i32, inner: i32, outer: i32): void {
  store<i32>(PAIRS + <usize>(k * 8), offset);
  store<i32>(PAIRS + <usize>(k * 8 + 4), inner);
  fillRandomBytes(TEST_ARENA + <usize>offset, outer * inner);
}

/** Reference: output element (r, j) comes from the input whose column range holds j. */
function mismatches(outer: i32, outInner: i32, count: i32): i32 {
  let bad = 0;
  for (let r = 0; r < outer; r++) {
    for (let j = 0; j < outInner; j++) {
      let col = j, k = 0;
      while (col >= load<i32>(PAIRS + <usize>(k * 8 + 4))) { col -= load<i32>(PAIRS + <usize>(k * 8 + 4)); k++; }
      const inner = load<i32>(PAIRS + <usize>(k * 8 + 4));
      const want = load<u8>(TEST_ARENA + <usize>(load<i32>(PAIRS + <usize>(k * 8)) + r * inner + col));
      if (load<u8>(TEST_ARENA + <usize>(OUT + r * outInner + j)) != want) bad++;
    }
  }
  if (load<u8>(TEST_ARENA + <usize>(OUT + outer * outInner)) != 0x5a) bad++;
  return bad;
}

describe("concatenation", () => {
  it("concatenates along the channel axis (many rows, uneven widths)", () => {
    const p = params(20, 3 + 8 + 5, 3);
    setPair(0, 0, 3, 20);
    setPair(1, 1024, 8, 20);
    setPair(2, 4096, 5, 20);
    expect<i32>(concatenation_s8(p, PAIRS)).toBe(STATUS_OK);
    expect<i32>(mismatches(20, 16, 3)).toBe(0);
  });

  it("concatenates along the outermost axis (one row)", () => {
    const p = params(1, 100 + 37, 2);
    setPair(0, 0, 100, 1);
    setPair(1, 2048, 37, 1);
    expect<i32>(concatenation_s8(p, PAIRS)).toBe(STATUS_OK);
    expect<i32>(mismatches(1, 137, 2)).toBe(0);
  });

  it("accepts an empty input and a single input", () => {
    const p = params(4, 6, 3);
    setPair(0, 0, 2, 4);
    setPair(1, 512, 0, 4);
    setPair(2, 1024, 4, 4);
    expect<i32>(concatenation_s8(p, PAIRS)).toBe(STATUS_OK);
    expect<i32>(mismatches(4, 6, 3)).toBe(0);
    const q = params(7, 9, 1);
    setPair(0, 0, 9, 7);
    expect<i32>(concatenation_s8(q, PAIRS)).toBe(STATUS_OK);
    expect<i32>(mismatches(7, 9, 1)).toBe(0);
  });

  it("rejects inner sizes that do not add up to the output row", () => {
    const p = params(2, 10, 2);
    setPair(0, 0, 3, 2);
    setPair(1, 512, 6, 2);
    expect<i32>(concatenation_s8(p, PAIRS)).toBe(STATUS_KERNEL);
    p.outInner = 8;
    expect<i32>(concatenation_s8(p, PAIRS)).toBe(STATUS_KERNEL);
    p.outInner = 9;
    expect<i32>(concatenation_s8(p, PAIRS)).toBe(STATUS_OK);
  });
});
