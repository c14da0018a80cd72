// Locates ../shared (real models and TFLM golden data) for tests and benchmarks.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { SHARED } from "../../host/util/shared-models.ts";

export { REPO, SHARED, INT8_MODELS, requireShared, modelPath } from "../../host/util/shared-models.ts";

export interface GoldenRun { key: string; input: Uint8Array; output: Uint8Array }

export function goldenRuns(name: string): GoldenRun[] {
  const dir = join(SHARED, "golden", name);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
  return meta.runs.map((r: { key: string; input_file: string; output_file: string }) => ({
    key: r.key, input: readFileSync(join(dir, r.input_file)), output: readFileSync(join(dir, r.output_file)),
  }));
}

export function goldenTensors(name: string): Map<number, Uint8Array> {
  const dir = join(SHARED, "golden", name, "tensors_1");
  const out = new Map<number, Uint8Array>();
  for (const f of readdirSync(dir)) {
    const m = /^t(\d+)\.bin$/.exec(f);
    if (m) out.set(Number(m[1]), readFileSync(join(dir, f)));
  }
  return out;
}

export { xorshiftBytes } from "../../host/util/xorshift.ts";
