// fp8 weights through the whole compiled path: float models compiled with --precision
// fp8 run in the engine (records, streamed tiles, kernels) and must give, byte for byte,
// what an f32 computation written here independently gives from the op's int8 input;
// the E4M3 encoder against the OCP reference; and --precision auto's promise (at least as
// close to float as the better of int8 and fp8, in no more flash and arena than int8).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTflite, type TensorDesc, type OptionValue } from "./tflite-writer.ts";
import { refDecode, refEncode } from "./fp8-reference.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { compileFloatTflite, type Compiled } from "../../host/compile.ts";
import { e4m3Encode, quantizeFp8Weights } from "../../host/passes/fp8-weights.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { EngineError } from "../../host/runners/engine-status.ts";
import { RECORDS, HEADER_FIELDS, OPCODES, FP8_OPS, STATUS } from "../../host/format/spec.ts";
import { dumpTensors } from "../../host/cli/run.ts";
import { runFloat } from "../../host/float/interpreter.ts";
import { syntheticInputs, Rng } from "../../host/float/synthetic.ts";
import { sqnrDb, runCompiledFloat } from "../../host/float/evaluate.ts";
import { REPO, modelPath, requireShared } from "./shared.ts";

const f = Math.fround;
const E4M3 = 0;

test("E4M3 encoder: nearest code, ties to even, saturating, for every midpoint and value", () => {
  const values: number[] = [0, 1e-9, 500, 448, 449, 1e30];
  for (let c = 0; c < 0x7e; c++) {
    const lo = refDecode(E4M3, c), hi = refDecode(E4M3, c + 1);
    values.push(lo, (lo + hi) / 2, lo + (hi - lo) * 0.49, lo + (hi - lo) * 0.51);
  }
  for (const v of values.flatMap((x) => [x, -x])) {
    assert.equal(e4m3Encode(v), refEncode(E4M3, f(v)), `${v}`);
  }
});

/** A one-op float model: input, constant filter and bias, output. */
function oneOpModel(type: string, input: number[], filter: number[], w: Float32Array, bias: Float32Array, output: number[], options: Record<string, OptionValue>): Uint8Array {
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer.slice(0));
  const tensors: TensorDesc[] = [
    { shape: input, dtype: "float32" },
    { shape: filter, dtype: "float32", data: bytes(w) },
    { shape: [bias.length], dtype: "float32", data: bytes(bias) },
    { shape: output, dtype: "float32" },
  ];
  return writeTflite({ tensors, ops: [{ type, inputs: [0, 1, 2], outputs: [3], options }], inputs: [0], outputs: [3] });
}

/** Weights whose channels' largest magnitudes are `spread` apart (1: all channels share one maximum). */
function weights(rng: Rng, n: number, channels: number, channelOf: (i: number) => number, spread: number): Float32Array {
  const mag = Array.from({ length: channels }, (_, c) => spread ** (c / Math.max(1, channels - 1)));
  const w = Float32Array.from({ length: n }, (_, i) => (rng.next() - 0.5) * mag[channelOf(i)]);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) if (!seen.has(channelOf(i))) { seen.add(channelOf(i)); w[i] = mag[channelOf(i)]; }
  return w;
}

interface Geometry { inH: number; inW: number; inC: number; outH: number; outW: number; outC: number; kH: number; kW: number; sH: number; sW: number; dH: number; dW: number; pH: number; pW: number; dm: number; batches: number }

/** The fp8 op's documented arithmetic (assembly/kernels/fp8/params.ts), written out in f32. */
function reference(kind: string, g: Geometry, x: Int8Array, zpIn: number, inScale: number, codes: Uint8Array, scales: Float32Array,
  bias: Float32Array, outScale: number, zpOut: number, act: [number, number]): Int8Array {
  const perChannel = codes.length / g.outC;
  const wAt = (oc: number, k: number) => refDecode(E4M3, codes[oc * perChannel + k]);
  const scaleOf = (oc: number) => f(f(inScale) * scales[scales.length === 1 ? 0 : oc]);
  const quantize = (y: number) => {
    const r = f(y / outScale);
    const q = Math.sign(r) * Math.round(Math.abs(r)) + zpOut; // half away from zero
    return Math.min(act[1], Math.max(act[0], q));
  };
  const out = new Int8Array(kind === "FULLY_CONNECTED" ? g.batches * g.outC : g.outH * g.outW * g.outC);
  if (kind === "FULLY_CONNECTED") {
    for (let b = 0; b < g.batches; b++) for (let oc = 0; oc < g.outC; oc++) {
      let acc = 0;
      for (let i = 0; i < g.inC; i++) acc = f(acc + f((x[b * g.inC + i] - zpIn) * wAt(oc, i)));
      out[b * g.outC + oc] = quantize(f(f(acc * scaleOf(oc)) + bias[oc]));
    }
    return out;
  }
  for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) for (let oc = 0; oc < g.outC; oc++) {
    let acc = 0;
    for (let ky = 0; ky < g.kH; ky++) for (let kx = 0; kx < g.kW; kx++) {
      const iy = oy * g.sH - g.pH + ky * g.dH, ix = ox * g.sW - g.pW + kx * g.dW;
      if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;
      const at = (iy * g.inW + ix) * g.inC;
      if (kind === "DEPTHWISE_CONV_2D") {
        acc = f(acc + f((x[at + Math.floor(oc / g.dm)] - zpIn) * wAt(oc, ky * g.kW + kx)));
      } else {
        for (let ic = 0; ic < g.inC; ic++) acc = f(acc + f((x[at + ic] - zpIn) * wAt(oc, (ky * g.kW + kx) * g.inC + ic)));
      }
    }
    out[(oy * g.outW + ox) * g.outC + oc] = quantize(f(f(acc * scaleOf(oc)) + bias[oc]));
  }
  return out;
}

const CASES: { name: string; type: string; g: Geometry; options: Record<string, OptionValue>; spread: number; act: [number, number] }[] = [
  // SAME padding puts an odd total after: 7 rows pad 1 before, 6 columns pad 0 before (and 1 after).
  { name: "CONV_2D 3x3 stride 2 SAME, RELU6, channels 10^4 apart (per-channel scales)", type: "CONV_2D",
    g: { inH: 7, inW: 6, inC: 16, outH: 4, outW: 3, outC: 32, kH: 3, kW: 3, sH: 2, sW: 2, dH: 1, dW: 1, pH: 1, pW: 0, dm: 1, batches: 1 },
    options: { padding: "SAME", strideH: 2, strideW: 2, activation: "RELU6" }, spread: 1e-4, act: [0, 6] as [number, number] },
  { name: "CONV_2D 3x3 dilation 2 VALID (one scale for the tensor)", type: "CONV_2D",
    g: { inH: 7, inW: 7, inC: 4, outH: 3, outW: 3, outC: 24, kH: 3, kW: 3, sH: 1, sW: 1, dH: 2, dW: 2, pH: 0, pW: 0, dm: 1, batches: 1 },
    options: { padding: "VALID", strideH: 1, strideW: 1, dilationH: 2, dilationW: 2 }, spread: 1, act: [-Infinity, Infinity] as [number, number] },
  { name: "DEPTHWISE_CONV_2D 3x3 multiplier 2 SAME", type: "DEPTHWISE_CONV_2D",
    g: { inH: 5, inW: 5, inC: 4, outH: 5, outW: 5, outC: 8, kH: 3, kW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pH: 1, pW: 1, dm: 2, batches: 1 },
    options: { padding: "SAME", strideH: 1, strideW: 1, depthMultiplier: 2 }, spread: 30, act: [-Infinity, Infinity] as [number, number] },
  { name: "FULLY_CONNECTED, 2 batches, RELU", type: "FULLY_CONNECTED",
    g: { inH: 1, inW: 1, inC: 40, outH: 1, outW: 1, outC: 12, kH: 1, kW: 1, sH: 1, sW: 1, dH: 1, dW: 1, pH: 0, pW: 0, dm: 1, batches: 2 },
    options: { activation: "RELU" }, spread: 1, act: [0, Infinity] as [number, number] },
];

for (const k of CASES) {
  test(`fp8 compiled path, byte-exact against the f32 reference: ${k.name}`, () => {
    const { g } = k, rng = new Rng(7);
    const fc = k.type === "FULLY_CONNECTED", dw = k.type === "DEPTHWISE_CONV_2D";
    const inShape = fc ? [g.batches, g.inC] : [1, g.inH, g.inW, g.inC];
    const outShape = fc ? [g.batches, g.outC] : [1, g.outH, g.outW, g.outC];
    const filterShape = fc ? [g.outC, g.inC] : dw ? [1, g.kH, g.kW, g.outC] : [g.outC, g.kH, g.kW, g.inC];
    const perChannel = fc ? g.inC : dw ? g.kH * g.kW : g.kH * g.kW * g.inC;
    const channelOf = (i: number) => (dw ? i % g.outC : Math.floor(i / perChannel));
    const w = weights(rng, g.outC * perChannel, g.outC, channelOf, k.spread);
    const bias = Float32Array.from({ length: g.outC }, () => rng.next() - 0.5);
    const bytes = oneOpModel(k.type, inShape, filterShape, w, bias, outShape, k.options);
    const samples = syntheticInputs(3, 8, inShape, -1, 1).map((s) => [s]);
    const c = compileFloatTflite(bytes, "one.tflite", { precision: "fp8", calibration: samples });
    const op = c.meta.ops.find((o) => o.precision === "fp8");
    assert.equal(op?.kind, `${k.type}_FP8`);
    if (k.type === "CONV_2D") assert.ok(op.tileCh! < g.outC, `weights streamed in several tiles (tileCh ${op.tileCh})`);

    // The codes and scales lower() stores: channel-major weights through the same quantizer.
    const major = dw ? Float32Array.from({ length: w.length }, (_, i) => w[(i % perChannel) * g.outC + Math.floor(i / perChannel)]) : w;
    const q = quantizeFp8Weights(major, g.outC, perChannel);
    assert.equal(q.perChannelScale, k.spread !== 1, "per-channel scales exactly when channels differ");
    const t = (i: number) => c.meta.tensors.find((x) => x.index === i)!;
    const [tin, tout] = [t(op.inputs[0]), t(op.outputs[0])];
    const act = k.act.map((a) => Math.min(127, Math.max(-128, tout.zeroPoint[0] + (Number.isFinite(a) ? Math.round(a / tout.scale[0]) : Math.sign(a) * 999)))) as [number, number];

    const floatWant: Float32Array[] = [], got: Float32Array[] = [];
    for (const s of [...samples, ...syntheticInputs(4, 4, inShape, -1.2, 1.2).map((x) => [x])]) {
      const engine = NodeEngine.load(c.blob);
      engine.setInput(new Uint8Array(s[0].buffer));
      const tensors = dumpTensors(c, engine);
      const x = new Int8Array(tensors.get(tin.index)!.slice().buffer);
      const want = reference(k.type, g, x, tin.zeroPoint[0], tin.scale[0], q.codes, q.scales, bias, tout.scale[0], tout.zeroPoint[0], act);
      assert.deepEqual(new Int8Array(tensors.get(tout.index)!.slice().buffer), want);
      floatWant.push(runFloat(importTflite(bytes), s).outputs[0]);
      got.push(new Float32Array(engine.output(0).slice().buffer));
    }
    assert.ok(sqnrDb(floatWant, got) > 15, `close to float: ${sqnrDb(floatWant, got).toFixed(1)} dB`);
  });
}

/** The blob offset of field `field` of the first fp8 op record. */
function fp8Field(blob: Uint8Array, field: (typeof RECORDS.Fp8Params)[number]): number {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const word = (f: (typeof HEADER_FIELDS)[number]) => dv.getUint32(4 * HEADER_FIELDS.indexOf(f), true);
  for (let at = word("opsOffset"), k = 0; k < word("opCount"); k++, at += dv.getInt32(at + 4, true)) {
    if (FP8_OPS.some((op) => OPCODES[op] === dv.getInt32(at, true))) return at + 8 + 4 * RECORDS.Fp8Params.indexOf(field);
  }
  throw new Error("no fp8 op");
}

test("a damaged fp8 record is refused with a status, never run", () => {
  const g: Geometry = { inH: 1, inW: 1, inC: 8, outH: 1, outW: 1, outC: 4, kH: 1, kW: 1, sH: 1, sW: 1, dH: 1, dW: 1, pH: 0, pW: 0, dm: 1, batches: 1 };
  const rng = new Rng(3);
  const bytes = oneOpModel("FULLY_CONNECTED", [1, g.inC], [g.outC, g.inC], weights(rng, 32, 4, (i) => i >> 3, 3),
    new Float32Array(4), [1, g.outC], {});
  const { blob } = compileFloatTflite(bytes, "fc.tflite", { precision: "fp8", calibration: syntheticInputs(1, 4, [1, 8], -1, 1).map((x) => [x]) });
  const damaged: [(typeof RECORDS.Fp8Params)[number], number, number][] = [
    ["perChannelScale", 2, STATUS.BAD_RECORD],
    ["tileBuf", 1 << 20, STATUS.OUT_OF_ARENA],
    ["output", 1 << 20, STATUS.OUT_OF_ARENA],
    ["inScaleBits", 0x7fc00000, STATUS.KERNEL], // NaN scale
    ["weightFormat", 7, STATUS.KERNEL],
  ];
  for (const [field, value, status] of damaged) {
    const bad = blob.slice();
    new DataView(bad.buffer).setInt32(fp8Field(bad, field), value, true);
    const engine = NodeEngine.load(bad);
    engine.setInput(new Uint8Array(32));
    assert.throws(() => engine.invoke(), (e: Error) => e instanceof EngineError && e.status === status, field);
  }
});

test("an fp8 fully connected layer streamed in pieces: same bytes as whole channels, in int8's arena", () => {
  // 16 -> 512 -> 2: the second layer's 520-byte channels do not fit beside its input under the
  // peak the first layer sets, so its channels are read a piece at a time.
  const rng = new Rng(11);
  const f32 = (n: number, s: number) => new Uint8Array(Float32Array.from({ length: n }, () => (rng.next() - 0.5) * s).buffer);
  const bytes = writeTflite({
    tensors: [
      { shape: [1, 16], dtype: "float32" },
      { shape: [512, 16], dtype: "float32", data: f32(512 * 16, 1) },
      { shape: [512], dtype: "float32", data: f32(512, 0.1) },
      { shape: [1, 512], dtype: "float32" },
      { shape: [2, 512], dtype: "float32", data: f32(2 * 512, 0.2) },
      { shape: [2], dtype: "float32", data: f32(2, 0.1) },
      { shape: [1, 2], dtype: "float32" },
    ],
    ops: [
      { type: "FULLY_CONNECTED", inputs: [0, 1, 2], outputs: [3], options: { activation: "RELU" } },
      { type: "FULLY_CONNECTED", inputs: [3, 4, 5], outputs: [6], options: {} },
    ],
    inputs: [0], outputs: [6],
  });
  const calibration = syntheticInputs(1, 8, [1, 16], -1, 1).map((x) => [x]);
  const build = (precision: "int8" | "fp8", minTileBytes?: number) => compileFloatTflite(bytes, "two.tflite", { precision, calibration, minTileBytes });
  const [chunked, whole, int8] = [build("fp8"), build("fp8", 1 << 20), build("int8")];
  const last = chunked.meta.ops.filter((o) => o.kind === "FULLY_CONNECTED_FP8").at(-1)!;
  assert.ok(last.inChunk! < 512, `the second layer is read in pieces (inChunk ${last.inChunk})`);
  assert.ok(chunked.meta.plan.arenaBytes <= int8.meta.plan.arenaBytes, `${chunked.meta.plan.arenaBytes} > ${int8.meta.plan.arenaBytes}`);
  assert.ok(chunked.meta.plan.arenaBytes < whole.meta.plan.arenaBytes);
  for (const s of syntheticInputs(9, 6, [1, 16], -1.5, 1.5)) {
    assert.deepEqual(runCompiledFloat(chunked, [s]), runCompiledFloat(whole, [s]));
  }
});

/** Output SQNR against float on seeded inputs outside the calibration set. */
function testSqnr(c: Compiled, floatBytes: Uint8Array, shape: number[], range: [number, number]): number {
  const g = importTflite(floatBytes);
  const inputs = syntheticInputs(2, 16, shape, ...range).map((x) => [x]);
  return sqnrDb(inputs.map((s) => runFloat(g, s).outputs[0]), inputs.map((s) => runCompiledFloat(c, s)));
}

const AUTO_CASES: { model: string; range: [number, number] }[] = [
  { model: "ad01_fp32", range: [-84.85, 14.86] },
  { model: "vww_96_float", range: [0, 1] },
];

for (const { model, range } of AUTO_CASES) {
  test(`--precision auto on ${model}: as close to float as the better of int8 and fp8, in int8's flash and arena`, { timeout: 300_000 }, (t) => {
    requireShared();
    const bytes = readFileSync(modelPath(model));
    const shape = importTflite(bytes).tensors[importTflite(bytes).inputs[0]].shape;
    const calibration = syntheticInputs(1, 32, shape, ...range).map((x) => [x]);
    const build = (precision: "int8" | "fp8" | "auto") => compileFloatTflite(bytes, `${model}.tflite`, { precision, calibration });
    const [int8, fp8, auto] = [build("int8"), build("fp8"), build("auto")];
    const [s8, sf, sa] = [int8, fp8, auto].map((c) => testSqnr(c, bytes, shape, range));
    t.diagnostic(`test SQNR int8 ${s8.toFixed(2)}, fp8 ${sf.toFixed(2)}, auto ${sa.toFixed(2)} dB; weights ${int8.meta.weightBytes} / ${fp8.meta.weightBytes} / ${auto.meta.weightBytes} B`);
    assert.ok(sa >= Math.max(s8, sf) - 0.05, `auto ${sa} dB against int8 ${s8} and fp8 ${sf}`);
    assert.ok(auto.meta.weightBytes <= int8.meta.weightBytes);
    assert.ok(auto.meta.plan.arenaBytes <= int8.meta.plan.arenaBytes);
    const report = auto.meta.auto!;
    assert.ok(report.calibrationSqnrDb.auto >= Math.max(report.calibrationSqnrDb.int8, report.calibrationSqnrDb.fp8) || report.fp8Build.flashBytes > report.budget.flashBytes || report.fp8Build.arenaBytes > report.budget.arenaBytes);
    // The report says what the .tlm holds.
    const fp8Layers = report.layers.filter((l) => l.precision === "fp8").length;
    assert.equal(auto.meta.ops.filter((o) => o.precision === "fp8").length, fp8Layers);
  });
}

test("--precision auto keeps to a flash budget below int8's", () => {
  requireShared();
  const bytes = readFileSync(modelPath("ad01_fp32"));
  const calibration = syntheticInputs(1, 8, [1, 640], -84.85, 14.86).map((x) => [x]);
  const int8 = compileFloatTflite(bytes, "ad01_fp32.tflite", { precision: "int8", calibration });
  const flashBytes = int8.meta.weightBytes - 3000; // only reachable with some layers in fp8
  const auto = compileFloatTflite(bytes, "ad01_fp32.tflite", { precision: "auto", calibration, budget: { flashBytes, arenaBytes: 1 << 20 } });
  assert.ok(auto.meta.weightBytes <= flashBytes, `${auto.meta.weightBytes} > ${flashBytes}`);
  assert.ok(auto.meta.ops.some((o) => o.precision === "fp8"));
});

function tinyloop(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, "bin/tinyloop.mjs"), ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("CLI: compile --precision fp8 and auto, inspect --json shows each layer's precision, a bad precision is a usage error", () => {
  requireShared();
  const tmp = mkdtempSync(join(tmpdir(), "tl-fp8-"));
  const model = modelPath("ad01_fp32");
  let r = tinyloop("compile", model, "--precision", "fp8", "--input-range=-80,10", "-o", join(tmp, "fp8.tlm"));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /weights {6}0 layers int8, 10 layers fp8 \(E4M3\)/);
  r = tinyloop("compile", model, "--precision", "auto", "--input-range=-80,10", "-o", join(tmp, "auto.tlm"));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /auto {9}calibration SQNR: int8 [\d.]+ dB, fp8 [\d.]+ dB, auto [\d.]+ dB/);
  assert.match(r.out, /op {3}0 FULLY_CONNECTED {3}(int8|fp8)/);
  r = tinyloop("inspect", join(tmp, "auto.tlm"), "--json");
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.auto.layers.length, 10);
  assert.deepEqual(j.ops.filter((o: { precision: string | null }) => o.precision).map((o: { precision: string }) => o.precision),
    j.auto.layers.map((l: { precision: string }) => l.precision));
  r = tinyloop("compile", model, "--precision", "fp9", "-o", join(tmp, "x.tlm"));
  assert.equal(r.code, 2);
  assert.match(r.err, /--precision must be one of int8, fp8, auto, not "fp9"/);
  r = tinyloop("compile", model, "--precision", "int8", "--flash-budget", "1000", "-o", join(tmp, "x.tlm"));
  assert.equal(r.code, 2);
  assert.match(r.err, /--flash-budget is for --precision auto/);
});
