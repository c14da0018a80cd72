import { srdhm, roundingDivideByPOT, multiplyByQuantizedMultiplier, saturatingRoundingMultiplyByPOT } from "../../assembly/quant";

describe("fixed point", () => {
  it("saturates the one overflowing doubling high multiply", () => {
    expect<i32>(srdhm(i32.MIN_VALUE, i32.MIN_VALUE)).toBe(i32.MAX_VALUE);
  });
  it("rounds the doubling high multiply half away from zero", () => {
    // 3 * 2^30 / 2^31 = 1.5 -> 2, but -1.5 -> -1: the nudge is 2^30 for a positive product and 1 - 2^30 for a negative one, then the division truncates
    expect<i32>(srdhm(3, 1 << 30)).toBe(2);
    expect<i32>(srdhm(-3, 1 << 30)).toBe(-1);
    expect<i32>(srdhm(1 << 30, 1 << 30)).toBe(1 << 29);
  });
  it("divides by a power of two rounding to nearest, ties away from zero", () => {
    expect<i32>(roundingDivideByPOT(5, 1)).toBe(3);
    expect<i32>(roundingDivideByPOT(-5, 1)).toBe(-3);
    expect<i32>(roundingDivideByPOT(7, 2)).toBe(2);
    expect<i32>(roundingDivideByPOT(-6, 2)).toBe(-2);
    expect<i32>(roundingDivideByPOT(-7, 2)).toBe(-2);
    expect<i32>(roundingDivideByPOT(100, 0)).toBe(100);
  });
  it("applies positive and negative shifts", () => {
    // multiplier 2^30 is 0.5 in Q31
    expect<i32>(multiplyByQuantizedMultiplier(100, 1 << 30, 0)).toBe(50);
    expect<i32>(multiplyByQuantizedMultiplier(100, 1 << 30, 2)).toBe(200);
    expect<i32>(multiplyByQuantizedMultiplier(100, 1 << 30, -3)).toBe(6); // 6.25 -> 6
    expect<i32>(multiplyByQuantizedMultiplier(-100, 1 << 30, -3)).toBe(-6);
  });
  it("saturates a rounding multiply by a positive power of two", () => {
    expect<i32>(saturatingRoundingMultiplyByPOT(1 << 28, 4)).toBe(i32.MAX_VALUE);
    expect<i32>(saturatingRoundingMultiplyByPOT(-(1 << 28), 4)).toBe(i32.MIN_VALUE);
    expect<i32>(saturatingRoundingMultiplyByPOT(3, 2)).toBe(12);
    expect<i32>(saturatingRoundingMultiplyByPOT(6, -2)).toBe(2);
  });
});
