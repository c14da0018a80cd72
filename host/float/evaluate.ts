// Measures how far an int8 model's float32 outputs are from the float model's:
// SQNR in dB over a set of inputs, and how often the top class agrees.
import type { Graph } from "../graph/graph.ts";
import type { Compiled } from "../compile.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { runFloat } from "./interpreter.ts";
import type { Sample } from "../passes/ptq.ts";
import { dumpTensors } from "../cli/run.ts";
import { sqnrDb } from "./sqnr.ts";

export { sqnrDb };

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Share of pairs whose largest element is at the same index. */
export function top1Agreement(reference: Float32Array[], test: Float32Array[]): number {
  return reference.filter((r, k) => argmax(r) === argmax(test[k])).length / reference.length;
}

/** Float32 values of a tensor's raw bytes (dequantized when int8). */
function decode(bytes: Uint8Array, t: { dtype: string; scale: number[]; zeroPoint: number[] }): Float32Array {
  if (t.dtype === "float32") return new Float32Array(new Uint8Array(bytes).buffer);
  if (t.dtype !== "int8") throw new Error(`cannot decode a ${t.dtype} tensor`);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  return Float32Array.from(q, (x) => (x - t.zeroPoint[0]) * t.scale[0]);
}

/** Raw bytes for a tensor from float32 values (quantized with TFLite's Quantize() when int8). */
function encode(v: Float32Array, t: { dtype: string; scale: number[]; zeroPoint: number[] }): Uint8Array {
  if (t.dtype === "float32") return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (t.dtype !== "int8") throw new Error(`cannot feed a ${t.dtype} input`);
  const [s, z] = [t.scale[0], t.zeroPoint[0]];
  const q = new Int8Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const x = Math.fround(v[k] / s);
    q[k] = Math.min(127, Math.max(-128, (x < 0 ? -Math.round(-x) : Math.round(x)) + z));
  }
  return new Uint8Array(q.buffer);
}

/**
 * Runs a compiled model on the host engine on float32 inputs and returns output 0 as
 * float32, whatever the model's I/O types: int8 inputs are quantized with the model's
 * input parameters and int8 outputs dequantized (a TFLite converter's int8 model), and
 * float32 ones pass through (a tinyloop PTQ model). With `probe`, also that tensor's values.
 */
export function runCompiled(c: Compiled, sample: Sample, probe?: number): { output: Float32Array; probe?: Float32Array } {
  const engine = NodeEngine.load(c.blob);
  const tensor = (i: number) => {
    const t = c.meta.tensors.find((x) => x.index === i);
    if (!t) throw new Error(`tensor ${i} is not an activation of ${c.meta.source.file}`);
    return t;
  };
  sample.forEach((v, i) => engine.setInput(encode(v, tensor(c.meta.inputs[i])), i));
  let probed: Float32Array | undefined;
  if (probe === undefined) engine.invoke();
  else probed = decode(dumpTensors(c, engine).get(probe)!, tensor(probe));
  return { output: decode(engine.output(0), tensor(c.meta.outputs[0])), probe: probed };
}

/** Output 0 of a compiled model that takes and returns float32 (a PTQ model). */
export function runCompiledFloat(c: Compiled, sample: Sample): Float32Array {
  return runCompiled(c, sample).output;
}

/** Output 0 of a compiled int8-in/int8-out model (e.g. TFLite's converter's) on float32 inputs, dequantized. */
export function runCompiledInt8(c: Compiled, sample: Sample): Float32Array {
  return runCompiled(c, sample).output;
}

/** Output 0 of the float reference on each sample. */
export function floatOutputs(g: Graph, samples: Sample[]): Float32Array[] {
  return samples.map((s) => runFloat(g, s).outputs[0]);
}
