// mulByQuantMultiplier (assembly/kernels/int8/common.ts, the requantization of the per-channel
// kernels) against the literal transcription of TFLite's MultiplyByQuantizedMultiplier, on the
// edges of each term (saturation, rounding ties of both roundings, every shift) and at random.
import { mulByQuantMultiplier, sumInt8, requantizeWith, requantize, channelTileOk, requantizeFused, fusedApplies, fusedConstant, FUSED_MAX_RIGHT, setBlockQuant, blockPack } from "../../assembly/kernels/int8/common";
import { seedRandom, xorshift32, randInt, refMultiplyByQuantizedMultiplier } from "./support";

const XS = memory.data<i32>([
  i32.MIN_VALUE, i32.MIN_VALUE + 1, -1073741824, -1073741823, -65537, -65536, -32768, -257, -256, -255,
  -129, -128, -3, -2, -1, 0, 1, 2, 3, 127, 128, 255, 256, 32767, 32768, 65536, 1073741823, 1073741824,
  i32.MAX_VALUE - 1, i32.MAX_VALUE,
]);
const MS = memory.data<i32>([
  i32.MIN_VALUE, i32.MIN_VALUE + 1, -1073741824, -1, 0, 1, 2, 1073741824, 1073741825, 1518500250, i32.MAX_VALUE - 1, i32.MAX_VALUE,
]);

/** Number of (x, m, shift) cases where the two differ (first one traced). */
function mismatches(x: i32, m: i32, shift: i32): i32 {
  const want = refMultiplyByQuantizedMultiplier(x, m, shift);
  const got = mulByQuantMultiplier(x, m, shift);
  if (got != want) { trace("mismatch x m shift got want", 5, <f64>x, <f64>m, <f64>shift, <f64>got, <f64>want); return 1; }
  return 0;
}

describe("mulByQuantMultiplier", () => {
  it("equals MultiplyByQuantizedMultiplier on every edge value and every shift in [-31, 30]", () => {
    let bad = 0;
    for (let i = 0; i < 30; i++) {
      for (let j = 0; j < 12; j++) {
        for (let s = -31; s <= 30; s++) {
          bad += mismatches(load<i32>(XS + <usize>(i << 2)), load<i32>(MS + <usize>(j << 2)), s);
        }
      }
    }
    expect<i32>(bad).toBe(0);
  });

  it("equals it on rounding ties of the right shift (x * m an exact multiple of 2^(31 + shift - 1))", () => {
    let bad = 0;
    // m = 2^30 halves x exactly, so x = odd * 2^k lands exactly on the ties of the right shift.
    for (let k = 0; k < 24; k++) {
      for (let odd = -41; odd <= 41; odd += 2) {
        for (let s = -31; s <= 0; s++) bad += mismatches(odd << k, 1 << 30, s);
      }
    }
    expect<i32>(bad).toBe(0);
  });

  it("equals it on random accumulators, multipliers and shifts", () => {
    seedRandom(0x5eed);
    let bad = 0;
    for (let t = 0; t < 200000; t++) {
      const bits = randInt(0, 31); // accumulators of every magnitude
      const x = <i32>xorshift32() >> (31 - bits);
      const m = (t & 3) == 0 ? <i32>xorshift32() : ((1 << 30) | <i32>(xorshift32() & 0x3fffffff));
      bad += mismatches(x, m, randInt(-31, 30));
    }
    expect<i32>(bad).toBe(0);
  });
});

// sumInt8 (the weight sums pointwise folds the input offset into) against a byte-by-byte sum.
const BYTES: usize = memory.data(2100, 16);

function byteSum(p: usize, len: i32): i32 {
  let s = 0;
  for (let i = 0; i < len; i++) s += <i32>load<i8>(p + <usize>i);
  return s;
}

describe("sumInt8", () => {
  it("equals the byte-by-byte sum for every length up to 2049, at the extremes and at random, from any alignment", () => {
    let bad = 0;
    for (let fill = 0; fill < 3; fill++) {
      seedRandom(17 + fill);
      for (let i = 0; i < 2100; i++) store<i8>(BYTES + <usize>i, <i8>(fill == 0 ? -128 : fill == 1 ? 127 : randInt(-128, 127)));
      for (let len = 0; len <= 2049; len += len < 40 ? 1 : 37) {
        for (let at = 0; at < 4; at++) {
          if (sumInt8(BYTES + <usize>at, len) != byteSum(BYTES + <usize>at, len)) bad++;
        }
      }
    }
    expect<i32>(bad).toBe(0);
  });
});

describe("requantizeWith", () => {
  it("equals requantize for every multiplier but i32.MIN_VALUE, every shift, edge and random accumulators", () => {
    seedRandom(0x7e57);
    let bad = 0;
    for (let t = 0; t < 60000; t++) {
      const x = t < 360 * 62 ? load<i32>(XS + <usize>((t % 30) << 2)) : <i32>xorshift32() >> (31 - randInt(0, 31));
      let m = t < 360 * 62 ? load<i32>(MS + <usize>(((t / 30) % 12) << 2)) : <i32>xorshift32();
      if (m == i32.MIN_VALUE) m = i32.MIN_VALUE + 1;
      const shift = t < 360 * 62 ? (t / 360) - 31 : randInt(-31, 30);
      const outOff = randInt(-128, 127), actMin = randInt(-128, 0), actMax = randInt(0, 127);
      const ls = shift > 0 ? shift : 0, rs = shift > 0 ? 0 : -shift, mask = (1 << rs) - 1;
      const got = requantizeWith(x, m, ls, rs, mask, mask >> 1, outOff, actMin, actMax);
      const want = requantize(x, m, shift, outOff, actMin, actMax);
      if (got != want) { if (bad == 0) trace("requantizeWith x m shift got want", 5, <f64>x, <f64>m, <f64>shift, <f64>got, <f64>want); bad++; }
    }
    expect<i32>(bad).toBe(0);
  });

  it("is only used on tiles whose multipliers are not i32.MIN_VALUE: channelTileOk refuses one", () => {
    const tile = memory.data(24, 16);
    store<i32>(tile, 0); store<i32>(tile, 1 << 30, 4); store<i32>(tile, -3, 8);
    store<i32>(tile, 0, 12); store<i32>(tile, i32.MAX_VALUE, 16); store<i32>(tile, 0, 20);
    expect<bool>(channelTileOk(tile, 0, 2, 2, -128, 127)).toBe(true);
    store<i32>(tile, i32.MIN_VALUE, 16);
    expect<bool>(channelTileOk(tile, 0, 2, 2, -128, 127)).toBe(false);
  });
});

/** requantizeFused's result for (x, m, shift), from the constants setBlockQuant would store. */
function fused(x: i32, m: i32, shift: i32, outOff: i32, actMin: i32, actMax: i32): i32 {
  const k = fusedConstant(-shift, outOff);
  return requantizeFused(x, <i32>k, <i32>(k >> 32), m, -shift - 1, actMin, actMax);
}

describe("requantizeFused", () => {
  it("applies exactly to multipliers >= 0 with shifts in [-23, -1]", () => {
    expect<bool>(fusedApplies(1 << 30, -1)).toBe(true);
    expect<bool>(fusedApplies(0, -FUSED_MAX_RIGHT)).toBe(true);
    expect<bool>(fusedApplies(1 << 30, 0)).toBe(false);
    expect<bool>(fusedApplies(1 << 30, -FUSED_MAX_RIGHT - 1)).toBe(false);
    expect<bool>(fusedApplies(-1, -5)).toBe(false);
  });

  it("equals requantize on edge accumulators, rounding ties of both roundings and random values", () => {
    seedRandom(0xf05e);
    let bad = 0;
    for (let t = 0; t < 400000; t++) {
      const shift = -randInt(1, FUSED_MAX_RIGHT);
      let x: i32, m: i32;
      if (t < 30 * 12 * 23) {
        // every edge accumulator x every non-negative edge multiplier x every shift
        x = load<i32>(XS + <usize>((t % 30) << 2));
        m = load<i32>(MS + <usize>(((t / 30) % 12) << 2));
        if (m < 0) m = m & i32.MAX_VALUE;
      } else if ((t & 3) == 0) {
        // ties: m = 2^30 halves x exactly, so odd * 2^k lands on the right shift's half-way points
        m = 1 << 30;
        x = (randInt(-41, 41) | 1) << randInt(0, 24);
      } else if ((t & 3) == 1) {
        // ties of the doubling product: x * m = odd * 2^30
        const j = randInt(0, 30);
        m = 1 << j;
        x = (randInt(-1000, 1000) | 1) << (30 - j);
      } else {
        x = <i32>xorshift32() >> (31 - randInt(0, 31));
        m = (t & 7) == 2 ? <i32>(xorshift32() & 0x7fffffff) : ((1 << 30) | <i32>(xorshift32() & 0x3fffffff));
      }
      const outOff = randInt(-128, 127), actMin = randInt(-128, 0), actMax = randInt(0, 127);
      const got = fused(x, m, shift, outOff, actMin, actMax);
      const want = requantize(x, m, shift, outOff, actMin, actMax);
      if (got != want) { if (bad == 0) trace("requantizeFused x m shift got want", 5, <f64>x, <f64>m, <f64>shift, <f64>got, <f64>want); bad++; }
    }
    expect<i32>(bad).toBe(0);
  });

  it("equals requantize on the unclamped range too (results far outside int8)", () => {
    seedRandom(0xc1a);
    let bad = 0;
    for (let t = 0; t < 200000; t++) {
      const shift = -randInt(1, FUSED_MAX_RIGHT);
      const x = <i32>xorshift32() >> (31 - randInt(0, 31));
      const m = <i32>(xorshift32() & 0x7fffffff);
      const outOff = randInt(-128, 127);
      const got = fused(x, m, shift, outOff, i32.MIN_VALUE, i32.MAX_VALUE);
      const want = requantize(x, m, shift, outOff, i32.MIN_VALUE, i32.MAX_VALUE);
      if (got != want) { if (bad == 0) trace("unclamped x m shift got want", 5, <f64>x, <f64>m, <f64>shift, <f64>got, <f64>want); bad++; }
    }
    expect<i32>(bad).toBe(0);
  });
});

// The blocks' path: setBlockQuant stores the constants, blockPack reads them back (4 channels per
// group, fused when all 4 qualify) and must equal requantize channel by channel.
const RECORDS: usize = memory.data(8 * 12, 16);

describe("setBlockQuant + blockPack", () => {
  it("equal requantize for both groups, every right shift (fused) and mixed groups (not fused)", () => {
    seedRandom(0xb10c);
    let bad = 0;
    for (let t = 0; t < 20000; t++) {
      const full = (t & 3) == 3; // blockPack's constant-bounds path
      const outOff = randInt(-128, 127), actMin = full ? -128 : randInt(-128, 0), actMax = full ? 127 : randInt(0, 127);
      for (let c = 0; c < 8; c++) {
        const rec = RECORDS + <usize>(c * 12);
        // group 0 always qualifies; group 1 gets a shift >= 0 or a zero multiplier every 4th time
        let shift = -randInt(1, FUSED_MAX_RIGHT);
        if (c == 5 && (t & 3) == 0) shift = randInt(0, 3);
        if (c < 4 && (t & 7) == 1) shift = -1;
        store<i32>(rec, 0);
        store<i32>(rec, (t & 15) == 2 && c == 2 ? 0 : ((1 << 30) | <i32>(xorshift32() & 0x3fffffff)), 4);
        store<i32>(rec, shift, 8);
      }
      setBlockQuant(RECORDS, outOff, 2);
      const a0 = <i32>xorshift32() >> randInt(0, 31), a1 = <i32>xorshift32() >> randInt(0, 31);
      const a2 = <i32>xorshift32() >> randInt(0, 31), a3 = <i32>xorshift32() >> randInt(0, 31);
      for (let g = 0; g < 2; g++) {
        const got = g == 0 ? blockPack(a0, a1, a2, a3, outOff, actMin, actMax, 0) : blockPack(a0, a1, a2, a3, outOff, actMin, actMax, 1);
        for (let l = 0; l < 4; l++) {
          const rec = RECORDS + <usize>((g * 4 + l) * 12);
          const acc = l == 0 ? a0 : (l == 1 ? a1 : (l == 2 ? a2 : a3));
          const want = requantize(acc, load<i32>(rec, 4), load<i32>(rec, 8), outOff, actMin, actMax);
          const lane = <i32><i8>(got >> (l * 8));
          if (lane != want) { if (bad == 0) trace("blockPack t g l got want", 5, <f64>t, <f64>g, <f64>l, <f64>lane, <f64>want); bad++; }
        }
      }
    }
    expect<i32>(bad).toBe(0);
  });
});
