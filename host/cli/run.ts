// `tinyloop run MODEL --input IN.bin --output OUT.bin [--dump DIR]` on the host engine.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Compiled } from "../compile.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { UsageError } from "./errors.ts";

export function readInputs(c: Compiled, files: string[]): Uint8Array[] {
  if (files.length !== c.meta.inputs.length) {
    throw new UsageError(`the model has ${c.meta.inputs.length} input(s) but ${files.length} --input file(s) were given`);
  }
  return files.map((f, i) => {
    let data: Uint8Array;
    try {
      data = readFileSync(f);
    } catch (e) {
      throw new UsageError(`cannot read input ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const t = c.meta.tensors.find((x) => x.index === c.meta.inputs[i])!;
    if (data.length !== t.bytes) {
      throw new UsageError(`input ${f} has ${data.length} bytes; the model's input ${i} ("${t.name}", ${t.dtype} [${t.shape}]) needs exactly ${t.bytes} raw bytes`);
    }
    return data;
  });
}

/** Runs once on the host; with `dumpDir`, writes every activation tensor as DIR/t<INDEX>.bin plus DIR/index.json. */
export function runOnHost(c: Compiled, inputs: Uint8Array[], dumpDir?: string): { outputs: Uint8Array[]; peakBytes: number } {
  const engine = NodeEngine.load(c.blob);
  inputs.forEach((d, i) => engine.setInput(d, i));
  if (!dumpDir) {
    engine.invoke();
  } else {
    mkdirSync(dumpDir, { recursive: true });
    for (const [t, bytes] of dumpTensors(c, engine)) writeFileSync(join(dumpDir, `t${t}.bin`), bytes);
    const index = c.meta.tensors.map((t) => ({ index: t.index, name: t.name, shape: t.shape, dtype: t.dtype, scale: t.scale, zeroPoint: t.zeroPoint, file: `t${t.index}.bin` }));
    writeFileSync(join(dumpDir, "index.json"), JSON.stringify({ model: c.meta.source.file, tensors: index }, null, 1));
  }
  return { outputs: Array.from({ length: engine.numOutputs }, (_, i) => engine.output(i)), peakBytes: engine.peakBytes };
}

/** Runs op by op on an engine whose inputs are set, copying each activation tensor as soon as it is final. */
export function dumpTensors(c: Compiled, engine: NodeEngine): Map<number, Uint8Array> {
  const byIndex = new Map(c.meta.tensors.map((t) => [t.index, t]));
  const out = new Map<number, Uint8Array>();
  const take = (ts: number[]) => ts.forEach((t) => out.set(t, engine.arenaSlice(byIndex.get(t)!.offset, byIndex.get(t)!.bytes)));
  take(c.meta.readyBeforeOps);
  engine.invokeStepwise((op) => take(c.meta.ops[op].readyAfter));
  return out;
}

export function writeOutputs(files: string[], outputs: Uint8Array[]): void {
  if (files.length !== outputs.length) {
    throw new UsageError(`the model has ${outputs.length} output(s) but ${files.length} --output file(s) were given`);
  }
  files.forEach((f, i) => {
    try {
      writeFileSync(f, outputs[i]);
    } catch (e) {
      throw new UsageError(`cannot write output ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}
