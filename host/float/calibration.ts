// Calibration inputs for post-training quantization: raw float32 files given by
// the user, or seeded synthetic inputs when there are none.
import { readFileSync } from "node:fs";
import { type Graph, elementCount } from "../graph/graph.ts";
import { UnsupportedError } from "../passes/lower.ts";
import type { Sample } from "../passes/ptq.ts";
import { Rng, syntheticInput } from "./synthetic.ts";

/** A calibration file that cannot be used (missing, wrong size, not finite). */
export class CalibrationError extends UnsupportedError {}

/** How many generated inputs calibrate a model when the user gives none, and their seed. */
export const DEFAULT_CALIBRATION_COUNT = 32;
export const DEFAULT_CALIBRATION_SEED = 0x7c1b;

/**
 * Generated calibration: `count` seeded smooth random inputs per model input spanning
 * `range` (images for 4-D NHWC inputs with up to 4 channels, smooth signals otherwise).
 */
export function defaultCalibration(g: Graph, range: [number, number] = [0, 1], count = DEFAULT_CALIBRATION_COUNT, seed = DEFAULT_CALIBRATION_SEED): Sample[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => g.inputs.map((t) => syntheticInput(rng, g.tensors[t].shape, range[0], range[1])));
}

/**
 * Raw little-endian float32 files, each one input tensor. A model with N inputs takes
 * the files N at a time: file k is input k % N of sample floor(k / N).
 */
export function readCalibration(g: Graph, files: string[]): Sample[] {
  const n = g.inputs.length;
  if (files.length % n !== 0) throw new CalibrationError(`the model has ${n} inputs, so --calibration needs a multiple of ${n} files; ${files.length} given`);
  const samples: Sample[] = [];
  files.forEach((file, k) => {
    const t = g.tensors[g.inputs[k % n]];
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new CalibrationError(`cannot read calibration input ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const need = elementCount(t.shape) * 4;
    if (bytes.length !== need) {
      throw new CalibrationError(`calibration input ${file} has ${bytes.length} bytes; input ${k % n} ("${t.name}", float32 [${t.shape}]) needs exactly ${need} raw float32 bytes`);
    }
    const values = new Float32Array(new Uint8Array(bytes).buffer);
    if (values.some((v) => !Number.isFinite(v))) throw new CalibrationError(`calibration input ${file} holds values that are not finite`);
    if (k % n === 0) samples.push([]);
    samples[samples.length - 1].push(values);
  });
  return samples;
}
