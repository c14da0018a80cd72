// The weight precision of each layer, as `compile` and `inspect` print it: for models
// with fp8 layers, and for `--precision auto`, what it chose and the figures it chose by.
import type { TlmMeta } from "../format/tlm.ts";

const db = (x: number) => `${x.toFixed(2)} dB`;

export function precisionLines(meta: TlmMeta): string[] {
  const weighted = meta.ops.filter((op) => op.precision);
  const fp8 = weighted.filter((op) => op.precision === "fp8").length;
  if (!meta.auto && fp8 === 0) return [];
  const lines = [`weights      ${weighted.length - fp8} layers int8, ${fp8} layers fp8 (E4M3)`];
  const a = meta.auto;
  if (!a) return lines;
  const s = a.calibrationSqnrDb;
  lines.push(
    `auto         calibration SQNR: int8 ${db(s.int8)}, fp8 ${db(s.fp8)}, auto ${db(s.auto)}`,
    `             budget: weights ${a.budget.flashBytes} B, arena ${a.budget.arenaBytes} B (all-fp8 build: ${a.fp8Build.flashBytes} B, ${a.fp8Build.arenaBytes} B)`,
  );
  for (const l of a.layers) {
    lines.push(`  op ${String(l.op).padStart(3)} ${l.type.padEnd(17)} ${l.precision.padEnd(4)}  alone in fp8: ${db(l.sqnrAloneFp8Db)}  weights int8 ${l.flashInt8} B / fp8 ${l.flashFp8} B`);
  }
  return lines;
}
