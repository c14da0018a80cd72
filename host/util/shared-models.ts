// Locates the shared folder (real models and TFLM golden data) beside the repo.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const SHARED = resolve(process.env.TINYLOOP_SHARED ?? join(REPO, "..", "shared"));

/** The six int8 models of the shared folder, by file name without .tflite. */
export const INT8_MODELS = [
  "vww_96_int8", "pretrainedResnet_quant", "kws_ref_model", "ad01_int8", "hello_world_int8", "micro_speech_quantized",
];

export function sharedAvailable(): boolean {
  return existsSync(join(SHARED, "models"));
}

export function requireShared(): void {
  if (!sharedAvailable()) {
    throw new Error(`shared models not found at ${SHARED}/models; put the shared folder beside the repo or set TINYLOOP_SHARED`);
  }
}

export function modelPath(name: string): string {
  return join(SHARED, "models", `${name}.tflite`);
}
