// How much post-training quantization costs: for each shared float32 model, SQNR (dB)
// of its tinyloop-quantized int8 model's output against the float interpreter's, on
// seeded inputs that are not in the calibration set, beside the same figure for the int8
// model TFLite's converter made from it; then int8 against fp8 and auto weights (SQNR,
// weight flash, instructions per inference on the virtual board qemu-m4). Run directly,
// it saves bench/precision.json and rewrites the tables in docs/precision.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { importTflite } from "../import/tflite.ts";
import { compileFloatTflite, compileTflite, type Precision } from "../compile.ts";
import { withBoard, runOnBoard } from "../runners/board-runner.ts";
import type { BoardSession } from "../board/session.ts";
import { syntheticInputs } from "../float/synthetic.ts";
import { runCompiled, sqnrDb, top1Agreement } from "../float/evaluate.ts";
import { runFloat } from "../float/interpreter.ts";
import { REPO, SHARED } from "../util/shared-models.ts";

export interface PrecisionCase {
  /** Float32 model and the int8 model TFLite's converter made from it, in ../shared/models. */
  float: string;
  tflite: string;
  classifier: boolean;
}

export const PRECISION_CASES: PrecisionCase[] = [
  { float: "vww_96_float", tflite: "vww_96_int8", classifier: true },
  { float: "pretrainedResnet_float", tflite: "pretrainedResnet_quant", classifier: true },
  { float: "ad01_fp32", tflite: "ad01_int8", classifier: false },
];

export const CALIBRATION_SEED = 1, CALIBRATION_COUNT = 32;
export const TEST_SEED = 2, TEST_COUNT = 16;

export interface PrecisionRow {
  model: string;
  tflite: string;
  /** Range the synthetic inputs span: the real range of the TFLite int8 model's input. */
  inputRange: [number, number];
  calibrationInputs: number;
  testInputs: number;
  /** Output SQNR against the float interpreter, dB. */
  sqnrTinyloop: number;
  sqnrTflite: number;
  /** Share of test inputs whose top class matches float's (classifiers). */
  top1Tinyloop?: number;
  top1Tflite?: number;
  arenaTinyloop: number;
  arenaTflite: number;
  /** Classifiers: SQNR of the logits (the SOFTMAX input), dB. */
  logitsSqnrTinyloop?: number;
  logitsSqnrTflite?: number;
  quantizeMs: number;
}

const modelBytes = (name: string) => readFileSync(join(SHARED, "models", `${name}.tflite`));

/** A case's float model, the converter's int8 model, and the calibration and test inputs. */
function caseInputs(c: PrecisionCase) {
  const floatBytes = modelBytes(c.float);
  const graph = importTflite(floatBytes, c.float);
  const reference = compileTflite(modelBytes(c.tflite), c.tflite);
  // Inputs span what the converter's int8 input can represent: [0,1] for VWW, [0,255] for IC, dB levels for AD.
  const qin = reference.meta.tensors.find((t) => t.index === reference.meta.inputs[0])!;
  const lo = (-128 - qin.zeroPoint[0]) * qin.scale[0], hi = (127 - qin.zeroPoint[0]) * qin.scale[0];
  const inputRange: [number, number] = [Math.fround(lo), Math.fround(hi)];
  const shape = graph.tensors[graph.inputs[0]].shape;
  const calibration = syntheticInputs(CALIBRATION_SEED, CALIBRATION_COUNT, shape, lo, hi).map((x) => [x]);
  const test = syntheticInputs(TEST_SEED, TEST_COUNT, shape, lo, hi).map((x) => [x]);
  return { floatBytes, graph, reference, inputRange, calibration, test };
}

export function measurePrecision(c: PrecisionCase): PrecisionRow {
  const { floatBytes, graph, reference, inputRange, calibration, test } = caseInputs(c);
  const t0 = performance.now();
  const ours = compileFloatTflite(floatBytes, `${c.float}.tflite`, { calibration });
  const quantizeMs = performance.now() - t0;
  // The logits: SOFTMAX's input, the same tensor index in all three graphs.
  const softmax = graph.ops.find((op) => op.type === "SOFTMAX");
  const logits = c.classifier && softmax ? softmax.inputs[0] : undefined;
  const runs = test.map((s) => runFloat(graph, s));
  const want = runs.map((r) => r.outputs[0]);
  const got = test.map((s) => runCompiled(ours, s, logits));
  const theirs = test.map((s) => runCompiled(reference, s, logits));
  const logitsSqnr = (rs: { probe?: Float32Array }[]) =>
    logits === undefined ? undefined : sqnrDb(runs.map((r) => r.tensors.get(logits)!), rs.map((r) => r.probe!));
  return {
    model: c.float, tflite: c.tflite, inputRange, calibrationInputs: calibration.length, testInputs: test.length,
    sqnrTinyloop: sqnrDb(want, got.map((r) => r.output)), sqnrTflite: sqnrDb(want, theirs.map((r) => r.output)),
    top1Tinyloop: c.classifier ? top1Agreement(want, got.map((r) => r.output)) : undefined,
    top1Tflite: c.classifier ? top1Agreement(want, theirs.map((r) => r.output)) : undefined,
    logitsSqnrTinyloop: logitsSqnr(got), logitsSqnrTflite: logitsSqnr(theirs),
    arenaTinyloop: ours.meta.plan.arenaBytes, arenaTflite: reference.meta.plan.arenaBytes,
    quantizeMs: Math.round(quantizeMs),
  };
}

export function precisionTable(rows: PrecisionRow[]): string[] {
  const pct = (x?: number) => (x === undefined ? "-" : `${Math.round(x * 100)}%`);
  const range = (r: [number, number]) => `[${r.map((v) => +v.toFixed(2)).join(", ")}]`;
  return [
    "| float model | inputs span | output SQNR, tinyloop int8 | output SQNR, TFLite int8 | logits SQNR (tinyloop / TFLite) | top-1 agrees (tinyloop / TFLite) | arena (tinyloop / TFLite int8) |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.model} | ${range(r.inputRange)} | ${r.sqnrTinyloop.toFixed(1)} dB | ${r.sqnrTflite.toFixed(1)} dB | ` +
      `${r.logitsSqnrTinyloop === undefined ? "-" : `${r.logitsSqnrTinyloop.toFixed(1)} / ${r.logitsSqnrTflite!.toFixed(1)} dB`} | ` +
      `${pct(r.top1Tinyloop)} / ${pct(r.top1Tflite)} | ${r.arenaTinyloop.toLocaleString("en-US")} / ${r.arenaTflite.toLocaleString("en-US")} B |`),
  ];
}

/** One weight precision of one model: test SQNR, weight flash and instructions per inference on the board. */
export interface WeightPrecisionResult {
  precision: Precision;
  sqnr: number;
  weightFlashBytes: number;
  arenaBytes: number;
  fp8Layers: number;
  weightedLayers: number;
  /** Instructions per inference on BOARD (one test input; its output bytes checked equal to Node's). */
  instructions?: number;
  compileMs: number;
}
export interface WeightPrecisionRow { model: string; results: WeightPrecisionResult[] }

export const WEIGHT_PRECISIONS: Precision[] = ["int8", "fp8", "auto"];
export const BOARD = "qemu-m4";

/** int8, fp8 and auto weights of one case: compiled on the same calibration set, measured on the same test inputs. */
export async function measureWeightPrecisions(c: PrecisionCase, board?: BoardSession): Promise<WeightPrecisionRow> {
  const { floatBytes, graph, calibration, test } = caseInputs(c);
  const want = test.map((s) => runFloat(graph, s).outputs[0]);
  const results: WeightPrecisionResult[] = [];
  for (const precision of WEIGHT_PRECISIONS) {
    const t0 = performance.now();
    const compiled = compileFloatTflite(floatBytes, `${c.float}.tflite`, { calibration, precision });
    const compileMs = Math.round(performance.now() - t0);
    const weighted = compiled.meta.ops.filter((o) => o.precision);
    const result: WeightPrecisionResult = {
      precision, sqnr: sqnrDb(want, test.map((s) => runCompiled(compiled, s).output)),
      weightFlashBytes: compiled.meta.weightBytes, arenaBytes: compiled.meta.plan.arenaBytes,
      fp8Layers: weighted.filter((o) => o.precision === "fp8").length, weightedLayers: weighted.length, compileMs,
    };
    if (board) {
      const input = test[0].map((x) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      const r = await runOnBoard(board, compiled, input);
      const node = runCompiled(compiled, test[0]).output;
      if (!Buffer.from(r.outputs[0]).equals(Buffer.from(node.buffer, node.byteOffset, node.byteLength))) {
        throw new Error(`${c.float} ${precision}: the board's output differs from Node's`);
      }
      result.instructions = r.instructions;
    }
    results.push(result);
  }
  return { model: c.float, results };
}

export function weightPrecisionTable(rows: WeightPrecisionRow[]): string[] {
  const by = (r: WeightPrecisionRow, p: Precision) => r.results.find((x) => x.precision === p)!;
  const three = (r: WeightPrecisionRow, f: (x: WeightPrecisionResult) => string) => WEIGHT_PRECISIONS.map((p) => f(by(r, p))).join(" / ");
  const fmt = (n?: number) => (n === undefined ? "-" : n.toLocaleString("en-US"));
  return [
    `| float model | output SQNR, int8 / fp8 / auto | auto's fp8 layers | weight flash B, int8 / fp8 / auto | instructions on ${BOARD}, int8 / fp8 / auto |`,
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.model} | ${three(r, (x) => `${x.sqnr.toFixed(1)}`)} dB | ${by(r, "auto").fp8Layers} of ${by(r, "auto").weightedLayers} | ` +
      `${three(r, (x) => fmt(x.weightFlashBytes))} | ${three(r, (x) => fmt(x.instructions))} |`),
  ];
}

/** Replaces the text between a generated table's markers in docs/precision.md. */
function replaceBetween(doc: string, begin: string, end: string, lines: string[]): string {
  const a = doc.indexOf(begin), b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/precision.md lacks the ${begin} ... ${end} markers`);
  return doc.slice(0, a + begin.length) + "\n" + lines.join("\n") + "\n" + doc.slice(b);
}

const MARKS = {
  int8: ["<!-- precision table: generated by host/bench/precision.ts -->", "<!-- end of precision table -->"],
  weights: ["<!-- weight precision table: generated by host/bench/precision.ts -->", "<!-- end of weight precision table -->"],
} as const;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = PRECISION_CASES.map(measurePrecision);
  const table = precisionTable(rows);
  console.log(table.join("\n"));
  const weightRows = await withBoard(BOARD, {}, async (s) => {
    const out: WeightPrecisionRow[] = [];
    for (const c of PRECISION_CASES) out.push(await measureWeightPrecisions(c, s));
    return out;
  });
  const weightTable = weightPrecisionTable(weightRows);
  console.log(weightTable.join("\n"));
  writeFileSync(join(REPO, "bench", "precision.json"), JSON.stringify({
    date: new Date().toISOString(), calibration: { seed: CALIBRATION_SEED, count: CALIBRATION_COUNT },
    test: { seed: TEST_SEED, count: TEST_COUNT }, rows, board: BOARD, weightPrecisions: weightRows,
  }, null, 1) + "\n");
  const docPath = join(REPO, "docs", "precision.md");
  let doc = readFileSync(docPath, "utf8");
  doc = replaceBetween(doc, ...MARKS.int8, table);
  doc = replaceBetween(doc, ...MARKS.weights, weightTable);
  writeFileSync(docPath, doc);
  console.log("wrote bench/precision.json and the tables in docs/precision.md");
}
