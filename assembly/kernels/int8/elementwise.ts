// int8 ADD and MUL over a 4-D output with strided (possibly broadcast) inputs.
// ADD matches TensorFlow Lite (Micro)'s reference_integer_ops::AddFunc (used by Add /
// AddElementwise / BroadcastAdd*Slow); MUL matches reference_integer_ops::MulElementwise
// (used by Mul / BroadcastMul*Slow). tensorflow/lite/kernels/internal/reference/integer_ops/{add,mul}.h
import { ElementwiseParams, STATUS_OK } from "../../format";
import { ARENA } from "../../arena";
import { multiplyByQuantizedMultiplier } from "../../quant";
import { lane0, lane1, lane2, lane3, pack4 } from "./common";

// @ts-ignore: decorator
@inline
function clampI8(x: i32, lo: i32, hi: i32): i8 {
  return <i8>(x < lo ? lo : (x > hi ? hi : x));
}

/** True when the strides describe the dense layout of [d0][d1][d2][d3] (a stride of a size-1 dim is irrelevant). */
function isDense(d0: i32, d1: i32, d2: i32, d3: i32, s0: i32, s1: i32, s2: i32, s3: i32): bool {
  return (d3 == 1 || s3 == 1) && (d2 == 1 || s2 == d3) && (d1 == 1 || s1 == d2 * d3) && (d0 == 1 || s0 == d1 * d2 * d3);
}

// TFLite's AddFunc uses MultiplyByQuantizedMultiplierSmallerThanOneExp for all three
// rescalings; for shift <= 0 (always the case for ADD's multipliers) that equals
// multiplyByQuantizedMultiplier.
// @ts-ignore: decorator
@inline
function addOne(x1: i32, x2: i32, off1: i32, off2: i32, m1: i32, sh1: i32, m2: i32, sh2: i32,
  mo: i32, sho: i32, offo: i32, leftShift: i32): i32 {
  const s1 = (off1 + x1) * (1 << leftShift);
  const s2 = (off2 + x2) * (1 << leftShift);
  const sc1 = multiplyByQuantizedMultiplier(s1, m1, sh1);
  const sc2 = multiplyByQuantizedMultiplier(s2, m2, sh2);
  return multiplyByQuantizedMultiplier(sc1 + sc2, mo, sho) + offo;
}

/**
 * One rescaling of ADD's dense fast path: multiplyByQuantizedMultiplier(a, m, -rs) for rs in [0, 31]
 * and |a| <= 2^29 (see add_s8). For such a the doubling high multiply never saturates and equals
 * floor((a*m + 2^30) / 2^31) (common.ts), and |r| <= 2^29 + 1, so the rounding division by 2^rs
 * can add half (h = 2^(rs-1)), minus 1 for negatives (ties away from zero), and shift, without
 * overflow. For rs = 0 it is the identity: h = 0 and neg = 0 (else neg = -1).
 */
// @ts-ignore: decorator
@inline
function rescale(a: i32, m: i32, rs: i32, h: i32, neg: i32): i32 {
  const r = <i32>((<i64>a * <i64>m + (<i64>1 << 30)) >> 31);
  return (r + h + ((r >> 31) & neg)) >> rs;
}

export function add_s8(p: ElementwiseParams): i32 {
  const in1 = ARENA + <usize>p.input1, in2 = ARENA + <usize>p.input2, out = ARENA + <usize>p.output;
  const d0 = p.d0, d1 = p.d1, d2 = p.d2, d3 = p.d3;
  const a0 = p.s1_0, a1 = p.s1_1, a2 = p.s1_2, a3 = p.s1_3;
  const b0 = p.s2_0, b1 = p.s2_1, b2 = p.s2_2, b3 = p.s2_3;
  const off1 = p.input1Offset, off2 = p.input2Offset, offo = p.outputOffset;
  const m1 = p.input1Multiplier, sh1 = p.input1Shift, m2 = p.input2Multiplier, sh2 = p.input2Shift;
  const mo = p.outputMultiplier, sho = p.outputShift, ls = p.leftShift;
  const lo = p.actMin, hi = p.actMax;
  if (d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0) return STATUS_OK;
  if (isDense(d0, d1, d2, d3, a0, a1, a2, a3) && isDense(d0, d1, d2, d3, b0, b1, b2, b3)) {
    const n = d0 * d1 * d2 * d3;
    // TFLite's ADD always has leftShift 20 and shifts <= 0 (every multiplier is at most 1/2): then |(off + x) << ls| <= 255 * 2^20 and rescale's bounds hold throughout.
    if (ls >= 0 && ls <= 20 && sh1 <= 0 && sh1 >= -31 && sh2 <= 0 && sh2 >= -31 && sho <= 0 && sho >= -31) {
      addDense(in1, in2, out, n, p);
      return STATUS_OK;
    }
    for (let i = 0; i < n; i++) {
      const r = addOne(<i32>load<i8>(in1 + <usize>i), <i32>load<i8>(in2 + <usize>i), off1, off2, m1, sh1, m2, sh2, mo, sho, offo, ls);
      store<i8>(out + <usize>i, clampI8(r, lo, hi));
    }
    return STATUS_OK;
  }
  let o = out;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        let q1 = in1 + <usize>(i0 * a0 + i1 * a1 + i2 * a2);
        let q2 = in2 + <usize>(i0 * b0 + i1 * b1 + i2 * b2);
        for (let i3 = 0; i3 < d3; i3++) {
          const r = addOne(<i32>load<i8>(q1), <i32>load<i8>(q2), off1, off2, m1, sh1, m2, sh2, mo, sho, offo, ls);
          store<i8>(o, clampI8(r, lo, hi));
          o++;
          q1 += <usize>a3;
          q2 += <usize>b3;
        }
      }
    }
  }
  return STATUS_OK;
}

/** Dense same-shape ADD under add_s8's fast-path conditions: 4 elements per word load and store. */
function addDense(in1: usize, in2: usize, out: usize, n: i32, p: ElementwiseParams): void {
  const ls = p.leftShift, lo = p.actMin, hi = p.actMax, offo = p.outputOffset;
  // (off + x) << ls = (x << ls) + (off << ls): the offset term is one constant per input.
  const c1 = p.input1Offset << ls, c2 = p.input2Offset << ls;
  const m1 = p.input1Multiplier, m2 = p.input2Multiplier, mo = p.outputMultiplier;
  const r1 = -p.input1Shift, r2 = -p.input2Shift, ro = -p.outputShift;
  const h1 = (1 << r1) >>> 1, h2 = (1 << r2) >>> 1, ho = (1 << ro) >>> 1; // half, 0 for no shift
  const n1 = r1 > 0 ? -1 : 0, n2 = r2 > 0 ? -1 : 0, no = ro > 0 ? -1 : 0;
  const n4 = n & ~3;
  let i = 0;
  if (n >= ADD_TABLE_MIN) {
    // Each input's rescaling depends on its own byte only: look both up (index x + 128).
    fillAddTables(c1, c2, ls, m1, r1, h1, n1, m2, r2, h2, n2);
    for (; i < n4; i += 4) {
      const u1 = load<u32>(in1 + <usize>i) ^ 0x80808080, u2 = load<u32>(in2 + <usize>i) ^ 0x80808080;
      store<i32>(out + <usize>i, pack4(
        addRescaled(tableSum(u1 & 0xff, u2 & 0xff), mo, ro, ho, no, offo, lo, hi),
        addRescaled(tableSum((u1 >>> 8) & 0xff, (u2 >>> 8) & 0xff), mo, ro, ho, no, offo, lo, hi),
        addRescaled(tableSum((u1 >>> 16) & 0xff, (u2 >>> 16) & 0xff), mo, ro, ho, no, offo, lo, hi),
        addRescaled(tableSum(u1 >>> 24, u2 >>> 24), mo, ro, ho, no, offo, lo, hi)));
    }
  }
  for (; i < n4; i += 4) {
    const v1 = load<i32>(in1 + <usize>i), v2 = load<i32>(in2 + <usize>i);
    store<i32>(out + <usize>i, pack4(
      addLane(lane0(v1), lane0(v2), c1, c2, ls, m1, r1, h1, n1, m2, r2, h2, n2, mo, ro, ho, no, offo, lo, hi),
      addLane(lane1(v1), lane1(v2), c1, c2, ls, m1, r1, h1, n1, m2, r2, h2, n2, mo, ro, ho, no, offo, lo, hi),
      addLane(lane2(v1), lane2(v2), c1, c2, ls, m1, r1, h1, n1, m2, r2, h2, n2, mo, ro, ho, no, offo, lo, hi),
      addLane(lane3(v1), lane3(v2), c1, c2, ls, m1, r1, h1, n1, m2, r2, h2, n2, mo, ro, ho, no, offo, lo, hi)));
  }
  for (; i < n; i++) {
    store<i8>(out + <usize>i, <i8>addLane(<i32>load<i8>(in1 + <usize>i), <i32>load<i8>(in2 + <usize>i),
      c1, c2, ls, m1, r1, h1, n1, m2, r2, h2, n2, mo, ro, ho, no, offo, lo, hi));
  }
}

/**
 * ADD's per-input rescalings as tables, 256 i32 per input indexed by x + 128: addDense builds
 * them for calls of at least ADD_TABLE_MIN elements (512 rescalings against two per element) and
 * keeps them while the same parameters come again (a staged ADD runs once per row).
 */
const ADD_TABLE_MIN: i32 = 256;
const ADD_TABLES: usize = memory.data(2 * 256 * 4, 16);
const ADD_TABLE_KEY: usize = memory.data(8 * 4, 16);
let addTablesValid = false;

function fillAddTables(c1: i32, c2: i32, ls: i32, m1: i32, r1: i32, h1: i32, n1: i32, m2: i32, r2: i32, h2: i32, n2: i32): void {
  const k = ADD_TABLE_KEY;
  if (addTablesValid && load<i32>(k) == c1 && load<i32>(k, 4) == c2 && load<i32>(k, 8) == ls && load<i32>(k, 12) == m1 &&
    load<i32>(k, 16) == r1 && load<i32>(k, 20) == m2 && load<i32>(k, 24) == r2) return;
  for (let x = -128; x < 128; x++) {
    store<i32>(ADD_TABLES + (<usize>(x + 128) << 2), rescale((x << ls) + c1, m1, r1, h1, n1));
    store<i32>(ADD_TABLES + (<usize>(x + 384) << 2), rescale((x << ls) + c2, m2, r2, h2, n2));
  }
  store<i32>(k, c1); store<i32>(k, c2, 4); store<i32>(k, ls, 8); store<i32>(k, m1, 12);
  store<i32>(k, r1, 16); store<i32>(k, m2, 20); store<i32>(k, r2, 24);
  addTablesValid = true;
}

/** Both inputs rescaled, from the tables (i1, i2: the input bytes + 128). */
// @ts-ignore: decorator
@inline
function tableSum(i1: u32, i2: u32): i32 {
  return load<i32>(ADD_TABLES + (<usize>i1 << 2)) + load<i32>(ADD_TABLES + (<usize>i2 << 2), 1024);
}

/** The output rescaling, offset and clamp of one ADD element. */
// @ts-ignore: decorator
@inline
function addRescaled(sum: i32, mo: i32, ro: i32, ho: i32, no: i32, offo: i32, lo: i32, hi: i32): i32 {
  const r = rescale(sum, mo, ro, ho, no) + offo;
  return r < lo ? lo : (r > hi ? hi : r);
}

// @ts-ignore: decorator
@inline
function addLane(x1: i32, x2: i32, c1: i32, c2: i32, ls: i32, m1: i32, r1: i32, h1: i32, n1: i32,
  m2: i32, r2: i32, h2: i32, n2: i32, mo: i32, ro: i32, ho: i32, no: i32, offo: i32, lo: i32, hi: i32): i32 {
  return addRescaled(rescale((x1 << ls) + c1, m1, r1, h1, n1) + rescale((x2 << ls) + c2, m2, r2, h2, n2), mo, ro, ho, no, offo, lo, hi);
}

export function mul_s8(p: ElementwiseParams): i32 {
  const in1 = ARENA + <usize>p.input1, in2 = ARENA + <usize>p.input2, out = ARENA + <usize>p.output;
  const d0 = p.d0, d1 = p.d1, d2 = p.d2, d3 = p.d3;
  const a0 = p.s1_0, a1 = p.s1_1, a2 = p.s1_2, a3 = p.s1_3;
  const b0 = p.s2_0, b1 = p.s2_1, b2 = p.s2_2, b3 = p.s2_3;
  const off1 = p.input1Offset, off2 = p.input2Offset, offo = p.outputOffset;
  const mo = p.outputMultiplier, sho = p.outputShift;
  const lo = p.actMin, hi = p.actMax;
  if (d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0) return STATUS_OK;
  if (isDense(d0, d1, d2, d3, a0, a1, a2, a3) && isDense(d0, d1, d2, d3, b0, b1, b2, b3)) {
    const n = d0 * d1 * d2 * d3;
    for (let i = 0; i < n; i++) {
      const prod = (off1 + <i32>load<i8>(in1 + <usize>i)) * (off2 + <i32>load<i8>(in2 + <usize>i));
      store<i8>(out + <usize>i, clampI8(offo + multiplyByQuantizedMultiplier(prod, mo, sho), lo, hi));
    }
    return STATUS_OK;
  }
  let o = out;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        let q1 = in1 + <usize>(i0 * a0 + i1 * a1 + i2 * a2);
        let q2 = in2 + <usize>(i0 * b0 + i1 * b1 + i2 * b2);
        for (let i3 = 0; i3 < d3; i3++) {
          const prod = (off1 + <i32>load<i8>(q1)) * (off2 + <i32>load<i8>(q2));
          store<i8>(o, clampI8(offo + multiplyByQuantizedMultiplier(prod, mo, sho), lo, hi));
          o++;
          q1 += <usize>a3;
          q2 += <usize>b3;
        }
      }
    }
  }
  return STATUS_OK;
}
