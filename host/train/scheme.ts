// Update schemes: which parameters a training run changes. Layers are numbered by the
// model's weighted ops (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) in execution order.

export type Scheme =
  | { kind: "bias" } // every bias, no weights (TinyTL-style)
  | { kind: "last"; k: number } // weights and biases of the last k weighted layers
  | { kind: "full" } // everything
  /** Biases of layers >= biasFrom, and the first ceil(ratio * outC) output channels' weights of chosen layers. */
  | { kind: "sparse"; biasFrom: number; weights: { layer: number; ratio: number }[] };

/** `--scheme` as given: a fixed scheme, or a sparse scheme to search for under a byte budget. */
export type SchemeRequest = Scheme | { kind: "sparse-search"; budgetBytes?: number };

export class SchemeError extends Error {}

export function parseScheme(text: string): SchemeRequest {
  const t = text.trim();
  if (t === "bias" || t === "full") return { kind: t };
  let m = /^last:(\d+)$/.exec(t);
  if (m) {
    const k = Number(m[1]);
    if (k < 1) throw new SchemeError(`--scheme ${t}: K must be at least 1`);
    return { kind: "last", k };
  }
  if (t === "sparse") return { kind: "sparse-search" };
  m = /^sparse:(\d+)(k|kb|KB|K)?$/.exec(t);
  if (m) return { kind: "sparse-search", budgetBytes: Number(m[1]) * (m[2] ? 1024 : 1) };
  if (t.startsWith("sparse:{")) return parseSparseJson(t.slice("sparse:".length));
  throw new SchemeError(`--scheme ${JSON.stringify(text)} is not a scheme; use bias, last:K, full, sparse or sparse:BYTES (a training-memory budget, e.g. sparse:65536 or sparse:64k)`);
}

function parseSparseJson(json: string): Scheme {
  let v: unknown;
  try { v = JSON.parse(json); } catch (e) { throw new SchemeError(`--scheme sparse:{...}: not valid JSON (${(e as Error).message})`); }
  const o = v as { biasFrom?: unknown; weights?: unknown };
  if (typeof o.biasFrom !== "number" || !Array.isArray(o.weights)) throw new SchemeError(`--scheme sparse:{...} needs {"biasFrom": N, "weights": [{"layer": L, "ratio": R}, ...]}`);
  const weights = o.weights.map((w: { layer?: unknown; ratio?: unknown }) => {
    if (typeof w.layer !== "number" || typeof w.ratio !== "number" || w.ratio <= 0 || w.ratio > 1) throw new SchemeError(`--scheme sparse: each weights entry needs a layer number and a ratio in (0, 1]`);
    return { layer: w.layer, ratio: w.ratio };
  });
  return { kind: "sparse", biasFrom: o.biasFrom, weights };
}

export function describeScheme(s: Scheme): string {
  switch (s.kind) {
    case "bias": case "full": return s.kind;
    case "last": return `last:${s.k}`;
    case "sparse": return `sparse:${JSON.stringify({ biasFrom: s.biasFrom, weights: s.weights })}`;
  }
}

/** What a scheme trains in each weighted layer: the first trainChannels output channels' weights, and biases. */
export interface LayerUpdate { trainChannels: number; trainBias: boolean }

export function layerUpdates(s: Scheme, outC: number[]): LayerUpdate[] {
  const n = outC.length;
  const check = (layer: number) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= n) throw new SchemeError(`scheme names layer ${layer}, but the model has weighted layers 0..${n - 1}`);
  };
  switch (s.kind) {
    case "bias": return outC.map(() => ({ trainChannels: 0, trainBias: true }));
    case "full": return outC.map((c) => ({ trainChannels: c, trainBias: true }));
    case "last": {
      if (s.k > n) throw new SchemeError(`last:${s.k} asks for more layers than the model's ${n} weighted layers`);
      return outC.map((c, i) => (i >= n - s.k ? { trainChannels: c, trainBias: true } : { trainChannels: 0, trainBias: false }));
    }
    case "sparse": {
      if (s.biasFrom !== n) check(s.biasFrom);
      const out = outC.map((_, i) => ({ trainChannels: 0, trainBias: i >= s.biasFrom }));
      for (const w of s.weights) {
        check(w.layer);
        out[w.layer].trainChannels = Math.min(outC[w.layer], Math.max(1, Math.ceil(w.ratio * outC[w.layer])));
      }
      return out;
    }
  }
}
