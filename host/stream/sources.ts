// Sample sources for `tinyloop stream`: files, directories or stdin -> raw bytes of a model's input tensor.
//
// Every source yields { label, origin, bytes }: `bytes` is exactly the input tensor's bytes (int8/uint8 quantized with
// the tensor's scale and zero point, q = clamp(round_half_away(x / scale) + zp), or float32 little-endian);
// `origin` says where the sample came from ("walk.csv:12", "yes.wav@0.500s", "cats/01.png"); `label` is the CSV
// `label` column when there is one, else the origin.
import { createReadStream } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { basename, extname, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { parse as parseCsvStream } from "csv-parse";
import { parse as parseCsv } from "csv-parse/sync";
import wavefile from "wavefile";
import type { TensorMeta } from "../format/tlm.ts";
import { SourceError, describeTensor, elementCount, encodeTensor, quantParams, realRange } from "./tensor.ts";
import { decodeImage, imageLayout, imageValues, pixelRangeHint, PIXEL_RANGES, type PixelRange, type ResizeMode } from "./image.ts";

export { SourceError, encodeTensor } from "./tensor.ts";
export type { PixelRange, ResizeMode } from "./image.ts";

export interface SampleOptions {
  /** CSV rows and WAV tails: pad with zeros / crop to the tensor's element count instead of failing. */
  fit?: boolean;
  /** WAV: samples between frame starts (default: the frame length, i.e. no overlap). */
  hop?: number;
  /** Images: real value of pixel p (0..255): "0-1" p/255 (default), "0-255" p, "-1-1" 2p/255 - 1. */
  pixelRange?: PixelRange;
  /** Images: "bilinear" (default) or "nearest", both with half-pixel centers. */
  resize?: ResizeMode;
  /** WAV: frame raw samples into the tensor even when its shape or quantization looks like features, not audio. */
  rawAudio?: boolean;
  /** Where "-" reads from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Called (once per kind) with advice that does not stop the stream, e.g. a pixel range that does not suit the model. */
  onWarning?: (message: string) => void;
}

export interface Sample {
  /** The CSV `label` column if present, else the same as `origin`. */
  label: string;
  /** Where the sample came from: "file.csv:LINE", "stdin:LINE", "file.wav@SECONDSs", "file.png", "file.bin". */
  origin: string;
  /** The input tensor's raw bytes (input.bytes long). */
  bytes: Uint8Array;
}

export const SUPPORTED = ".csv, .wav, .png, .jpg/.jpeg, .pgm/.ppm/.pnm, .bin (raw tensor bytes), a directory of these, or - (CSV rows on stdin)";
const IMAGE_EXTS = [".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pnm"];
const EXTS = [".csv", ".wav", ".bin", ...IMAGE_EXTS];

/**
 * Samples for `input` from a file, a directory (its files in natural sorted order, recursively, dotfiles skipped;
 * each file per its type) or "-" (CSV rows from stdin, each yielded as soon as its line arrives).
 */
export async function* samples(source: string, input: TensorMeta, opts: SampleOptions = {}): AsyncGenerator<Sample> {
  quantParams(input); // fails early for tensors that cannot be filled
  const ctx: Ctx = { input, opts, warned: new Set() };
  if (opts.hop !== undefined && !(Number.isInteger(opts.hop) && opts.hop > 0)) throw new SourceError(`hop must be a positive whole number of samples (got ${opts.hop})`);
  if (opts.pixelRange !== undefined && !(opts.pixelRange in PIXEL_RANGES)) {
    throw new SourceError(`pixel range must be one of ${Object.keys(PIXEL_RANGES).join(", ")} (got ${opts.pixelRange})`);
  }
  if (source === "-") {
    yield* csvSamples(streamRows(opts.stdin ?? process.stdin, "stdin"), "stdin", "stdin", ctx);
    return;
  }
  let st;
  try {
    st = await stat(source);
  } catch (e) {
    throw new SourceError(`cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isDirectory()) {
    yield* fileSamples(source, basename(source), ctx);
    return;
  }
  const files = await listFiles(source);
  if (files.length === 0) throw new SourceError(`${source}: directory has no sample files (${SUPPORTED})`);
  for (const f of files) yield* fileSamples(f, relative(source, f), ctx);
}

interface Ctx { input: TensorMeta; opts: SampleOptions; warned: Set<string> }

function warnOnce(ctx: Ctx, key: string, message: string): void {
  if (ctx.warned.has(key)) return;
  ctx.warned.add(key);
  ctx.opts.onWarning?.(message);
}

const collator = new Intl.Collator("en", { numeric: true });
const natural = (a: string, b: string) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

/** Files under `dir` in natural order ("2.png" before "10.png"), subdirectories in place, dotfiles skipped. */
async function listFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith(".")).sort(natural);
  const out: string[] = [];
  for (const n of names) {
    const p = join(dir, n);
    if ((await stat(p)).isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

async function* fileSamples(path: string, name: string, ctx: Ctx): AsyncGenerator<Sample> {
  const ext = extname(path).toLowerCase();
  if (!EXTS.includes(ext)) throw new SourceError(`${path}: unsupported file type "${ext || "(no extension)"}"; supported: ${SUPPORTED}`);
  const st = await stat(path);
  if (st.size === 0) throw new SourceError(`${path}: file is empty`);
  if (ext === ".csv") {
    yield* csvSamples(fileRows(path), path, name, ctx);
  } else if (ext === ".wav") {
    yield* wavSamples(await readFile(path), path, name, ctx);
  } else if (ext === ".bin") {
    const bytes = await readFile(path);
    if (bytes.length !== ctx.input.bytes) {
      throw new SourceError(`${path}: has ${bytes.length} bytes but input ${describeTensor(ctx.input)} takes exactly ${ctx.input.bytes}`);
    }
    yield { label: name, origin: name, bytes: new Uint8Array(bytes) };
  } else {
    const { input, opts } = ctx;
    imageLayout(input);
    const range = opts.pixelRange ?? "0-1";
    const hint = pixelRangeHint(input, range);
    if (hint) warnOnce(ctx, "pixelRange", hint);
    const img = decodeImage(await readFile(path), ext, path);
    yield { label: name, origin: name, bytes: encodeTensor(imageValues(img, input, range, opts.resize ?? "bilinear"), input) };
  }
}

// ---- CSV --------------------------------------------------------------------------------------------------------

interface Row { cells: string[]; line: number }

const CSV_OPTIONS = { relax_column_count: true, trim: true, bom: true } as const;

/** A CSV file's rows through csv-parse's stream parser (fast; blank lines and lines starting with # skipped). */
async function* fileRows(path: string): AsyncGenerator<Row> {
  const parser = createReadStream(path).pipe(parseCsvStream({ ...CSV_OPTIONS, info: true, skip_empty_lines: true, comment: "#", comment_no_infix: true }));
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { cells: r.record, line: r.info.lines };
  } catch (e) {
    throw new SourceError(`${path}: not valid CSV (${(e as Error).message})`);
  } finally {
    parser.destroy();
  }
}

/**
 * Rows from a live stream, each handed over as soon as its newline arrives: readline splits lines and csv-parse
 * reads each one (its stream parser holds the last record back until more input comes, which would delay a
 * sensor's rows by one line).
 */
async function* streamRows(stream: NodeJS.ReadableStream, where: string): AsyncGenerator<Row> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() === "" || text.trimStart().startsWith("#")) continue;
      let cells: string[] | undefined;
      try {
        cells = (parseCsv(text, CSV_OPTIONS) as string[][])[0];
      } catch (e) {
        throw new SourceError(`${where} line ${line}: not a CSV row (${(e as Error).message})`);
      }
      if (cells) yield { cells, line };
    }
  } finally {
    rl.close();
  }
}

const plural = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
const isNumber = (s: string) => s !== "" && Number.isFinite(Number(s));

/**
 * Each CSV row is one sample of real numbers. A first row with anything non-numeric is a header; if its last
 * column is named `label`, that column is each row's label. Blank lines and lines starting with # are skipped.
 */
async function* csvSamples(src: AsyncIterable<Row>, where: string, name: string, ctx: Ctx): AsyncGenerator<Sample> {
  const { input, opts } = ctx;
  const n = elementCount(input);
  let first = true;
  let labelColumn = false;
  let rows = 0;
  for await (const { cells: row, line: lineNo } of src) {
    if (first) {
      first = false;
      if (!row.every(isNumber)) {
        labelColumn = row[row.length - 1].toLowerCase() === "label";
        continue;
      }
    }
    const label = labelColumn ? row.pop() ?? "" : undefined;
    if (row.length !== n && !opts.fit) {
      throw new SourceError(`${where} line ${lineNo}: row has ${plural(row.length, "value")} but input ${describeTensor(input)} has ${plural(n, "element")} (use --fit to pad with zeros or crop)`);
    }
    const values = new Float64Array(n); // zero padded when fit and short
    for (let i = 0; i < Math.min(n, row.length); i++) {
      if (!isNumber(row[i])) throw new SourceError(`${where} line ${lineNo}, column ${i + 1}: "${row[i].slice(0, 40)}" is not a number`);
      values[i] = Number(row[i]);
    }
    rows++;
    const origin = `${name}:${lineNo}`;
    yield { label: label ?? origin, origin, bytes: encodeTensor(values, input) };
  }
  if (rows === 0) throw new SourceError(`${where}: no data rows${first ? "" : " (only a header)"}`);
}

// ---- WAV --------------------------------------------------------------------------------------------------------

/** Divisor taking each supported wavefile bit depth code to [-1, 1); the offset is for unsigned 8-bit PCM. */
const WAV_SCALE: Record<string, { offset: number; div: number }> = {
  "8": { offset: 128, div: 128 }, "16": { offset: 0, div: 32768 }, "24": { offset: 0, div: 8388608 },
  "32": { offset: 0, div: 2147483648 }, "32f": { offset: 0, div: 1 }, "64": { offset: 0, div: 1 },
};

/** Whether the tensor can take raw audio samples in [-1, 1): a 1-D signal whose quantization spans that range. */
function audioFramingProblem(t: TensorMeta): string | null {
  const long = t.shape.filter((d) => d > 1);
  if (long.length > 1) return `it expects a ${long.join("x")} feature map (e.g. MFCC or spectrogram frames), not raw audio`;
  const rr = realRange(t);
  if (!rr) return null;
  const [lo, hi] = rr;
  const fmt = (v: number) => Number(v.toPrecision(4));
  if (lo >= 0) return `its quantization holds ${fmt(lo)}..${fmt(hi)} with no negative values, so it takes features, not raw audio in [-1, 1)`;
  const steps = 2 / t.scale[0];
  if (steps < 16 || hi < 0.25 || lo > -0.25) {
    return `its quantization holds ${fmt(lo)}..${fmt(hi)}, where audio in [-1, 1) would use ${Math.round(Math.min(steps, 255))} quantization steps, so it takes features, not raw audio`;
  }
  return null;
}

function* wavSamples(bytes: Uint8Array, path: string, name: string, ctx: Ctx): Generator<Sample> {
  const { input, opts } = ctx;
  const n = elementCount(input);
  const problem = opts.rawAudio ? null : audioFramingProblem(input);
  if (problem) {
    throw new SourceError(`${path}: input ${describeTensor(input)} cannot be filled with raw WAV frames: ${problem}. ` +
      `A feature extractor is needed (tinyloop stream does not compute features): feed precomputed features as .csv or .bin, ` +
      `or use --raw-audio if the model really takes raw samples`);
  }
  let wav: InstanceType<typeof wavefile.WaveFile>;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (e) {
    throw new SourceError(`${path}: not a readable WAV file (${(e as Error).message})`);
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const scale = WAV_SCALE[wav.bitDepth];
  if (!scale) throw new SourceError(`${path}: WAV sample format "${wav.bitDepth}" is not supported (PCM 8, 16, 24 or 32-bit, or 32/64-bit float)`);
  const raw = wav.getSamples(false) as Float64Array | Float64Array[];
  const ch0 = Array.isArray(raw) ? raw[0] : raw; // first channel
  const len = ch0.length;
  if (len === 0) throw new SourceError(`${path}: WAV has no samples`);
  if (len < n && !opts.fit) {
    throw new SourceError(`${path}: has ${len} samples, fewer than one frame of ${n} for input ${describeTensor(input)} (use --fit to pad with zeros)`);
  }
  const hop = opts.hop ?? n;
  for (let start = 0; start < len; start += hop) {
    if (start + n > len) {
      // A partial tail: dropped, or zero padded with fit unless the previous frame already reached the end.
      if (!opts.fit || (start > 0 && start - hop + n >= len)) break;
    }
    const values = new Float64Array(n);
    for (let i = 0; i < n && start + i < len; i++) values[i] = (ch0[start + i] - scale.offset) / scale.div;
    const origin = `${name}@${(start / fmt.sampleRate).toFixed(3)}s`;
    yield { label: origin, origin, bytes: encodeTensor(values, input) };
  }
}
