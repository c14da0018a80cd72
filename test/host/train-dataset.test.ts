// Data sets for training (host/train/dataset.ts): IDX and CSV loading, every error a user can cause, fitting a
// sample to a model input (pad, resize, channels, range, int8), and the seeded iteration helpers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  loadDataset, readIdx, sampleAt, fitToInput, fitToFloatInput, permutation, planTrain, epochOrder, firstIndices, checkClasses,
  DatasetError, FASHION_MNIST_DIR, type Sample,
} from "../../host/train/dataset.ts";
import { importTflite } from "../../host/import/tflite.ts";
import { runFloat } from "../../host/float/interpreter.ts";
import { modelPath, goldenRuns } from "./shared.ts";

const tmp = mkdtempSync(join(tmpdir(), "tl-dataset-"));
let dirs = 0;
function dir(files: Record<string, Uint8Array | string>): string {
  const d = join(tmp, `d${dirs++}`);
  mkdirSync(d);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(d, name), body);
  return d;
}

function idx(magic: number, dims: number[], data: number[], extra = 0): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length + data.length + extra);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, magic);
  dims.forEach((d, k) => dv.setUint32(4 + 4 * k, d));
  b.set(data, 4 + 4 * dims.length);
  return b;
}
const images = (n: number, h: number, w: number, first = 0) => idx(0x803, [n, h, w], Array.from({ length: n * h * w }, (_, i) => (first + i) % 256));
const labels = (ls: number[]) => idx(0x801, [ls.length], ls);

/** A small IDX set: 3 train and 2 test images of 2x3; train gzipped, test raw. */
function idxFiles(): Record<string, Uint8Array> {
  return {
    "train-images-idx3-ubyte.gz": gzipSync(images(3, 2, 3)),
    "train-labels-idx1-ubyte.gz": gzipSync(labels([1, 0, 2])),
    "t10k-images-idx3-ubyte": images(2, 2, 3, 100),
    "t10k-labels-idx1-ubyte": labels([2, 1]),
  };
}

test("a directory of IDX files, gzipped or not", async () => {
  const ds = await loadDataset(dir(idxFiles()));
  assert.equal(ds.format, "idx");
  assert.deepEqual([ds.height, ds.width, ds.channels, ds.classes, ds.train.count, ds.test.count], [2, 3, 1, 3, 3, 2]);
  assert.deepEqual(ds.valueRange, [0, 255]);
  assert.deepEqual(Array.from(ds.train.labels), [1, 0, 2]);
  const s = sampleAt(ds, ds.test, 1);
  assert.deepEqual(Array.from(s.values), [106, 107, 108, 109, 110, 111]);
  assert.equal(s.label, 1);
  assert.match(ds.test.origin(1), /t10k-images-idx3-ubyte #1$/);
  // MNIST mirrors' names: test- for t10k-, a dot before idx
  const alt = await loadDataset(dir({
    "train-images.idx3-ubyte": images(3, 2, 3), "train-labels.idx1-ubyte": labels([1, 0, 2]),
    "test-images.idx3-ubyte": images(2, 2, 3), "test-labels.idx1-ubyte": labels([2, 1]),
  }));
  assert.equal(alt.test.count, 2);
});

test("IDX errors name the file and the problem", async () => {
  const bad = async (change: Record<string, Uint8Array>, re: RegExp, remove?: string) => {
    const files: Record<string, Uint8Array> = { ...idxFiles(), ...change };
    if (remove) delete files[remove];
    await assert.rejects(loadDataset(dir(files)), (e: Error) => e instanceof DatasetError && re.test(e.message), String(re));
  };
  await bad({}, /t10k-labels-idx1-ubyte\[\.gz\] is missing; an IDX data set needs/, "t10k-labels-idx1-ubyte");
  await bad({ "t10k-images-idx3-ubyte": idx(0x804, [2, 2, 3], new Array(12).fill(0)) }, /t10k-images-idx3-ubyte: bad magic 0x00000804, expected 0x00000803 \(IDX images/);
  await bad({ "t10k-labels-idx1-ubyte": images(2, 1, 1) }, /bad magic 0x00000803, expected 0x00000801 \(IDX labels/);
  await bad({ "t10k-images-idx3-ubyte": images(2, 2, 3).subarray(0, 20) }, /truncated: 4 data bytes but the header's dimensions \[2,2,3\] need 12; download or reinstall/);
  await bad({ "t10k-images-idx3-ubyte": new Uint8Array([0, 0, 8, 3, 0]) }, /truncated IDX header/);
  await bad({ "t10k-labels-idx1-ubyte": idx(0x801, [2], [2, 1], 3) }, /3 bytes beyond/);
  await bad({ "train-labels-idx1-ubyte.gz": gzipSync(labels([1, 0])) }, /train-images-idx3-ubyte.gz has 3 images but train-labels-idx1-ubyte.gz has 2 labels/);
  await bad({ "train-images-idx3-ubyte.gz": gzipSync(images(3, 2, 3)).subarray(0, 15) }, /corrupt gzip data/);
  await bad({ "t10k-images-idx3-ubyte": images(2, 3, 2) }, /train images are 2x3 but t10k images 3x2/);
  await bad({ "train-images-idx3-ubyte": images(3, 2, 3) }, /more than one file could be train-images/);
  await assert.rejects(loadDataset(dir(idxFiles()), { classes: 2 }), /train-labels-idx1-ubyte.gz #2: label 2 is out of range: the model has 2 classes \(0..1\)/);
  const ds = await loadDataset(dir(idxFiles()));
  assert.throws(() => checkClasses(ds, 2), /label 2 is out of range/);
  checkClasses(ds, 10);
  await assert.rejects(loadDataset(join(tmp, "nope")), /data set ".*nope" not found: pass --data fashion-mnist/);
  await assert.rejects(loadDataset(dir({ "x.txt": "hi" })), /holds neither IDX files .* nor .csv files/);
  await assert.rejects(loadDataset(join(dir(idxFiles()), "t10k-labels-idx1-ubyte")), /is a file; pass the directory/);
});

test("a directory of CSV files: header skipped, test*.csv is the test split, shape inferred", async () => {
  const d = dir({
    "a.csv": "label,p0,p1,p2,p3\n0,0,10,20,30\n# a comment\n\n1,255,0,0,255\n",
    "b.csv": "2,1,2,3,4\n",
    "Test_1.csv": "1,9,9,9,9\n",
  });
  const ds = await loadDataset(d);
  assert.equal(ds.format, "csv");
  assert.deepEqual([ds.height, ds.width, ds.channels, ds.classes, ds.train.count, ds.test.count], [2, 2, 1, 3, 3, 1]);
  assert.deepEqual(ds.valueRange, [0, 255]);
  assert.deepEqual(Array.from(ds.train.labels), [0, 1, 2]);
  assert.deepEqual(Array.from(sampleAt(ds, ds.train, 1).values), [255, 0, 0, 255]);
  assert.equal(ds.train.origin(1), join(d, "a.csv") + ":5");
  assert.equal(ds.test.origin(0), join(d, "Test_1.csv") + ":1");
  // real values (not 0..255 integers) are used as they are; an explicit shape
  const r = await loadDataset(dir({ "x.csv": "0,0.5,-1,2,3,4,5\n1,1,1,1,1,1,1\n" }), { sampleShape: [1, 2, 3] });
  assert.equal(r.valueRange, null);
  assert.deepEqual([r.height, r.width, r.channels], [1, 2, 3]);
  const flat = await loadDataset(dir({ "x.csv": "0,1,2,3,4,5\n1,1,1,1,1,1\n" }));
  assert.deepEqual([flat.height, flat.width, flat.channels], [1, 5, 1]);
  const rgb = await loadDataset(dir({ "x.csv": `0,${new Array(12).fill(7).join(",")}\n1,${new Array(12).fill(8).join(",")}\n` }));
  assert.deepEqual([rgb.height, rgb.width, rgb.channels], [2, 2, 3]);
});

test("CSV without test files: a seeded sixth is the test split", async () => {
  const rows = Array.from({ length: 13 }, (_, i) => `${i % 3},${i},${i},${i},${i}`).join("\n");
  const d = dir({ "all.csv": rows });
  const a = await loadDataset(d), b = await loadDataset(d), c = await loadDataset(d, { splitSeed: 7 });
  assert.equal(a.test.count, 2);
  assert.equal(a.train.count, 11);
  const firsts = (ds: typeof a, s: typeof a.train) => Array.from({ length: s.count }, (_, i) => sampleAt(ds, s, i).values[0]);
  assert.deepEqual(firsts(a, a.test), firsts(b, b.test));
  assert.notDeepEqual(firsts(a, a.test), firsts(c, c.test));
  assert.deepEqual([...firsts(a, a.train), ...firsts(a, a.test)].sort((x, y) => x - y), Array.from({ length: 13 }, (_, i) => i));
  const tr = firsts(a, a.train);
  assert.deepEqual(tr, [...tr].sort((x, y) => x - y)); // file order kept
});

test("CSV errors name file:line and what to do", async () => {
  const bad = async (body: string, re: RegExp, opts = {}) => {
    const d = dir({ "t.csv": body });
    await assert.rejects(loadDataset(d, opts), (e: Error) => e instanceof DatasetError && re.test(e.message) && e.message.includes(join(d, "t.csv")), String(re));
  };
  await bad("label,a,b\n0,1,2\n1,1,x2\n", /t\.csv:3, column 3: "x2" is not a number/);
  await bad("0,1,2\n1,1,\n", /t\.csv:2, column 3: "" is not a number/);
  await bad("0,1,2\n1,1,2,3\n", /t\.csv:2: row has 3 values but earlier rows have 2/);
  await bad("0,1,2\n-1,1,2\n", /t\.csv:2, column 1: label "-1" is not a non-negative integer/);
  await bad("0,1,2\n1.5,1,2\n", /label "1.5"/);
  await bad("0,1,2\n4,1,2\n", /t\.csv:2: label 4 is out of range: the model has 3 classes/, { classes: 3 });
  await bad("0,1,2\n7\n", /t\.csv:2: a row needs a label and at least one value/);
  await bad("0,1,\"2\n", /not valid CSV/);
  await assert.rejects(loadDataset(dir({ "t.csv": "label,a\n" })), /hold no samples/);
  await assert.rejects(loadDataset(dir({ "test.csv": "0,1\n" })), /every CSV file is a test file/);
  await assert.rejects(loadDataset(dir({ "t.csv": "0,1,2,3\n1,1,2,3\n" }), { sampleShape: [2, 2, 1] }), /sample shape \[2,2,1\] has 4 values but the rows have 3/);
});

const gray = (h: number, w: number, values: number[], label = 0): Sample => ({ values: Uint8Array.from(values), label, height: h, width: w, channels: 1, valueRange: [0, 255] });
const RESNET_INPUT = { name: "input_1_int8", shape: [1, 32, 32, 3], dtype: "int8", scale: [1], zeroPoint: [-128] };

test("fitToInput: 28x28 gray padded (centered) to 32x32x3, q = pixel - 128 for pretrainedResnet_quant", () => {
  const s = gray(28, 28, Array.from({ length: 784 }, (_, i) => (i * 7) % 256));
  const q = new Int8Array(fitToInput(s, RESNET_INPUT).buffer);
  const f = fitToFloatInput(s, [1, 32, 32, 3]);
  assert.equal(q.length, 3072);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) {
    const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
    const p = inside ? s.values[(y - 2) * 28 + x - 2] : 0;
    assert.equal(q[(y * 32 + x) * 3 + c], p - 128);
    assert.equal(f[(y * 32 + x) * 3 + c], p);
  }
});

test("fitToInput: resize, channels, reshape, ranges and errors", () => {
  // 4x4 -> 2x2 bilinear with half-pixel centers: the mean of each 2x2 block
  const s = gray(4, 4, [0, 2, 4, 6, 2, 4, 6, 8, 10, 10, 20, 20, 10, 10, 20, 20]);
  assert.deepEqual(Array.from(fitToFloatInput(s, [1, 2, 2, 1])), [2, 6, 10, 20]);
  assert.deepEqual(Array.from(fitToFloatInput(s, [1, 2, 2, 1], { resize: "nearest" })), [4, 8, 10, 20]);
  // pad when it fits, else resize; an explicit resize upsamples
  assert.deepEqual(Array.from(fitToFloatInput(gray(1, 1, [9]), [1, 3, 3, 1])), [0, 0, 0, 0, 9, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(fitToFloatInput(gray(1, 1, [9]), [1, 2, 2, 1], { geometry: "resize" })), [9, 9, 9, 9]);
  assert.throws(() => fitToFloatInput(s, [1, 2, 2, 1], { geometry: "pad" }), /larger than the model's input \[1,2,2,1\]/);
  // RGB -> gray by BT.601 luma
  const rgb: Sample = { values: Uint8Array.from([100, 200, 50]), label: 0, height: 1, width: 1, channels: 3, valueRange: [0, 255] };
  assert.ok(Math.abs(fitToFloatInput(rgb, [1, 1, 1, 1])[0] - (0.299 * 100 + 0.587 * 200 + 0.114 * 50)) < 1e-4);
  // same element count, other shape: copied as is (28x28 into a [1,784] dense model)
  assert.deepEqual(Array.from(fitToFloatInput(gray(2, 2, [1, 2, 3, 4]), [1, 4])), [1, 2, 3, 4]);
  // ranges: the float default is [0,255]; int8 uses the tensor's representable range, or an explicit one
  assert.deepEqual(Array.from(fitToFloatInput(gray(1, 2, [0, 255]), [1, 1, 2, 1], { range: [-1, 1] })), [-1, 1]);
  const vww = { shape: [1, 1, 2, 1], dtype: "int8", scale: [1 / 128], zeroPoint: [0] };
  assert.deepEqual(Array.from(new Int8Array(fitToInput(gray(1, 2, [0, 255]), vww).buffer)), [-128, 127]);
  assert.deepEqual(Array.from(new Int8Array(fitToInput(gray(1, 2, [0, 255]), vww, { range: [0, 0.5] }).buffer)), [0, 64]);
  const u8 = { shape: [1, 2], dtype: "uint8", scale: [1], zeroPoint: [0] };
  assert.deepEqual(Array.from(fitToInput(gray(1, 2, [3, 250]), u8)), [3, 250]);
  // real-valued samples (valueRange null) are not mapped
  const real: Sample = { values: Float32Array.from([-0.5, 0.25]), label: 0, height: 1, width: 2, channels: 1, valueRange: null };
  assert.deepEqual(Array.from(new Int8Array(fitToInput(real, { shape: [1, 2], dtype: "int8", scale: [0.25], zeroPoint: [1] }).buffer)), [-1, 2]);
  assert.throws(() => fitToInput(s, { shape: [1, 4, 4, 1], dtype: "float32", scale: [], zeroPoint: [] }), (e: Error) => e instanceof DatasetError && /not quantized: use fitToFloatInput/.test(e.message));
  assert.throws(() => fitToInput(s, { shape: [1, 4, 4, 1], dtype: "int16", scale: [1], zeroPoint: [0] }), DatasetError);
  assert.throws(() => fitToFloatInput(s, [1, 3, 3, 2]), /channel conversion needs 1 or 3 channels/);
  assert.throws(() => fitToFloatInput(gray(1, 5, [1, 2, 3, 4, 5]), [1, 3, 3, 1]), /a flat vector\) does not fit/);
});

test("seeded permutation, train plan with a disjoint held-out slice, epoch order", () => {
  const p = permutation(1000, 5);
  assert.deepEqual(Array.from(p).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(p, permutation(1000, 5));
  assert.notDeepEqual(p, permutation(1000, 6));
  assert.equal(permutation(10, 0).length, 10); // seed 0 does not stall xorshift
  assert.notDeepEqual(Array.from(permutation(10, 0)), Array.from({ length: 10 }, (_, i) => i));

  const plan = planTrain(100, { seed: 3, limit: 20, heldOut: 10 });
  assert.equal(plan.train.length, 20);
  assert.equal(plan.heldOut.length, 10);
  assert.equal(new Set([...plan.train, ...plan.heldOut]).size, 30);
  const all = planTrain(100, { seed: 3, heldOut: 10 });
  assert.equal(all.train.length, 90);
  assert.deepEqual(all.heldOut, plan.heldOut); // the held-out slice does not depend on the limit
  assert.deepEqual(all.train.subarray(0, 20), plan.train);
  assert.equal(new Set([...all.train, ...all.heldOut]).size, 100);
  assert.throws(() => planTrain(10, { heldOut: 10 }), /must leave at least one training sample/);

  assert.equal(epochOrder(plan.train, 3, 0), plan.train);
  const e1 = epochOrder(plan.train, 3, 1), e2 = epochOrder(plan.train, 3, 2);
  assert.deepEqual([...e1].sort((a, b) => a - b), [...plan.train].sort((a, b) => a - b));
  assert.notDeepEqual(e1, e2);
  assert.deepEqual(Array.from(firstIndices(50, 3)), [0, 1, 2]);
  assert.equal(firstIndices(2, 10).length, 2);
});

test("Fashion-MNIST from the Debian package", { skip: !existsSync(FASHION_MNIST_DIR) && "dataset-fashion-mnist is not installed" }, async () => {
  const ds = await loadDataset("fashion-mnist");
  assert.deepEqual([ds.name, ds.height, ds.width, ds.channels, ds.classes, ds.train.count, ds.test.count], ["fashion-mnist", 28, 28, 1, 10, 60000, 10000]);
  assert.equal(ds.classNames![ds.train.labels[0]], "Ankle boot"); // the first training image
  const counts = new Array(10).fill(0);
  for (const l of ds.test.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
  assert.equal(readIdx(join(FASHION_MNIST_DIR, "t10k-labels-idx1-ubyte.gz"), 1).dims[0], 10000);
});

const floatModel = modelPath("pretrainedResnet_float");
test("pretrainedResnet_float takes raw 0..255 pixels (its int8 twin's input: scale 1, zero point -128)", { skip: !existsSync(floatModel) && "shared models not found" }, () => {
  const quant = importTflite(readFileSync(modelPath("pretrainedResnet_quant")));
  const t = quant.tensors[quant.inputs[0]];
  assert.deepEqual([t.scale, t.zeroPoint], [[1], [-128]]);
  const g = importTflite(readFileSync(floatModel));
  for (const run of goldenRuns("pretrainedResnet_quant")) {
    const q = new Int8Array(new Uint8Array(run.input).buffer);
    const expected = new Int8Array(new Uint8Array(run.output).buffer);
    const top = (v: ArrayLike<number>) => Array.prototype.indexOf.call(v, Math.max(...Array.from(v)));
    // the golden bytes as an image of pixels q + 128, fed through the float path
    const s: Sample = { values: Uint8Array.from(q, (v) => v + 128), label: 0, height: 32, width: 32, channels: 3, valueRange: [0, 255] };
    assert.deepEqual(fitToInput(s, t), new Uint8Array(run.input));
    const pixels = runFloat(g, [fitToFloatInput(s, [1, 32, 32, 3])]).outputs[0];
    assert.equal(top(pixels), top(expected));
    const unit = runFloat(g, [fitToFloatInput(s, [1, 32, 32, 3], { range: [0, 1] })]).outputs[0];
    assert.notEqual(top(unit), top(expected)); // 0..1 would be the wrong convention
  }
});
