// Seeded float32 inputs that look roughly like real data (smooth images, smooth
// spectra), for calibrating a float model when no calibration set is given and
// for measuring quantization error. White noise is a poor stand-in: models are
// trained (and int8 ranges calibrated) on natural signals, whose activations
// white noise does not resemble.
import { elementCount } from "../graph/graph.ts";

/** xorshift32 floats in [0, 1). */
export class Rng {
  private x: number;
  constructor(seed: number) { this.x = (seed >>> 0) || 0x9e3779b9; }
  next(): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.x = x;
    return x / 2 ** 32;
  }
  range(lo: number, hi: number): number { return lo + (hi - lo) * this.next(); }
  int(n: number): number { return Math.floor(this.next() * n); }
}

/**
 * A smooth random NHWC image with values in [lo, hi]: a bilinearly upsampled
 * coarse colour field, a few flat shapes with hard edges, and mild pixel noise.
 */
export function smoothImage(rng: Rng, h: number, w: number, c: number, lo = 0, hi = 1): Float32Array {
  const img = new Float32Array(h * w * c);
  const g = 2 + rng.int(5); // coarse grid 2..6 cells a side
  const grid = new Float32Array((g + 1) * (g + 1) * c);
  const base = rng.range(0.2, 0.8), contrast = rng.range(0.2, 0.8);
  for (let i = 0; i < (g + 1) * (g + 1); i++) {
    const luma = base + contrast * (rng.next() - 0.5);
    for (let k = 0; k < c; k++) grid[i * c + k] = luma + 0.25 * (rng.next() - 0.5); // correlated channels
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const gy = (y / Math.max(1, h - 1)) * g, gx = (x / Math.max(1, w - 1)) * g;
    const y0 = Math.min(g - 1, Math.floor(gy)), x0 = Math.min(g - 1, Math.floor(gx));
    const fy = gy - y0, fx = gx - x0;
    for (let k = 0; k < c; k++) {
      const at = (yy: number, xx: number) => grid[(yy * (g + 1) + xx) * c + k];
      img[(y * w + x) * c + k] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  }
  const shapes = rng.int(4);
  for (let s = 0; s < shapes; s++) {
    const cy = rng.range(0, h), cx = rng.range(0, w), r = rng.range(0.1, 0.35) * Math.min(h, w);
    const round = rng.next() < 0.5;
    const colour = Array.from({ length: c }, () => rng.next());
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const inside = round ? (y - cy) ** 2 + (x - cx) ** 2 < r * r : Math.abs(y - cy) < r && Math.abs(x - cx) < r * 0.7;
      if (inside) for (let k = 0; k < c; k++) img[(y * w + x) * c + k] = colour[k];
    }
  }
  for (let i = 0; i < img.length; i++) {
    const v = Math.min(1, Math.max(0, img[i] + 0.03 * (rng.next() - 0.5)));
    img[i] = lo + (hi - lo) * v;
  }
  return img;
}

/**
 * A smooth random signal of `n` values in [lo, hi], as `frames` rows of `n/frames`
 * bins that share one smooth envelope (like consecutive spectrogram frames).
 */
export function smoothSignal(rng: Rng, n: number, lo = 0, hi = 1, frames = 1): Float32Array {
  const bins = Math.floor(n / frames) || n;
  const out = new Float32Array(n);
  const terms = Array.from({ length: 4 }, (_, k) => ({ amp: rng.range(0, 0.25) / (k + 1), freq: rng.range(0.5, 3) * (k + 1), phase: rng.range(0, 2 * Math.PI) }));
  const level = rng.range(0.35, 0.75), tilt = rng.range(-0.3, 0.05);
  for (let i = 0; i < n; i++) {
    const b = (i % bins) / bins;
    let v = level + tilt * b;
    for (const t of terms) v += t.amp * Math.sin(2 * Math.PI * t.freq * b + t.phase);
    v += 0.04 * (rng.next() - 0.5);
    out[i] = lo + (hi - lo) * Math.min(1, Math.max(0, v));
  }
  return out;
}

/** A structured random input for a tensor of `shape`: an image for 4-D NHWC with 1..4 channels, else a signal. */
export function syntheticInput(rng: Rng, shape: number[], lo = 0, hi = 1): Float32Array {
  if (shape.length === 4 && shape[3] <= 4) return smoothImage(rng, shape[1], shape[2], shape[3], lo, hi);
  const n = elementCount(shape);
  const frames = n % 128 === 0 && n > 128 ? n / 128 : 1;
  return smoothSignal(rng, n, lo, hi, frames);
}

/** `count` seeded inputs for one tensor. */
export function syntheticInputs(seed: number, count: number, shape: number[], lo = 0, hi = 1): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => syntheticInput(rng, shape, lo, hi));
}
