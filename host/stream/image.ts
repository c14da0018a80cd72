// Image files -> real-valued NHWC input: decode (pngjs, jpeg-js, or netpbm below), convert channels, resize, map pixel range.
import pngjs from "pngjs";
import jpeg from "jpeg-js";
import type { TensorMeta } from "../format/tlm.ts";
import { SourceError, describeTensor, realRange } from "./tensor.ts";

export type PixelRange = "0-1" | "0-255" | "-1-1";
export type ResizeMode = "bilinear" | "nearest";
export const PIXEL_RANGES: Record<PixelRange, [number, number]> = { "0-1": [0, 1], "0-255": [0, 255], "-1-1": [-1, 1] };

/** A decoded image: `channels` values per pixel, row-major, each in [0, max]. */
export interface Decoded { width: number; height: number; channels: 1 | 3; max: number; data: Float64Array }

/** Where an image tensor keeps height, width and channels: [1,H,W,C], [H,W,C] (C = 1 or 3), [1,H,W] or [H,W] (gray). */
export function imageLayout(t: TensorMeta): { h: number; w: number; c: 1 | 3 } {
  const s = t.shape;
  // With an explicit channel axis any H, W >= 1 is an image; without one, [1,784] is a vector, not a 1x784 image.
  const ok = (h: number, w: number, c: number, min: number) => (h >= min && w >= min && (c === 1 || c === 3) ? { h, w, c: c as 1 | 3 } : null);
  let got: { h: number; w: number; c: 1 | 3 } | null = null;
  if (s.length === 4 && s[0] === 1) got = ok(s[1], s[2], s[3], 1);
  else if (s.length === 3 && (s[2] === 1 || s[2] === 3)) got = ok(s[0], s[1], s[2], 1);
  else if (s.length === 3 && s[0] === 1) got = ok(s[1], s[2], 1, 2);
  else if (s.length === 2) got = ok(s[0], s[1], 1, 2);
  if (!got) {
    throw new SourceError(`input ${describeTensor(t)} is not an image tensor: images need [1,H,W,C], [H,W,C] with C = 1 or 3, [1,H,W] or [H,W]`);
  }
  return got;
}

/** Decodes by file extension; `where` names the file in errors. */
export function decodeImage(bytes: Uint8Array, ext: string, where: string): Decoded {
  try {
    if (ext === ".png") return decodePng(bytes);
    if (ext === ".jpg" || ext === ".jpeg") return decodeJpeg(bytes);
    return decodeNetpbm(bytes);
  } catch (e) {
    const kind = ext === ".png" ? "PNG" : ext === ".jpg" || ext === ".jpeg" ? "JPEG" : "PGM/PPM";
    throw new SourceError(`${where}: not a readable ${kind} image (${(e as Error).message})`);
  }
}

function decodePng(bytes: Uint8Array): Decoded {
  // pngjs always returns 8-bit RGBA (16-bit images are scaled down, palettes expanded); alpha is ignored.
  const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return fromRgba(png.width, png.height, png.data);
}

function decodeJpeg(bytes: Uint8Array): Decoded {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
  return fromRgba(img.width, img.height, img.data);
}

/** RGBA bytes -> 1 channel if every pixel is gray (R = G = B), else 3; alpha dropped. */
function fromRgba(width: number, height: number, rgba: Uint8Array): Decoded {
  const n = width * height;
  let gray = true;
  for (let i = 0; i < n && gray; i++) gray = rgba[4 * i] === rgba[4 * i + 1] && rgba[4 * i] === rgba[4 * i + 2];
  const channels = gray ? 1 : 3;
  const data = new Float64Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = rgba[4 * i + c];
  return { width, height, channels, max: 255, data };
}

/**
 * Netpbm gray and color maps: P2/P5 (PGM) and P3/P6 (PPM), any maxval up to 65535. The format is a
 * whitespace-separated text header and a sample array; no maintained npm decoder is small enough to be worth a dependency.
 */
export function decodeNetpbm(bytes: Uint8Array): Decoded {
  let at = 0;
  const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
  const token = (): string => {
    for (;;) {
      while (at < bytes.length && isSpace(bytes[at])) at++;
      if (bytes[at] !== 0x23) break; // '#' comment to end of line
      while (at < bytes.length && bytes[at] !== 0x0a && bytes[at] !== 0x0d) at++;
    }
    const start = at;
    while (at < bytes.length && !isSpace(bytes[at]) && bytes[at] !== 0x23) at++;
    if (start === at) throw new Error("header ends early");
    return String.fromCharCode(...bytes.subarray(start, at));
  };
  const int = (what: string, lo: number, hi: number): number => {
    const s = token();
    const v = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(v >= lo && v <= hi)) throw new Error(`bad ${what} "${s.slice(0, 20)}"`);
    return v;
  };
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0);
  if (!["P2", "P3", "P5", "P6"].includes(magic)) throw new Error(`starts with "${magic.replace(/[^ -~]/g, "?")}", expected P2, P3, P5 or P6`);
  at = 2;
  const width = int("width", 1, 1 << 16);
  const height = int("height", 1, 1 << 16);
  const max = int("maxval", 1, 65535);
  const channels = magic === "P3" || magic === "P6" ? 3 : 1;
  const count = width * height * channels;
  const data = new Float64Array(count);
  if (magic === "P2" || magic === "P3") {
    for (let i = 0; i < count; i++) {
      try {
        data[i] = int("sample", 0, max);
      } catch {
        throw new Error(`sample ${i} of ${count} is missing or out of 0..${max}`);
      }
    }
  } else {
    at++; // exactly one whitespace byte ends the header
    const wide = max > 255;
    const need = count * (wide ? 2 : 1);
    if (bytes.length - at < need) throw new Error(`truncated: ${bytes.length - at} data bytes for ${width}x${height}x${channels} samples (${need} bytes)`);
    for (let i = 0; i < count; i++) {
      const v = wide ? (bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1] : bytes[at + i];
      if (v > max) throw new Error(`sample ${i} is ${v}, above maxval ${max}`);
      data[i] = v;
    }
  }
  return { width, height, channels, max, data };
}

/** ITU-R BT.601 luma weights, as PIL's "L" mode and OpenCV's RGB2GRAY use. */
const LUMA = [0.299, 0.587, 0.114];

export function convertChannels(img: Decoded, c: 1 | 3): Decoded {
  if (img.channels === c) return img;
  const n = img.width * img.height;
  const data = new Float64Array(n * c);
  if (c === 1) {
    for (let i = 0; i < n; i++) data[i] = LUMA[0] * img.data[3 * i] + LUMA[1] * img.data[3 * i + 1] + LUMA[2] * img.data[3 * i + 2];
  } else {
    for (let i = 0; i < n; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = img.data[i];
  }
  return { ...img, channels: c, data };
}

/**
 * Resizes with half-pixel centers (source x = (x + 0.5) * inW / outW - 0.5, clamped to the edge), as OpenCV's
 * INTER_LINEAR / INTER_NEAREST and TF's resize with half_pixel_centers do. No antialiasing: shrinking a large photo
 * by a big factor aliases; pre-scale such images for best results.
 */
export function resize(img: Decoded, outW: number, outH: number, mode: ResizeMode): Decoded {
  if (img.width === outW && img.height === outH) return img;
  const { width: inW, height: inH, channels: ch } = img;
  const data = new Float64Array(outW * outH * ch);
  const axis = (out: number, n: number, size: number) => {
    const s = (out + 0.5) * (n / size) - 0.5;
    if (mode === "nearest") {
      const i = Math.min(n - 1, Math.floor((out + 0.5) * (n / size)));
      return { i0: i, i1: i, f: 0 };
    }
    const c = Math.min(n - 1, Math.max(0, s));
    const i0 = Math.floor(c);
    return { i0, i1: Math.min(n - 1, i0 + 1), f: c - i0 };
  };
  const xs = Array.from({ length: outW }, (_, x) => axis(x, inW, outW));
  for (let y = 0; y < outH; y++) {
    const ay = axis(y, inH, outH);
    for (let x = 0; x < outW; x++) {
      const ax = xs[x];
      for (let c = 0; c < ch; c++) {
        const p = (yy: number, xx: number) => img.data[(yy * inW + xx) * ch + c];
        const top = p(ay.i0, ax.i0) + (p(ay.i0, ax.i1) - p(ay.i0, ax.i0)) * ax.f;
        const bottom = p(ay.i1, ax.i0) + (p(ay.i1, ax.i1) - p(ay.i1, ax.i0)) * ax.f;
        data[(y * outW + x) * ch + c] = top + (bottom - top) * ay.f;
      }
    }
  }
  return { width: outW, height: outH, channels: ch, max: img.max, data };
}

/** Maps decoded values in [0, max] to real values in the chosen range: p/max, p*255/max or 2p/max - 1. */
export function toReal(img: Decoded, range: PixelRange): Float64Array {
  const out = new Float64Array(img.data.length);
  const m = img.max;
  for (let i = 0; i < out.length; i++) {
    const p = img.data[i];
    out[i] = range === "0-1" ? p / m : range === "0-255" ? (p * 255) / m : (p * 2) / m - 1;
  }
  return out;
}

/** A decoded image as the tensor's real values (NHWC order), ready for encodeTensor. */
export function imageValues(img: Decoded, t: TensorMeta, range: PixelRange, mode: ResizeMode): Float64Array {
  const { h, w, c } = imageLayout(t);
  return toReal(resize(convertChannels(img, c), w, h, mode), range);
}

/**
 * A hint when the pixel range does not suit the tensor's quantization (e.g. 0-1 pixels into a [0,255] input
 * would use 2 of its 256 levels); null when it fits or the tensor is float.
 */
export function pixelRangeHint(t: TensorMeta, range: PixelRange): string | null {
  const rr = realRange(t);
  if (!rr) return null;
  const [lo, hi] = rr;
  const fit = (r: PixelRange) => {
    const [a, b] = PIXEL_RANGES[r];
    const levels = (b - a) / t.scale[0];
    const covered = Math.max(0, Math.min(b, hi) - Math.max(a, lo)) / (b - a);
    return { levels, covered, good: levels >= 16 && covered >= 0.9 };
  };
  const mine = fit(range);
  if (mine.good) return null;
  const better = (Object.keys(PIXEL_RANGES) as PixelRange[]).find((r) => r !== range && fit(r).good);
  const why = mine.covered < 0.9
    ? `${Math.round((1 - mine.covered) * 100)}% of that range is clipped`
    : `that range spans only ${Math.max(1, Math.round(mine.levels))} of its quantization steps`;
  return `input ${describeTensor(t)} holds real values ${fmt(lo)}..${fmt(hi)}, but pixels are mapped to ${range}: ${why}` +
    (better ? `; pixel range ${better} looks right for this model` : "");
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}
