// Entry points into the engine's requantization helpers, compiled with the release build's
// asconfig.json options by test/host/release-requantize.test.ts: the kernels' inlined helpers can
// compile differently there than in the as-pect build of test/engine.
import { setBlockQuant, blockPack, requantize } from "../../assembly/kernels/int8/common";
import { CHANNEL_DATA_BYTES } from "../../assembly/format";

const RECORDS: usize = memory.data(8 * CHANNEL_DATA_BYTES, 16);

/** Sets channel c's (0-7) record: bias 0, multiplier, shift. */
export function setChannel(c: i32, mult: i32, shift: i32): void {
  const rec = RECORDS + <usize>(c * CHANNEL_DATA_BYTES);
  store<i32>(rec, 0);
  store<i32>(rec, mult, 4);
  store<i32>(rec, shift, 8);
}

/** The packed output word of group g (0 or 1) of the 8 channels for accumulators a0..a3. */
export function blockWord(g: i32, a0: i32, a1: i32, a2: i32, a3: i32, outOff: i32, actMin: i32, actMax: i32): i32 {
  setBlockQuant(RECORDS, outOff, 2);
  return g == 0 ? blockPack(a0, a1, a2, a3, outOff, actMin, actMax, 0) : blockPack(a0, a1, a2, a3, outOff, actMin, actMax, 1);
}

/** The engine's one-channel requantization. */
export function single(acc: i32, mult: i32, shift: i32, outOff: i32, actMin: i32, actMax: i32): i32 {
  return requantize(acc, mult, shift, outOff, actMin, actMax);
}
