// `tinyloop hil --board B [MODELS...] [--junit FILE]`: hardware in the loop. Every model
// runs on the board and in Node on the same inputs; outputs must be byte-identical.
// On a mismatch the board is stepped op by op to name the first tensor that differs.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import junitModule, { type Builder } from "junit-report-builder";
import { loadModel, type Compiled } from "../compile.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { withBoard, invokeOnBoard } from "../runners/board-runner.ts";
import type { BoardSession, OpenOptions } from "../board/session.ts";
import { dumpTensors } from "./run.ts";
import { INT8_MODELS, SHARED, modelPath, sharedAvailable } from "../util/shared-models.ts";
import { xorshiftBytes } from "../util/xorshift.ts";
import { UsageError } from "./errors.ts";

export interface HilCase {
  model: string;
  input: string;
  ok: boolean;
  message: string;
  cycles: number;
  seconds: number;
}

/** The models to check: those named, else the shared int8 models. */
export function hilModels(named: string[]): string[] {
  if (named.length) return named;
  if (!sharedAvailable()) throw new UsageError(`name the models to check (no shared models at ${SHARED}/models)`);
  return INT8_MODELS.map(modelPath);
}

/** Golden inputs shipped with a shared model, then `extra` generated ones. */
function inputsFor(c: Compiled, modelFile: string, extra: number): { name: string; bytes: Uint8Array[] }[] {
  const sizes = c.meta.inputs.map((t) => c.meta.tensors.find((x) => x.index === t)!.bytes);
  const out: { name: string; bytes: Uint8Array[] }[] = [];
  const golden = join(SHARED, "golden", basename(modelFile).replace(/\.(tflite|tlm)$/, ""));
  if (sizes.length === 1 && existsSync(golden)) {
    for (const f of readdirSync(golden).filter((f) => /^input_\d+\.bin$/.test(f)).sort()) {
      const bytes = readFileSync(join(golden, f));
      if (bytes.length === sizes[0]) out.push({ name: f, bytes: [bytes] });
    }
  }
  for (let k = 0; k < extra; k++) out.push({ name: `xorshift-${1000 + k}`, bytes: sizes.map((n, i) => xorshiftBytes(1000 + k + 7919 * i, n)) });
  return out;
}

const differs = (a: Uint8Array, b: Uint8Array) => a.length !== b.length || a.some((v, i) => v !== b[i]);

/** Steps both runners op by op and names the first tensor whose bytes differ. */
export async function firstDifference(c: Compiled, s: Pick<BoardSession, "dumpTensors">, inputs: Uint8Array[]): Promise<string> {
  const host = NodeEngine.load(c.blob);
  inputs.forEach((d, i) => host.setInput(d, i));
  const want = dumpTensors(c, host);
  const got = await s.dumpTensors(c.meta, inputs);
  const order = [c.meta.readyBeforeOps, ...c.meta.ops.map((o) => o.readyAfter)];
  for (let step = 0; step < order.length; step++) {
    for (const t of order[step]) {
      const a = want.get(t)!, b = got.get(t);
      if (!b || differs(a, b)) {
        const name = c.meta.tensors.find((x) => x.index === t)?.name ?? "";
        if (step === 0) return `input tensor t${t} ("${name}") already differs on the board`;
        const op = c.meta.ops[step - 1];
        const at = b ? a.findIndex((v, i) => v !== b[i]) : -1;
        return `first differing tensor t${t} ("${name}"), written by op ${step - 1} (${op.kind}, TFLite op ${op.source})` +
          (at >= 0 ? `, byte ${at}: host ${(a[at] << 24) >> 24}, board ${(b![at] << 24) >> 24}` : "");
      }
    }
  }
  return "outputs differ but every tensor matched when stepped op by op (a difference between invoke and step paths)";
}

/** `load` compiles each model (default: as given; the CLI passes its --precision). */
export async function hil(board: string, models: string[], extraInputs: number, log: (line: string) => void, open: OpenOptions = {},
  load: (file: string) => Compiled = (f) => loadModel(f)): Promise<HilCase[]> {
  const cases: HilCase[] = [];
  await withBoard(board, open, async (s) => {
    for (const file of models) {
      const c = load(file);
      const loaded = await s.loadModel(c.blob);
      for (const input of inputsFor(c, file, extraInputs)) {
        const t0 = performance.now();
        const host = NodeEngine.load(c.blob);
        input.bytes.forEach((d, i) => host.setInput(d, i));
        host.invoke();
        const r = await invokeOnBoard(s, input.bytes, loaded.numOutputs);
        const mismatch = r.outputs.findIndex((o, i) => differs(o, host.output(i)));
        const message = mismatch < 0 ? "byte-identical" : `output ${mismatch} differs: ${await firstDifference(c, s, input.bytes)}`;
        const kase = { model: basename(file), input: input.name, ok: mismatch < 0, message, cycles: r.cycles, seconds: (performance.now() - t0) / 1000 };
        cases.push(kase);
        log(`${kase.ok ? "PASS" : "FAIL"} ${kase.model} ${kase.input}: ${message}`);
      }
    }
  });
  return cases;
}

export function writeJunit(file: string, board: string, cases: HilCase[]): void {
  // The package is CommonJS: at run time its default import is the builder itself.
  const builder = (junitModule as unknown as Builder).newBuilder();
  const suite = builder.testSuite().name(`tinyloop hil ${board}`);
  for (const k of cases) {
    const tc = suite.testCase().className(`hil.${board}.${k.model}`).name(k.input).time(k.seconds);
    if (!k.ok) tc.failure(k.message);
  }
  try {
    writeFileSync(file, builder.build());
  } catch (e) {
    throw new UsageError(`cannot write JUnit report ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
