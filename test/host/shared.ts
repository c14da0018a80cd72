// Locates ../shared (real models and TFLM golden data) for tests and benchmarks.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const SHARED = resolve(process.env.TINYLOOP_SHARED ?? join(REPO, "..", "shared"));

export function requireShared(): void {
  if (!existsSync(join(SHARED, "models"))) {
    throw new Error(`shared models not found at ${SHARED}/models; put the shared folder beside the repo or set TINYLOOP_SHARED`);
  }
}

export const INT8_MODELS = [
  "vww_96_int8", "pretrainedResnet_quant", "kws_ref_model", "ad01_int8", "hello_world_int8", "micro_speech_quantized",
];

export function modelPath(name: string): string {
  return join(SHARED, "models", `${name}.tflite`);
}

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

/** The golden input generator described in meta.json: xorshift32, byte i = low 8 bits after step i+1. */
export function xorshiftBytes(seed: number, n: number): Uint8Array {
  let x = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
