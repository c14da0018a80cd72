// Inputs beyond the shared golden ones, regenerated from (kind, seed) so only
// TFLM's outputs need storing (test/golden-extra/*.json).
import { xorshiftBytes } from "./shared.ts";

export const EXTRA_KINDS = ["xorshift", "saturated", "constant", "small"] as const;

export function extraInput(kind: string, seed: number, bytes: number): Uint8Array {
  const x = xorshiftBytes(seed, bytes);
  switch (kind) {
    case "xorshift": return x; // uniform over int8
    case "saturated": return x.map((v) => (v & 1 ? 127 : 128)); // only +127 and -128
    case "constant": return x.fill(seed & 0xff);
    case "small": return x.map((v) => v >> 4); // 0..15
    default: throw new Error(`unknown input kind ${kind}`);
  }
}
