// The requantization helpers as the release build compiles them (asconfig.json's options; the
// as-pect tests of test/engine build differently) against TFLite's MultiplyByQuantizedMultiplier
// written out here with BigInt. The fused form once computed wrong bytes only in the release build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./shared.ts";
import { Rng } from "../../host/float/synthetic.ts";

interface Exports {
  setChannel(c: number, mult: number, shift: number): void;
  blockWord(g: number, a0: number, a1: number, a2: number, a3: number, outOff: number, actMin: number, actMax: number): number;
  single(acc: number, mult: number, shift: number, outOff: number, actMin: number, actMax: number): number;
}

function buildHarness(): Exports {
  const dir = mkdtempSync(join(tmpdir(), "tl-release-"));
  try {
    const out = join(dir, "requantize.wasm");
    execFileSync(join(REPO, "node_modules/.bin/asc"), ["test/release/requantize.ts", "--config", "asconfig.json", "--target", "release",
      "--outFile", out, "--textFile", join(dir, "requantize.wat")], { cwd: REPO, stdio: "pipe" });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(out)), { env: { tl_read: () => 1 } });
    (instance.exports._initialize as (() => void) | undefined)?.();
    return instance.exports as unknown as Exports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MIN = -(2 ** 31), MAX = 2 ** 31 - 1;

/** TFLite's MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT. */
function tfliteRequantize(x: number, m: number, shift: number, outOff: number, actMin: number, actMax: number): number {
  const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const a = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
  let r: number;
  if (a === MIN && m === MIN) r = MAX;
  else {
    const ab = BigInt(a) * BigInt(m);
    const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    r = Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C++'s
  }
  const mask = 2 ** right - 1, rem = Number(BigInt(r) & BigInt(mask));
  const threshold = Math.floor(mask / 2) + (r < 0 ? 1 : 0);
  const v = Math.floor(r / 2 ** right) + (rem > threshold ? 1 : 0) + outOff;
  return Math.min(actMax, Math.max(actMin, v));
}

test("release build: blockPack (fused and not) and requantize equal TFLite's requantization", () => {
  const e = buildHarness();
  const rng = new Rng(0x7e1ea5e); // xorshift32: the same cases on every run
  const next = () => Math.floor(rng.next() * 2 ** 32);
  const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  let checked = 0;
  for (let t = 0; t < 20000; t++) {
    const mults: number[] = [], shifts: number[] = [];
    for (let c = 0; c < 8; c++) {
      // right shifts 1..23 (the fused form), every 8th case shift -1 everywhere (its low word has
      // bit 31 set), group 1 sometimes a shift >= 0 or a zero multiplier (not fused)
      let shift = (t & 7) === 1 ? -1 : -int(1, 23);
      let mult = (1 << 30) | (next() & 0x3fffffff);
      if (c === 5 && (t & 3) === 0) shift = int(0, 3);
      if (c === 6 && (t & 15) === 2) mult = 0;
      e.setChannel(c, mult, shift);
      mults.push(mult); shifts.push(shift);
    }
    // every 4th case the whole int8 range (blockPack's constant-bounds path)
    const full = (t & 3) === 3;
    const outOff = int(-128, 127), actMin = full ? -128 : int(-128, 0), actMax = full ? 127 : int(0, 127);
    const accs = [0, 1, 2, 3].map(() => (next() | 0) >> int(0, 31));
    for (let g = 0; g < 2; g++) {
      const word = e.blockWord(g, accs[0], accs[1], accs[2], accs[3], outOff, actMin, actMax);
      for (let l = 0; l < 4; l++) {
        const c = g * 4 + l;
        const want = tfliteRequantize(accs[l], mults[c], shifts[c], outOff, actMin, actMax);
        assert.equal((word << (24 - 8 * l)) >> 24, want, `case ${t} channel ${c}: acc ${accs[l]} mult ${mults[c]} shift ${shifts[c]} outOff ${outOff}`);
        assert.equal(e.single(accs[l], mults[c], shifts[c], outOff, actMin, actMax), want);
        checked++;
      }
    }
  }
  assert.equal(checked, 20000 * 8);
});
