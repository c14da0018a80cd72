// The engine's exported fp8_decode / fp8_encode (build/engine.wasm) against the independent
// TypeScript reference in fp8-reference.ts: every code, every f32 at and around every
// rounding boundary (both signs), and ~200,000 further f32 values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ENGINE_WASM } from "../../host/runners/node-engine.ts";
import { FP8_SPECS, refDecode, refEncodeBits, refIsNaNCode, f32Bits, f32FromBits } from "./fp8-reference.ts";

interface Fp8Exports {
  fp8_decode(format: number, code: number): number;
  fp8_encode(format: number, value: number): number;
}

const engine = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(ENGINE_WASM)), {
  env: { tl_read: () => 1 },
}).exports as unknown as Fp8Exports;

const FORMATS = [0, 1] as const;
const NAME = ["E4M3", "E5M2"];

function hex(n: number): string { return "0x" + (n >>> 0).toString(16).padStart(8, "0"); }

/** Checks one f32 (by bits) in both formats; returns a description of the first mismatch, or "". */
function checkBits(format: number, bits: number): string {
  const want = refEncodeBits(format, bits);
  const got = engine.fp8_encode(format, f32FromBits(bits)) >>> 0;
  const expField = (bits >>> 23) & 0xff, frac = bits & 0x7fffff;
  if (expField === 0xff && frac !== 0) {
    // A NaN's sign does not reliably survive the JS <-> wasm boundary (the engine spec test
    // checks the sign inside wasm); here only "NaN in -> canonical NaN code out".
    if ((got & 0x7f) !== (want & 0x7f) || got > 0xff) return `${NAME[format]} ${hex(bits)}: got ${hex(got)} want NaN ${hex(want)}`;
    return "";
  }
  return got === want ? "" : `${NAME[format]} ${hex(bits)} (${f32FromBits(bits)}): got ${hex(got)} want ${hex(want)}`;
}

function checkAll(format: number, bitsList: Iterable<number>): { count: number; failures: string[] } {
  const failures: string[] = [];
  let count = 0;
  for (const bits of bitsList) {
    count++;
    const f = checkBits(format, bits);
    if (f && failures.length < 10) failures.push(f);
  }
  return { count, failures };
}

/** The f32s just below, at and just above x (x > 0 finite), with both signs. */
function around(x: number): number[] {
  const b = f32Bits(x);
  assert.equal(f32FromBits(b), x, `${x} must be an f32`);
  const out: number[] = [];
  for (const v of [b - 1, b, b + 1]) out.push(v >>> 0, (v | 0x80000000) >>> 0);
  return out;
}

/** Every rounding boundary: midpoints between consecutive non-negative fp8 values, and the
 *  midpoint between max finite and the next (unrepresentable) step, where saturation starts. */
function boundaryBits(format: number): number[] {
  const s = FP8_SPECS[format];
  const out: number[] = [];
  for (let c = 0; c < s.maxCode; c++) {
    const lo = refDecode(format, c), hi = refDecode(format, c + 1);
    out.push(...around((lo + hi) / 2));
  }
  const max = refDecode(format, s.maxCode);
  const step = max - refDecode(format, s.maxCode - 1); // same binade: next step is max + step
  out.push(...around(max + step / 2), ...around(max + step));
  // Every representable value itself and its f32 neighbours.
  for (let c = 1; c <= s.maxCode; c++) out.push(...around(refDecode(format, c)));
  return out;
}

function specialBits(): number[] {
  return [
    0x00000000, 0x80000000, // ±0
    0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, // f32 subnormal / min normal
    0x7f7fffff, 0xff7fffff, // ±FLT_MAX
    0x7f800000, 0xff800000, // ±Inf
    0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff, // NaNs
    f32Bits(1), f32Bits(-1), f32Bits(0.1), f32Bits(-0.1), f32Bits(1e-30), f32Bits(1e30),
  ];
}

/** xorshift32, seeded: reproducible pseudo-random f32 bit patterns. */
function* randomBits(seed: number, n: number): Generator<number> {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
  for (let i = 0; i < n; i++) {
    const r = next();
    if (i % 2 === 0) {
      yield r; // any bit pattern: mostly far outside the fp8 range, some NaN/Inf
    } else {
      // exponent within [-20, 17] (around both formats' ranges), random mantissa and sign
      const e = 127 - 20 + (next() % 38);
      yield ((r & 0x807fffff) | (e << 23)) >>> 0;
    }
  }
}

test("fp8_decode matches the reference formula for all 256 codes of both formats", () => {
  for (const format of FORMATS) {
    for (let c = 0; c < 256; c++) {
      const got = engine.fp8_decode(format, c);
      const want = refDecode(format, c);
      if (refIsNaNCode(format, c)) assert.ok(Number.isNaN(got), `${NAME[format]} ${c} should be NaN`);
      else assert.ok(Object.is(got, want), `${NAME[format]} code ${c}: got ${got} want ${want}`);
    }
  }
  // only the low 8 bits of the code count; unknown formats give NaN
  assert.ok(Object.is(engine.fp8_decode(0, 0x138), 1));
  assert.ok(Number.isNaN(engine.fp8_decode(2, 0x38)));
});

test("the reference agrees with the published OCP constants", () => {
  assert.equal(refDecode(0, 0x7e), 448);
  assert.equal(refDecode(0, 0x01), 2 ** -9);
  assert.equal(refDecode(0, 0x08), 2 ** -6);
  assert.equal(refDecode(0, 0x07), 0.875 * 2 ** -6);
  assert.ok(Number.isNaN(refDecode(0, 0x7f)) && Number.isNaN(refDecode(0, 0xff)));
  assert.equal(refDecode(1, 0x7b), 57344);
  assert.equal(refDecode(1, 0x01), 2 ** -16);
  assert.equal(refDecode(1, 0x04), 2 ** -14);
  assert.equal(refDecode(1, 0x03), 0.75 * 2 ** -14);
  assert.equal(refDecode(1, 0x7c), Infinity);
  assert.equal(refDecode(1, 0xfc), -Infinity);
  for (const c of [0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff]) assert.ok(Number.isNaN(refDecode(1, c)));
  const nans = [0, 0];
  for (const f of FORMATS) for (let c = 0; c < 256; c++) if (refIsNaNCode(f, c)) nans[f]++;
  assert.deepEqual(nans, [2, 6]);
});

test("fp8_encode round-trips every finite code, -0 included", () => {
  for (const format of FORMATS) {
    for (let c = 0; c < 256; c++) {
      const v = refDecode(format, c);
      if (!Number.isFinite(v)) continue;
      assert.equal(engine.fp8_encode(format, v), c, `${NAME[format]} code ${c} (${v})`);
    }
  }
});

test("fp8_encode: NaN, infinities and saturation (OCP saturating mode)", () => {
  assert.equal(engine.fp8_encode(0, NaN) & 0x7f, 0x7f);
  assert.equal(engine.fp8_encode(1, NaN) & 0x7f, 0x7e);
  assert.equal(engine.fp8_encode(0, Infinity), 0x7e);
  assert.equal(engine.fp8_encode(0, -Infinity), 0xfe);
  assert.equal(engine.fp8_encode(1, Infinity), 0x7b);
  assert.equal(engine.fp8_encode(1, -Infinity), 0xfb);
  assert.equal(engine.fp8_encode(0, 464), 0x7e); // midpoint 448|480: ties to even (448)
  assert.equal(engine.fp8_encode(0, Math.fround(464.00003)), 0x7e); // saturates instead of NaN
  assert.equal(engine.fp8_encode(1, 61440), 0x7b); // midpoint 57344|65536 would round up: saturates
  assert.equal(engine.fp8_encode(1, -3e38), 0xfb);
  assert.equal(engine.fp8_encode(2, 1) >>> 0, 0xffffffff); // unknown format
});

test("fp8_encode matches the reference at every rounding boundary, both signs", () => {
  for (const format of FORMATS) {
    const { count, failures } = checkAll(format, [...boundaryBits(format), ...specialBits()]);
    assert.deepEqual(failures, [], `${count} values checked`);
    assert.ok(count > 1400, `${count}`);
  }
});

test("fp8_encode matches the reference on 200,000 pseudo-random f32 values per format", () => {
  for (const format of FORMATS) {
    const { count, failures } = checkAll(format, randomBits(0x9e3779b9 + format, 200_000));
    assert.deepEqual(failures, [], `${count} values checked`);
  }
});
