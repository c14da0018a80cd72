// Labeled data sets for `tinyloop train`: loading, fitting samples to a model's input, seeded iteration.
//
// `--data` takes one of:
//   - `fashion-mnist`: Debian's package `dataset-fashion-mnist` (its idx files in /usr/share/datasets/fashion-mnist).
//   - a directory holding the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte,
//     t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each gzipped (.gz) or not ("test-" may stand for "t10k-",
//     and "." for the "-" before "idx", as some MNIST mirrors name them). Images are IDX type 0x00000803 (unsigned
//     bytes, [count, H, W]), labels 0x00000801 ([count]); dimensions are big-endian. Pixel values are 0..255.
//   - a directory of labeled CSV files (*.csv, read in name order): each row is `label,v1,v2,...`, the label a
//     non-negative integer class index and the values the raw sample (H*W*C values in row-major HWC order; the shape
//     comes from `sampleShape`, else a square gray image if the count is a square, else a square RGB image if a
//     third of it is, else a flat [1, N, 1] vector). A first row with anything non-numeric is a header and skipped;
//     blank lines and lines starting with # are skipped. The held-out (test) split: files whose name starts with
//     "test" (any case) are the test split and all other files the train split; with no such file, every row of
//     every file is pooled and a seeded sixth of them (floor(n / 6) rows: the first ones of a permutation made with
//     `splitSeed`, default 1) is the test split, the rest the train split, each kept in file order.
//     Values that are all integers in 0..255 are taken to be 8-bit pixels (valueRange [0, 255]); any other values
//     are taken to be the model's real input values already (valueRange null: no mapping). `csvValues` overrides.
//
// fitToInput / fitToFloatInput: a sample's H x W is padded (centered, with the sample's lowest value: 0, black) when it
// fits inside the model's, else resized bilinearly (half-pixel centers, host/stream/image.ts); a gray sample is
// replicated to 3 channels (RGB to gray uses BT.601 luma). A sample with exactly as many values as the input tensor
// and a different shape (e.g. 28x28 into [1,784]) is copied as is. Pixels (valueRange [lo, hi]) are then mapped
// linearly onto the model's real input range: for an int8 input, the range its scale and zero point can hold
// (pretrainedResnet_quant: scale 1, zero point -128, so [0, 255] and q = pixel - 128); for a float input the
// `range` option, default [0, 255] (pretrainedResnet_float takes raw 0..255 pixels: checked against the int8
// model's golden outputs, where 0..1 inputs give a different top class). Finally int8 inputs are quantized with
// TFLite's rounding (host/stream/tensor.ts encodeTensor).
//
// Iteration: permutation() is a seeded Fisher-Yates shuffle over host/util/xorshift.ts; planTrain() takes a held-out
// slice for the sparse-update search from the END of a seeded permutation of the train split and the training
// samples from its start, so the two never overlap; epochOrder() reshuffles the training indices per epoch.
import { existsSync, readFileSync, readdirSync, statSync, createReadStream } from "node:fs";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse as parseCsvStream } from "csv-parse";
import { xorshiftBytes } from "../util/xorshift.ts";
import { convertChannels, resize, type Decoded, type ResizeMode } from "../stream/image.ts";
import { encodeTensor, realRange, quantParams } from "../stream/tensor.ts";
import type { TensorMeta } from "../format/tlm.ts";

/** A data set that cannot be read or used: missing or malformed files, bad labels, shapes that do not fit. */
export class DatasetError extends Error {}

export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

export interface Split {
  /** `count` samples of height*width*channels values each, row-major HWC, one after another. */
  values: Uint8Array | Float32Array;
  /** Class index of each sample, 0 <= label < Dataset.classes. */
  labels: Int32Array;
  count: number;
  /** Where sample i came from ("train-images-idx3-ubyte.gz #17", "a.csv:12"). */
  origin(i: number): string;
}

export interface Dataset {
  /** What was loaded: "fashion-mnist", or the directory. */
  name: string;
  format: "idx" | "csv";
  height: number;
  width: number;
  channels: number;
  /** The raw values' range when they are pixels ([0, 255]); null when they are the model's real values already. */
  valueRange: [number, number] | null;
  /** Number of classes: `classes` if given, else the largest label + 1 (10 for Fashion-MNIST). */
  classes: number;
  /** Class names when known (Fashion-MNIST). */
  classNames?: string[];
  train: Split;
  test: Split;
}

export interface LoadOptions {
  /** Number of classes the model has; a label >= classes is an error. */
  classes?: number;
  /** CSV: the shape [H, W, C] of each row's values. */
  sampleShape?: [number, number, number];
  /** CSV: "pixels" (0..255 values, mapped to the model's range), "real" (used as they are) or "auto" (default, see above). */
  csvValues?: "pixels" | "real" | "auto";
  /** CSV without test*.csv files: the seed of the 1/6 test split (default 1). */
  splitSeed?: number;
}

/** One sample: its values (a view into the split), label and shape. */
export interface Sample {
  values: Uint8Array | Float32Array;
  label: number;
  height: number;
  width: number;
  channels: number;
  valueRange: [number, number] | null;
}

// ---- loading ------------------------------------------------------------------------------------------------------

/** Loads `--data`: the keyword fashion-mnist, a directory of the four IDX files, or a directory of CSV files. */
export async function loadDataset(spec: string, opts: LoadOptions = {}): Promise<Dataset> {
  if (spec === "fashion-mnist") {
    if (!existsSync(FASHION_MNIST_DIR)) {
      throw new DatasetError(`Fashion-MNIST is not installed (${FASHION_MNIST_DIR} is missing): install it with \`apt-get install dataset-fashion-mnist\` (or \`bash scripts/system-deps.sh\`), or pass --data a directory of IDX or CSV files`);
    }
    const ds = loadIdxDir(FASHION_MNIST_DIR, opts);
    return { ...ds, name: "fashion-mnist", classNames: FASHION_MNIST_CLASSES };
  }
  if (!existsSync(spec)) {
    throw new DatasetError(`data set "${spec}" not found: pass --data fashion-mnist, a directory of the four IDX files (train-images-idx3-ubyte[.gz], ...), or a directory of CSV files (label,v1,v2,...)`);
  }
  if (!statSync(spec).isDirectory()) {
    throw new DatasetError(`data set "${spec}" is a file; pass the directory that holds the IDX or CSV files`);
  }
  const files = readdirSync(spec);
  if (files.some((f) => IDX_NAME.test(f))) return loadIdxDir(spec, opts);
  if (files.some((f) => f.toLowerCase().endsWith(".csv"))) return loadCsvDir(spec, opts);
  throw new DatasetError(`${spec} holds neither IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) nor .csv files`);
}

const IDX_NAME = /^(train|t10k|test)-(images|labels)[.-]idx([13])-ubyte(\.gz)?$/i;

interface Idx { dims: number[]; data: Uint8Array }

/** Reads one IDX file (gzipped or not) of unsigned bytes with the expected number of dimensions. */
export function readIdx(path: string, expectDims: 1 | 3): Idx {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DatasetError(`${path}: cannot read (${(e as Error).message})`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DatasetError(`${path}: corrupt gzip data (${(e as Error).message}); download or reinstall the file`);
    }
  }
  const what = expectDims === 3 ? "images" : "labels";
  const expected = expectDims === 3 ? 0x00000803 : 0x00000801;
  if (bytes.length < 4) throw new DatasetError(`${path}: truncated: ${bytes.length} bytes, too short for an IDX header; download or reinstall the file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0);
  if (magic !== expected) {
    throw new DatasetError(`${path}: bad magic 0x${magic.toString(16).padStart(8, "0")}, expected 0x${expected.toString(16).padStart(8, "0")} (IDX ${what}: unsigned bytes, ${expectDims} dimension${expectDims > 1 ? "s" : ""}); is this the right file?`);
  }
  const header = 4 + 4 * expectDims;
  if (bytes.length < header) throw new DatasetError(`${path}: truncated IDX header (${bytes.length} bytes, needs ${header}); download or reinstall the file`);
  const dims = Array.from({ length: expectDims }, (_, k) => dv.getUint32(4 + 4 * k));
  if (dims.some((d) => d === 0)) throw new DatasetError(`${path}: IDX dimensions [${dims}] include a zero`);
  const need = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - header;
  if (have < need) {
    throw new DatasetError(`${path}: truncated: ${have} data bytes but the header's dimensions [${dims}] need ${need}; download or reinstall the file`);
  }
  if (have > need) throw new DatasetError(`${path}: ${have - need} bytes beyond the ${need} that dimensions [${dims}] describe; is this the right file?`);
  return { dims, data: bytes.subarray(header) };
}

function findIdx(dir: string, split: "train" | "t10k", kind: "images" | "labels"): string {
  const files = readdirSync(dir);
  const match = files.filter((f) => {
    const m = IDX_NAME.exec(f);
    return m && (m[1].toLowerCase() === split || (split === "t10k" && m[1].toLowerCase() === "test")) && m[2].toLowerCase() === kind;
  }).sort();
  const wanted = `${split}-${kind}-idx${kind === "images" ? 3 : 1}-ubyte[.gz]`;
  if (match.length === 0) throw new DatasetError(`${dir}: ${wanted} is missing; an IDX data set needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may be .gz)`);
  if (match.length > 1) throw new DatasetError(`${dir}: more than one file could be ${wanted} (${match.join(", ")}); keep one`);
  return join(dir, match[0]);
}

function loadIdxDir(dir: string, opts: LoadOptions): Dataset {
  const split = (which: "train" | "t10k") => {
    const ip = findIdx(dir, which, "images"), lp = findIdx(dir, which, "labels");
    const images = readIdx(ip, 3), labels = readIdx(lp, 1);
    if (images.dims[0] !== labels.dims[0]) {
      throw new DatasetError(`${dir}: ${basename(ip)} has ${images.dims[0]} images but ${basename(lp)} has ${labels.dims[0]} labels; the two files must come from the same set`);
    }
    return { ip, lp, images, labels: Int32Array.from(labels.data) };
  };
  const tr = split("train"), te = split("t10k");
  const [, h, w] = tr.images.dims;
  if (te.images.dims[1] !== h || te.images.dims[2] !== w) {
    throw new DatasetError(`${dir}: train images are ${h}x${w} but t10k images ${te.images.dims[1]}x${te.images.dims[2]}`);
  }
  const classes = checkLabels([[tr.labels, (i) => `${basename(tr.lp)} #${i}`], [te.labels, (i) => `${basename(te.lp)} #${i}`]], opts.classes);
  const mk = (s: typeof tr): Split => ({
    values: s.images.data, labels: s.labels, count: s.labels.length, origin: (i) => `${basename(s.ip)} #${i}`,
  });
  return { name: dir, format: "idx", height: h, width: w, channels: 1, valueRange: [0, 255], classes, train: mk(tr), test: mk(te) };
}

/** Checks every label is an integer in [0, classes) and returns the class count (given, or largest label + 1). */
function checkLabels(sets: [Int32Array, (i: number) => string][], classes?: number): number {
  let max = -1;
  for (const [labels, origin] of sets) {
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      if (classes !== undefined && l >= classes) {
        throw new DatasetError(`${origin(i)}: label ${l} is out of range: the model has ${classes} classes (0..${classes - 1}); use a model with more outputs or drop that class`);
      }
      if (l > max) max = l;
    }
  }
  return classes ?? max + 1;
}

/** Throws when the data set has labels the model cannot output (a model with `outputs` classes). */
export function checkClasses(ds: Dataset, outputs: number): void {
  checkLabels([[ds.train.labels, ds.train.origin], [ds.test.labels, ds.test.origin]], outputs);
}

interface CsvRow { file: string; line: number; label: number; start: number }

async function loadCsvDir(dir: string, opts: LoadOptions): Promise<Dataset> {
  const files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith(".csv")).sort();
  let width = -1;
  let values = new Float32Array(1 << 16);
  let used = 0;
  let allBytes = true;
  const rows: CsvRow[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const parser = createReadStream(path).pipe(parseCsvStream({ relax_column_count: true, trim: true, bom: true, info: true, skip_empty_lines: true, comment: "#", comment_no_infix: true }));
    let first = true;
    try {
      for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        const cells = r.record, line = r.info.lines, where = `${path}:${line}`;
        if (first) {
          first = false;
          if (!cells.every(isNumber)) continue; // header
        }
        if (cells.length < 2) throw new DatasetError(`${where}: a row needs a label and at least one value (label,v1,v2,...), has ${cells.length} cell${cells.length === 1 ? "" : "s"}`);
        const label = Number(cells[0]);
        if (!isNumber(cells[0]) || !Number.isInteger(label) || label < 0) {
          throw new DatasetError(`${where}, column 1: label "${cells[0].slice(0, 40)}" is not a non-negative integer class index`);
        }
        const n = cells.length - 1;
        if (width < 0) width = n;
        else if (n !== width) throw new DatasetError(`${where}: row has ${n} values but earlier rows have ${width}; every sample needs the same size`);
        if (used + n > values.length) {
          const bigger = new Float32Array(Math.max(values.length * 2, used + n));
          bigger.set(values.subarray(0, used));
          values = bigger;
        }
        for (let k = 1; k < cells.length; k++) {
          const s = cells[k];
          const v = Number(s);
          if (!isNumber(s)) throw new DatasetError(`${where}, column ${k + 1}: "${s.slice(0, 40)}" is not a number; every value after the label must be numeric`);
          if (allBytes && !(Number.isInteger(v) && v >= 0 && v <= 255)) allBytes = false;
          values[used + k - 1] = v;
        }
        rows.push({ file, line, label, start: used });
        used += n;
      }
    } catch (e) {
      if (e instanceof DatasetError) throw e;
      throw new DatasetError(`${path}: not valid CSV (${(e as Error).message})`);
    } finally {
      parser.destroy();
    }
  }
  if (rows.length === 0) throw new DatasetError(`${dir}: the CSV files (${files.join(", ")}) hold no samples; each row should be label,v1,v2,...`);

  const [h, w, c] = opts.sampleShape ?? inferShape(width);
  if (h * w * c !== width) throw new DatasetError(`${dir}: sample shape [${h},${w},${c}] has ${h * w * c} values but the rows have ${width}`);
  const mode = opts.csvValues ?? "auto";
  const valueRange: [number, number] | null = mode === "pixels" || (mode === "auto" && allBytes) ? [0, 255] : null;

  const isTest = (f: string) => f.toLowerCase().startsWith("test");
  let trainRows: CsvRow[], testRows: CsvRow[];
  if (files.some(isTest)) {
    trainRows = rows.filter((r) => !isTest(r.file));
    testRows = rows.filter((r) => isTest(r.file));
    if (trainRows.length === 0) throw new DatasetError(`${dir}: every CSV file is a test file (test*.csv); add training files`);
  } else {
    if (rows.length < 2) throw new DatasetError(`${dir}: one sample cannot be split into train and test; add rows or a test*.csv file`);
    const perm = permutation(rows.length, opts.splitSeed ?? 1);
    const nTest = Math.max(1, Math.floor(rows.length / 6));
    const testSet = new Set(perm.subarray(0, nTest));
    trainRows = rows.filter((_, i) => !testSet.has(i));
    testRows = rows.filter((_, i) => testSet.has(i));
  }
  const mk = (rs: CsvRow[]): Split => {
    const v = new Float32Array(rs.length * width);
    rs.forEach((r, i) => v.set(values.subarray(r.start, r.start + width), i * width));
    return { values: v, labels: Int32Array.from(rs, (r) => r.label), count: rs.length, origin: (i) => `${join(dir, rs[i].file)}:${rs[i].line}` };
  };
  const train = mk(trainRows), test = mk(testRows);
  const classes = checkLabels([[train.labels, train.origin], [test.labels, test.origin]], opts.classes);
  return { name: dir, format: "csv", height: h, width: w, channels: c, valueRange, classes, train, test };
}

const isNumber = (s: string) => s !== "" && Number.isFinite(Number(s));

function inferShape(n: number): [number, number, number] {
  const sq = (k: number) => Number.isInteger(k) && Number.isInteger(Math.sqrt(k));
  if (sq(n) && n > 1) return [Math.sqrt(n), Math.sqrt(n), 1];
  if (sq(n / 3) && n > 3) return [Math.sqrt(n / 3), Math.sqrt(n / 3), 3];
  return [1, n, 1];
}

/** Sample i of a split (a view, not a copy). */
export function sampleAt(ds: Dataset, split: Split, i: number): Sample {
  if (!(i >= 0 && i < split.count)) throw new RangeError(`sample ${i} of ${split.count}`);
  const n = ds.height * ds.width * ds.channels;
  return { values: split.values.subarray(i * n, (i + 1) * n), label: split.labels[i], height: ds.height, width: ds.width, channels: ds.channels, valueRange: ds.valueRange };
}

// ---- fitting a sample to a model input ----------------------------------------------------------------------------

export interface FitOptions {
  /** Geometry: "pad" (centered; the default when the sample fits inside the input) or "resize" (the default otherwise). */
  geometry?: "pad" | "resize";
  /** Resize interpolation (default bilinear; both with half-pixel centers). */
  resize?: ResizeMode;
  /** The real range pixels map onto: default the int8 tensor's representable range, or [0, 255] for a float input. */
  range?: [number, number];
}

/** What fitToInput needs of the input tensor: a graph Tensor or a compiled TensorMeta will do. */
export interface InputTensor { name?: string; shape: number[]; dtype: string; scale: number[]; zeroPoint: number[] }

/** Where an input shape keeps H, W and C: [1,H,W,C], [H,W,C], or anything else as a flat [1, N, 1]. */
function layout(shape: number[]): [number, number, number] {
  if (shape.length === 4 && shape[0] === 1) return [shape[1], shape[2], shape[3]];
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  return [1, shape.reduce((a, b) => a * b, 1), 1];
}

/** The sample laid out as the model's input shape (padded/resized, channels converted), still in raw units. */
function geometry(s: Sample, shape: number[], opts: FitOptions): Float64Array {
  const [H, W, C] = layout(shape);
  const n = H * W * C;
  if (s.values.length === n && (s.height !== H || s.width !== W || s.channels !== C)) return Float64Array.from(s.values); // a reshape
  if (s.height === H && s.width === W && s.channels === C) return Float64Array.from(s.values);
  const what = `a ${s.height}x${s.width}x${s.channels} sample`;
  if ((s.channels !== 1 && s.channels !== 3) || (C !== 1 && C !== 3)) {
    throw new DatasetError(`${what} cannot be fitted to the model's input [${shape}]: channel conversion needs 1 or 3 channels on both sides; give samples of ${n} values or shape [${H},${W},${C}]`);
  }
  if (s.height === 1 && s.width > 1 && H !== 1) throw new DatasetError(`${what} (a flat vector) does not fit the model's input [${shape}] (${n} values); give samples of ${n} values`);
  let img: Decoded = { width: s.width, height: s.height, channels: s.channels as 1 | 3, max: 255, data: Float64Array.from(s.values) };
  img = convertChannels(img, C as 1 | 3);
  const mode = opts.geometry ?? (s.height <= H && s.width <= W ? "pad" : "resize");
  if (mode === "resize") return resize(img, W, H, opts.resize ?? "bilinear").data;
  if (s.height > H || s.width > W) throw new DatasetError(`${what} is larger than the model's input [${shape}]: it cannot be padded; resize it instead`);
  const out = new Float64Array(n).fill(s.valueRange ? s.valueRange[0] : 0);
  const top = Math.floor((H - s.height) / 2), left = Math.floor((W - s.width) / 2);
  for (let y = 0; y < s.height; y++) {
    out.set(img.data.subarray(y * s.width * C, (y + 1) * s.width * C), ((y + top) * W + left) * C);
  }
  return out;
}

function mapRange(v: Float64Array, from: [number, number] | null, to: [number, number]): Float64Array {
  if (!from) return v;
  const k = (to[1] - to[0]) / (from[1] - from[0]);
  for (let i = 0; i < v.length; i++) v[i] = to[0] + (v[i] - from[0]) * k;
  return v;
}

/** The sample as the model's real (float32) input values: geometry, channels, then pixels mapped onto `range` (default [0, 255]). */
export function fitToFloatInput(sample: Sample, inputShape: number[], opts: FitOptions = {}): Float32Array {
  return Float32Array.from(mapRange(geometry(sample, inputShape, opts), sample.valueRange, opts.range ?? [0, 255]));
}

/**
 * The sample as the raw bytes of a quantized (int8/uint8) input tensor: geometry, channels, pixels mapped onto the
 * tensor's representable real range (or `range`), then q = clamp(round_half_away(x / scale) + zero point).
 */
export function fitToInput(sample: Sample, input: InputTensor, opts: FitOptions = {}): Uint8Array {
  const meta: TensorMeta = { index: 0, name: input.name ?? "input", shape: input.shape, dtype: input.dtype, scale: input.scale, zeroPoint: input.zeroPoint, offset: 0, bytes: 0 };
  let range = opts.range;
  try {
    if (!quantParams(meta)) throw new DatasetError(`input "${meta.name}" is ${input.dtype}, not quantized: use fitToFloatInput`);
    range ??= realRange(meta)!;
  } catch (e) {
    throw e instanceof DatasetError ? e : new DatasetError((e as Error).message);
  }
  return encodeTensor(mapRange(geometry(sample, input.shape, opts), sample.valueRange, range), meta);
}

// ---- seeded iteration ---------------------------------------------------------------------------------------------

/** A seeded permutation of 0..n-1 (Fisher-Yates over xorshift32; seed 0 is replaced by 0x9e3779b9, xorshift's fixed point). */
export function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const bytes = xorshiftBytes((seed >>> 0) || 0x9e3779b9, 4 * n);
  const dv = new DataView(bytes.buffer);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((dv.getUint32(4 * i) / 2 ** 32) * (i + 1));
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

export interface TrainPlan {
  /** Training sample indices (into the train split), in a seeded order. */
  train: Uint32Array;
  /** Held-out train-split indices (for the sparse-update search), disjoint from `train`. */
  heldOut: Uint32Array;
}

/**
 * Splits the train split's indices: `heldOut` samples from the end of a seeded permutation, then up to `limit`
 * training samples from its start. The same seed and count give the same plan, whatever the limit.
 */
export function planTrain(count: number, opts: { seed?: number; limit?: number; heldOut?: number } = {}): TrainPlan {
  const held = opts.heldOut ?? 0;
  if (!(Number.isInteger(held) && held >= 0 && held < count)) {
    throw new DatasetError(`a held-out slice of ${held} samples does not fit a train split of ${count} (it must leave at least one training sample)`);
  }
  const p = permutation(count, opts.seed ?? 1);
  const rest = count - held;
  const n = Math.min(rest, opts.limit ?? rest);
  return { train: p.slice(0, n), heldOut: p.slice(count - held) };
}

/** The training indices in epoch `epoch`'s order: epoch 0 keeps the given order, later epochs reshuffle with the seed. */
export function epochOrder(indices: Uint32Array, seed: number, epoch: number): Uint32Array {
  if (epoch === 0) return indices;
  const p = permutation(indices.length, ((seed >>> 0) ^ Math.imul(epoch, 0x9e3779b1)) >>> 0);
  return Uint32Array.from(p, (k) => indices[k]);
}

/** The first `limit` indices of a split, in file order (the test split's evaluation set). */
export function firstIndices(count: number, limit?: number): Uint32Array {
  const n = Math.min(count, limit ?? count);
  return Uint32Array.from({ length: n }, (_, i) => i);
}
