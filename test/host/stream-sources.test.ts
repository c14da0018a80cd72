// Sample sources for `tinyloop stream`: fixtures are made here at test time and the bytes checked exactly.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import pngjs from "pngjs";
import jpeg from "jpeg-js";
import wavefile from "wavefile";
import type { TensorMeta } from "../../host/format/tlm.ts";
import { samples, SourceError, encodeTensor, type Sample, type SampleOptions } from "../../host/stream/sources.ts";
import { REPO, SHARED, modelPath } from "./shared.ts";

const tmp = mkdtempSync(join(tmpdir(), "tl-stream-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

let fileNo = 0;
/** Writes a fixture into its own folder (so names can repeat) and returns its path. */
function fixture(name: string, data: string | Uint8Array): string {
  const dir = join(tmp, `f${fileNo++}`);
  mkdirSync(dir);
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

function tensor(shape: number[], dtype = "int8", scale = [1], zeroPoint = [0]): TensorMeta {
  const n = shape.reduce((a, b) => a * b, 1);
  return { index: 0, name: "in", shape, dtype, scale, zeroPoint, offset: 0, bytes: n * (dtype === "float32" ? 4 : 1) };
}

async function collect(source: string, t: TensorMeta, opts?: SampleOptions): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of samples(source, t, opts)) out.push(s);
  return out;
}

const i8 = (s: Sample) => [...new Int8Array(s.bytes.buffer, s.bytes.byteOffset, s.bytes.length)];
const f32 = (s: Sample) => [...new Float32Array(s.bytes.slice().buffer)];

async function fails(source: string, t: TensorMeta, re: RegExp, opts?: SampleOptions) {
  await assert.rejects(collect(source, t, opts), (e: Error) => {
    assert.ok(e instanceof SourceError, `expected a SourceError, got ${e.stack}`);
    assert.match(e.message, re);
    return true;
  });
}

function png(width: number, height: number, rgb: number[]): Uint8Array {
  const img = new pngjs.PNG({ width, height });
  for (let i = 0; i < width * height; i++) img.data.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  return pngjs.PNG.sync.write(img);
}

function wav(channels: number, rate: number, depth: string, data: number[] | number[][]): Uint8Array {
  const w = new wavefile.WaveFile();
  w.fromScratch(channels, rate, depth, data);
  return w.toBuffer();
}

// ---- quantization and CSV ---------------------------------------------------------------------------------------

test("quantizes as clamp(round_half_away(x / scale) + zp) into int8, uint8 and float32", () => {
  const t = tensor([1, 6], "int8", [0.5], [-1]);
  // x/scale: 0, 1 (0.5 rounds away to 1), -5 (-2.5 rounds away to -3), 200 -> clamp, -300 -> clamp, 2.998 -> 3
  const b = encodeTensor([0, 0.25, -1.25, 100, -150, 1.499], t);
  assert.deepEqual([...new Int8Array(b.buffer)], [-1, 0, -4, 127, -128, 2]);
  assert.deepEqual([...encodeTensor([0, 1.25, -1, 500], tensor([4], "uint8", [0.5], [10]))], [10, 13, 8, 255]);
  assert.deepEqual([...new Float32Array(encodeTensor([1.5, -2], tensor([2], "float32", [], [])).buffer)], [1.5, -2]);
});

test("CSV rows become samples; a text header is skipped and a last `label` column is carried", async () => {
  const t = tensor([1, 4], "int8", [0.5], [-1]);
  const p = fixture("data.csv", "a,b,c,d\n0,0.25,-1.25,100\n\n# a comment\n 1 , 2 ,3,4\n");
  const got = await collect(p, t);
  assert.deepEqual(got.map(i8), [[-1, 0, -4, 127], [1, 3, 5, 7]]);
  assert.deepEqual(got.map((s) => [s.label, s.origin]), [["data.csv:2", "data.csv:2"], ["data.csv:5", "data.csv:5"]]);

  const labelled = fixture("walk.csv", "x,y,Label\r\n1,2,walk\r\n-1,-2,\"run, fast\"\r\n");
  const got2 = await collect(labelled, tensor([2]));
  assert.deepEqual(got2.map((s) => [s.label, s.origin, i8(s)]), [["walk", "walk.csv:2", [1, 2]], ["run, fast", "walk.csv:3", [-1, -2]]]);

  // No header: the first row is data. A float32 tensor gets the values themselves.
  const got3 = await collect(fixture("f.csv", "1.5,-2\n3e2,0.1\n"), tensor([2], "float32", [], []));
  assert.deepEqual(got3.map(f32), [[1.5, -2], [300, Math.fround(0.1)]]);
});

test("CSV rows of the wrong length fail naming file, line and counts; fit pads with zeros or crops", async () => {
  const t = tensor([1, 4], "int8", [0.5], [-1]);
  const p = fixture("bad.csv", "1,2,3,4\n1,2,3\n");
  await fails(p, t, /bad\.csv line 2: row has 3 values but input "in" \[1,4\] int8 has 4 elements \(use --fit/);
  await fails(fixture("long.csv", "1,2,3,4,5\n"), t, /long\.csv line 1: row has 5 values .* has 4 elements/);
  const got = await collect(fixture("fit.csv", "1,2,3\n1,2,3,4,5\n"), t, { fit: true });
  assert.deepEqual(got.map(i8), [[1, 3, 5, -1], [1, 3, 5, 7]]);
  await fails(fixture("nan.csv", "h1,h2\n1,x\n"), tensor([2]), /nan\.csv line 2, column 2: "x" is not a number/);
  await fails(fixture("hdr.csv", "a,b,label\n"), tensor([2]), /hdr\.csv: no data rows \(only a header\)/);
  await fails(fixture("empty.csv", ""), tensor([2]), /empty\.csv: file is empty/);
  await fails(fixture("quote.csv", "1,2\n\"3,4\n"), tensor([2]), /quote\.csv: not valid CSV \(.*[Qq]uote/);
});

test("stdin: the same CSV rules (quotes, comments, header, label) and no rows is an error", async () => {
  const t = tensor([2]);
  const got = await collect("-", t, { stdin: Readable.from(["# sensor v1\r\nax, ay ,label\r\n", "\"1\", 2 ,still\r\n\r\n-3,4,moving\r\n"]) });
  assert.deepEqual(got.map((s) => [s.label, s.origin, i8(s)]), [["still", "stdin:3", [1, 2]], ["moving", "stdin:5", [-3, 4]]]);
  await fails("-", t, /stdin: no data rows/, { stdin: Readable.from(["# nothing\n\n"]) });
  await fails("-", t, /stdin line 2: row has 3 values/, { stdin: Readable.from(["1,2\n1,2,3\n"]) });
});

// ---- stdin ------------------------------------------------------------------------------------------------------

test("stdin: each row is yielded as soon as its line arrives, before the stream ends", async () => {
  // A child that writes one row every 300 ms, like a live sensor.
  const writer = spawn(process.execPath, ["-e", `
    const rows = ["t,label", "1,2,up", "3,4,down", "5,6,up"];
    let i = 0;
    const tick = () => { process.stdout.write(rows[i++] + "\\n"); if (i < rows.length) setTimeout(tick, 300); };
    tick();`], { stdio: ["ignore", "pipe", "inherit"] });
  let ended = false;
  writer.stdout.on("end", () => (ended = true));
  const start = Date.now();
  const seen: { label: string; bytes: number[]; streamEnded: boolean; ms: number }[] = [];
  for await (const s of samples("-", tensor([2]), { stdin: writer.stdout })) {
    seen.push({ label: s.label, bytes: i8(s), streamEnded: ended, ms: Date.now() - start });
  }
  assert.deepEqual(seen.map((s) => [s.label, s.bytes]), [["up", [1, 2]], ["down", [3, 4]], ["up", [5, 6]]]);
  assert.equal(seen[0].streamEnded, false, "first sample came only after the writer finished");
  assert.ok(seen[2].ms - seen[0].ms >= 400, `samples arrived together (${seen.map((s) => s.ms)} ms)`);
});

test("stdin: a real process reading - answers each row before the next is written", async () => {
  const script = fixture("consumer.mts", `
    import { samples } from ${JSON.stringify(join(REPO, "host/stream/sources.ts"))};
    const t = { index: 0, name: "in", shape: [1, 3], dtype: "int8", scale: [0.5], zeroPoint: [0], offset: 0, bytes: 3 };
    try {
      for await (const s of samples("-", t)) console.log(s.origin, [...new Int8Array(s.bytes.buffer)].join(" "));
    } catch (e) { console.log("ERROR", e.message); }
  `);
  const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: REPO, stdio: ["pipe", "pipe", "inherit"] });
  const out = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => String((await out.next()).value);
  child.stdin.write("1,2,3\n");
  assert.equal(await next(), "stdin:1 2 4 6");
  child.stdin.write("0.25,-0.25,1\n");
  assert.equal(await next(), "stdin:2 1 -1 2");
  child.stdin.write("1,2\n");
  assert.match(await next(), /^ERROR stdin line 3: row has 2 values but input "in" \[1,3\] int8 has 3 elements/);
  child.stdin.end();
  await new Promise((r) => child.on("close", r));
});

// ---- WAV --------------------------------------------------------------------------------------------------------

test("WAV 16-bit PCM: a known sine cut into frames of the element count, with hop and labels in seconds", async () => {
  const s = 11585; // round(16384 * sin(pi / 4))
  const period = [0, s, 16384, s, 0, -s, -16384, -s];
  const p = fixture("sine.wav", wav(1, 16, "16", [...period, ...period, 0, 1, 2]));
  const t = tensor([1, 8], "int8", [1 / 128], [0]); // x = v / 32768, q = x * 128 = v / 256
  const q = [0, 45, 64, 45, 0, -45, -64, -45]; // 11585 / 256 = 45.25
  const frames = await collect(p, t);
  assert.deepEqual(frames.map((f) => [f.label, i8(f)]), [["sine.wav@0.000s", q], ["sine.wav@0.500s", q]]); // the 3-sample tail is dropped
  const hopped = await collect(p, t, { hop: 4 });
  assert.deepEqual(hopped.map((f) => f.origin), ["sine.wav@0.000s", "sine.wav@0.250s", "sine.wav@0.500s"]);
  assert.deepEqual(i8(hopped[1]), [0, -45, -64, -45, 0, 45, 64, 45]);
  const fitted = await collect(p, t, { fit: true });
  assert.deepEqual(fitted.map(i8)[2], [0, 0, 0, 0, 0, 0, 0, 0]); // tail 0, 1, 2 (/256 rounds to 0) then zero padding
  assert.equal(fitted.length, 3);
});

test("WAV: first channel of stereo, float, 8-bit; too short fails unless fit", async () => {
  const t = tensor([3], "int8", [1 / 128], [0]);
  const stereo = fixture("st.wav", wav(2, 8000, "16", [[-32768, 16384, 32767], [1000, 1000, 1000]]));
  assert.deepEqual((await collect(stereo, t)).map(i8), [[-128, 64, 127]]);
  const float = fixture("fl.wav", wav(1, 8000, "32f", [0.5, -0.25, 2]));
  assert.deepEqual((await collect(float, t)).map(i8), [[64, -32, 127]]);
  const u8 = fixture("u8.wav", wav(1, 8000, "8", [0, 128, 255]));
  assert.deepEqual((await collect(u8, t)).map(i8), [[-128, 0, 127]]);
  const short = fixture("short.wav", wav(1, 8000, "16", [16384, 16384]));
  await fails(short, t, /short\.wav: has 2 samples, fewer than one frame of 3/);
  assert.deepEqual((await collect(short, t, { fit: true })).map(i8), [[64, 64, 0]]);
  await fails(fixture("junk.wav", "RIFF not really a wave file"), t, /junk\.wav: not a readable WAV file/);
});

test("WAV into a feature-map input fails saying a feature extractor is needed", async () => {
  const p = fixture("yes.wav", wav(1, 16000, "16", new Array(16000).fill(0)));
  const kws = tensor([1, 49, 10, 1], "int8", [0.5847], [83]);
  await fails(p, kws, /yes\.wav: input "in" \[1,49,10,1\] int8 cannot be filled with raw WAV frames: it expects a 49x10 feature map .*feature extractor is needed/);
  const microSpeech = tensor([1, 1960], "int8", [0.1017], [-128]); // real range 0..25.9: features, not audio
  await fails(p, microSpeech, /\[1,1960\] .*no negative values.*feature extractor is needed/);
  // A waveform model's input ([-1, 1) with fine steps) is framed; rawAudio overrides the check.
  assert.equal((await collect(p, tensor([1, 4000, 1], "int8", [1 / 128], [0]))).length, 4);
  assert.equal((await collect(p, microSpeech, { rawAudio: true })).length, 8);
});

// ---- images -----------------------------------------------------------------------------------------------------

test("PNG: RGB pixels p/255 quantized exactly, gray<->RGB converted", async () => {
  const pixels = [255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100];
  const p = fixture("rgb.png", png(2, 2, pixels));
  const vww = tensor([1, 2, 2, 3], "int8", [0.003921568859368563], [-128]); // visual wake words' input quantization
  const [s] = await collect(p, vww);
  assert.deepEqual(i8(s), pixels.map((v) => v - 128));
  assert.equal(s.label, "rgb.png");
  // RGB -> gray with BT.601 luma, pixel range 0-255 into a scale-1 input: 76.245, 149.685, 29.07, 100
  const [g] = await collect(p, tensor([1, 2, 2, 1], "int8", [1], [-128]), { pixelRange: "0-255" });
  assert.deepEqual(i8(g), [76 - 128, 150 - 128, 29 - 128, 100 - 128]);
  // gray -> RGB repeats the value
  const gray = fixture("gray.png", png(2, 2, [0, 0, 0, 51, 51, 51, 204, 204, 204, 255, 255, 255]));
  const [c] = await collect(gray, tensor([2, 2, 3], "int8", [1 / 128], [0]), { pixelRange: "-1-1" });
  // 2p/255 - 1: -1, -0.6, 0.6, 1 -> /(1/128): -128, -76.8, 76.8, 128 (clamped)
  assert.deepEqual(i8(c), [-128, -128, -128, -77, -77, -77, 77, 77, 77, 127, 127, 127]);
});

test("images are resized to the tensor's H x W: bilinear with half-pixel centers, or nearest", async () => {
  const p = fixture("two.png", png(2, 2, [0, 0, 0, 200, 200, 200, 0, 0, 0, 200, 200, 200]));
  const t = tensor([1, 2, 4, 1], "int8", [1], [-128]);
  const [b] = await collect(p, t, { pixelRange: "0-255" });
  // source x = (x + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1) -> 0, 50, 150, 200
  assert.deepEqual(i8(b), [-128, -78, 22, 72, -128, -78, 22, 72]);
  const [n] = await collect(p, t, { pixelRange: "0-255", resize: "nearest" });
  assert.deepEqual(i8(n), [-128, -128, 72, 72, -128, -128, 72, 72]);
  // downscale 4x4 -> 2x2: each output samples the middle of a 2x2 block, their average
  const q = fixture("four.png", png(4, 4, Array.from({ length: 16 }, (_, i) => [i * 10, i * 10, i * 10]).flat()));
  const [d] = await collect(q, tensor([2, 2], "int8", [1], [-128]), { pixelRange: "0-255" });
  assert.deepEqual(i8(d), [25, 45, 105, 125].map((v) => v - 128));
});

test("JPEG decodes through jpeg-js", async () => {
  const rgba = new Uint8Array(8 * 8 * 4);
  for (let i = 0; i < 64; i++) rgba.set([200, 40, 90, 255], 4 * i);
  const p = fixture("solid.jpg", jpeg.encode({ width: 8, height: 8, data: rgba }, 100).data);
  const [s] = await collect(p, tensor([1, 8, 8, 3], "int8", [1], [-128]), { pixelRange: "0-255" });
  const px = i8(s).map((v) => v + 128);
  for (let i = 0; i < 64; i++) {
    for (const [c, want] of [200, 40, 90].entries()) assert.ok(Math.abs(px[3 * i + c] - want) <= 3, `pixel ${i} channel ${c}: ${px[3 * i + c]}`);
  }
});

test("PGM/PPM: ASCII and binary, comments, 16-bit maxval", async () => {
  const t = tensor([1, 2, 2, 1], "int8", [1], [-128]);
  const p2 = fixture("a.pgm", "P2\n# made by hand\n2 2\n255\n0 10\n20 255\n");
  assert.deepEqual((await collect(p2, t, { pixelRange: "0-255" })).map(i8), [[-128, -118, -108, 127]]);
  const header = new TextEncoder().encode("P5 2 2 255\n");
  const p5 = fixture("b.pgm", new Uint8Array([...header, 0, 10, 20, 255]));
  assert.deepEqual((await collect(p5, t, { pixelRange: "0-255" })).map(i8), [[-128, -118, -108, 127]]);
  // P6 with maxval 1000, 2-byte big-endian samples: p * 255 / 1000
  const h6 = new TextEncoder().encode("P6\n2 1\n1000\n");
  const be = (v: number) => [v >> 8, v & 255];
  const p6 = fixture("c.ppm", new Uint8Array([...h6, ...[0, 1000, 200].flatMap(be), ...[1000, 1000, 1000].flatMap(be)]));
  const [s] = await collect(p6, tensor([1, 1, 2, 3], "int8", [1], [-128]), { pixelRange: "0-255" });
  assert.deepEqual(i8(s), [0, 255, 51, 255, 255, 255].map((v) => v - 128));
  await fails(fixture("trunc.pgm", new Uint8Array([...header, 1, 2])), t, /trunc\.pgm: not a readable PGM\/PPM image \(truncated/);
  await fails(fixture("p1.pgm", "P1\n2 2\n0 1 1 0\n"), t, /p1\.pgm: not a readable PGM\/PPM image \(starts with "P1"/);
});

test("bad images and unsuitable tensors give clear errors; a mismatched pixel range warns", async () => {
  const good = png(2, 2, new Array(12).fill(9));
  await fails(fixture("cut.png", good.subarray(0, 40)), tensor([2, 2]), /cut\.png: not a readable PNG image/);
  await fails(fixture("text.png", "this is not a png"), tensor([2, 2]), /text\.png: not a readable PNG image/);
  await fails(fixture("x.png", good), tensor([1, 784]), /input "in" \[1,784\] int8 is not an image tensor/);
  const warnings: string[] = [];
  const resnet = tensor([1, 2, 2, 3], "int8", [1], [-128]); // expects 0..255
  await collect(fixture("w.png", good), resnet, { onWarning: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /holds real values 0\.\.255, but pixels are mapped to 0-1.*pixel range 0-255 looks right/);
  warnings.length = 0;
  await collect(fixture("w2.png", good), resnet, { pixelRange: "0-255", onWarning: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
});

// ---- raw, directories, errors -----------------------------------------------------------------------------------

test(".bin of exactly the tensor's bytes passes through; other sizes fail", async () => {
  const t = tensor([1, 3], "float32", [], []);
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const [s] = await collect(fixture("x.bin", bytes), t);
  assert.deepEqual([...s.bytes], [...bytes]);
  await fails(fixture("y.bin", bytes.subarray(0, 11)), t, /y\.bin: has 11 bytes but input "in" \[1,3\] float32 takes exactly 12/);
});

test("directories: files in natural sorted order, recursively, dotfiles skipped, each per its type", async () => {
  const dir = join(tmp, "dir");
  mkdirSync(join(dir, "sub"), { recursive: true });
  writeFileSync(join(dir, "a10.bin"), new Uint8Array([10, 10, 10, 10]));
  writeFileSync(join(dir, "a2.bin"), new Uint8Array([2, 2, 2, 2]));
  writeFileSync(join(dir, "b.csv"), "1,2,3,4\n5,6,7,8\n");
  writeFileSync(join(dir, ".DS_Store"), "junk");
  writeFileSync(join(dir, "sub", "c.png"), png(2, 2, new Array(12).fill(255)));
  const got = await collect(dir, tensor([1, 2, 2, 1], "int8", [1 / 255], [-128]));
  assert.deepEqual(got.map((s) => s.origin), ["a2.bin", "a10.bin", "b.csv:1", "b.csv:2", join("sub", "c.png")]);
  assert.deepEqual(i8(got[4]), [127, 127, 127, 127]);

  writeFileSync(join(dir, "notes.txt"), "hello");
  await fails(dir, tensor([1, 2, 2, 1]), /notes\.txt: unsupported file type "\.txt"; supported: \.csv, \.wav, \.png/);
  mkdirSync(join(tmp, "emptydir"));
  await fails(join(tmp, "emptydir"), tensor([1]), /emptydir: directory has no sample files/);
});

test("unsupported types, missing and empty files, unfillable tensors", async () => {
  await fails(fixture("model.tflite", "x"), tensor([1]), /model\.tflite: unsupported file type "\.tflite"; supported: .*\.jpg\/\.jpeg, \.pgm\/\.ppm\/\.pnm, \.bin/);
  await fails(fixture("README", "x"), tensor([1]), /README: unsupported file type "\(no extension\)"/);
  await fails(join(tmp, "nope.csv"), tensor([1]), /cannot read .*nope\.csv: ENOENT/);
  await fails(fixture("e.png", ""), tensor([2, 2]), /e\.png: file is empty/);
  await fails(fixture("ok.csv", "1\n"), tensor([1], "int16"), /cannot stream samples into a int16 tensor/);
  await fails(fixture("ok2.csv", "1\n"), tensor([1], "int8", [0.1, 0.2], [0, 0]), /needs one per-tensor scale/);
});

test("real models: VWW takes a PNG resized to 96x96; speech models refuse raw WAV", { skip: !existsSync(join(SHARED, "models")) && "shared models not present" }, async () => {
  const { loadModel } = await import("../../host/compile.ts");
  const input = (name: string) => {
    const { meta } = loadModel(modelPath(name));
    return meta.tensors.find((t) => t.index === meta.inputs[0])!;
  };
  const vww = input("vww_96_int8");
  const [s] = await collect(fixture("big.png", png(2, 2, new Array(12).fill(255))), vww);
  assert.equal(s.bytes.length, vww.bytes);
  assert.ok(i8(s).every((v) => v === 127));
  const speech = fixture("speech.wav", wav(1, 16000, "16", new Array(16000).fill(0)));
  for (const m of ["micro_speech_quantized", "kws_ref_model", "ad01_int8"]) await fails(speech, input(m), /feature extractor is needed/);
  const rows = await collect(fixture("hw.csv", "x\n0\n1.5\n"), input("hello_world_int8"));
  assert.equal(rows.length, 2);
});
