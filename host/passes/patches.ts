// Patch-based inference with 2-D patches (MCUNetV2): the first ops of the model, a chain of
// convolutions and pooling, run patch by patch. The last op's output is cut into an R x C grid;
// for each patch, every op computes just the region of its output the next op needs (regions
// overlap at patch borders: that overlap is computed again for each patch, the extra MACs
// reported as the overhead). The stage's input region is copied row by row into a buffer, each
// op reads and writes region buffers (two slots, ping-pong), and the last op's patch is copied
// row by row into the whole output. The rest of the model then runs op by op.
//
// Each op runs on its region as a smaller convolution: input [r0, r1) x [c0, c1), output
// [y0, y1) x [x0, x1), padding padH' = padH + r0 - y0 * strideH (and the same for columns). Taps
// past the real border stay outside the region (r1, c1 are clipped to the input), so every
// output is the whole-tensor op's value: outputs are byte-identical with plain execution.
import type { Graph } from "../graph/graph.ts";
import type { Lowered, LoweredOp } from "./lower.ts";
import { align, type TileShape } from "./plan.ts";
import { stageTiles, FINEST, CONV_LIKE, type OpEncoder } from "./stages.ts";
import type { EncodedStage } from "../format/tlm.ts";

export interface PatchGrid { rows: number; cols: number }

/** Rows [r0, r1) x columns [c0, c1) of a tensor (half-open). */
export interface Region { r0: number; r1: number; c0: number; c1: number }

export interface PatchStage {
  subs: LoweredOp[];
  grid: PatchGrid;
  /** regions[p][j]: patch p's region of chain tensor j (0: the stage input, j: sub j - 1's output). */
  regions: Region[][];
  /** Bytes per pixel of each chain tensor (its channels). */
  channels: number[];
  /** Scratch layout: two region slots (even and odd chain tensors), then the weight tile. */
  slotBytes: [number, number];
  tiles: Map<number, TileShape>;
  scratchBytes: number;
  input: number;
  output: number;
  /** MACs computed beyond plain execution (overlapping regions), and plain execution's. */
  extraMacs: number;
  plainMacs: number;
}

/** The patch stage's share of extra MACs over the whole model's, in percent. */
export function overheadPercent(extraMacs: number, modelMacs: number): number {
  return modelMacs > 0 ? (100 * extraMacs) / modelMacs : 0;
}

type Fields = Record<string, number>;

/** Output size and input window of one axis: a [lo, hi) output range reads input [lo', hi'). */
function axisWindow(lo: number, hi: number, stride: number, pad: number, k: number, dil: number, inSize: number): [number, number] {
  return [Math.max(0, lo * stride - pad), Math.min(inSize, (hi - 1) * stride - pad + (k - 1) * dil + 1)];
}

/** The input region op reads for an output region. */
function inputRegion(op: LoweredOp, out: Region): Region {
  const f = op.fields as Fields;
  const [r0, r1] = axisWindow(out.r0, out.r1, f.strideH, f.padH, f.kH, f.dilH ?? 1, f.inH);
  const [c0, c1] = axisWindow(out.c0, out.c1, f.strideW, f.padW, f.kW, f.dilW ?? 1, f.inW);
  return { r0, r1, c0, c1 };
}

const area = (r: Region) => (r.r1 - r.r0) * (r.c1 - r.c0);

/** Why ops [0, n) cannot be one patch stage, or undefined when they can. */
export function patchChainProblem(g: Graph, lowered: Lowered, n: number): string | undefined {
  const ops = lowered.ops;
  if (n < 1 || n > ops.length) return `the model has ${ops.length} ops`;
  const aliased = new Set([...lowered.aliases.keys(), ...lowered.aliases.values()]);
  for (let j = 0; j < n; j++) {
    const op = ops[j];
    if (!CONV_LIKE.includes(op.kind) || op.stage || op.reads.length !== 1) return `op ${j} (${op.kind}) is not a convolution or pooling`;
    for (const t of [...op.reads, ...op.writes]) {
      const s = g.tensors[t].shape;
      if (s.length !== 4 || s[0] !== 1 || g.tensors[t].dtype !== "int8" || aliased.has(t)) return `op ${j} (${op.kind}) has a tensor that is not a plain int8 NHWC image`;
    }
    if (j > 0 && op.reads[0] !== ops[j - 1].writes[0]) return `op ${j} does not read op ${j - 1}'s output`;
    if (j < n - 1) {
      const t = op.writes[0];
      if (g.outputs.includes(t) || ops.slice(j + 2).some((o) => o.reads.includes(t))) return `op ${j}'s output is read after op ${j + 1}`;
    }
  }
  return undefined;
}

/** Grid boundaries: size split into `parts` near-equal ranges. */
function cuts(size: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, i) => Math.round((i * size) / parts));
}

/** The patch stage of ops [0, n) on `grid`; throws when the ops cannot form one (patchChainProblem). */
export function buildPatchStage(g: Graph, lowered: Lowered, n: number, grid: PatchGrid): PatchStage {
  const problem = patchChainProblem(g, lowered, n);
  if (problem) throw new Error(problem);
  const subs = lowered.ops.slice(0, n);
  const last = subs[n - 1].fields as Fields;
  const outH = last.outH, outW = last.outW;
  if (grid.rows < 1 || grid.cols < 1 || grid.rows > outH || grid.cols > outW) {
    throw new Error(`a ${grid.rows}x${grid.cols} grid does not fit op ${n - 1}'s ${outH}x${outW} output`);
  }
  const chainTensors = [subs[0].reads[0], ...subs.map((op) => op.writes[0])];
  const channels = chainTensors.map((t) => g.tensors[t].shape[3]);
  const rowCuts = cuts(outH, grid.rows), colCuts = cuts(outW, grid.cols);
  const regions: Region[][] = [];
  for (let i = 0; i < grid.rows; i++) {
    for (let j = 0; j < grid.cols; j++) {
      const chain: Region[] = new Array(n + 1);
      chain[n] = { r0: rowCuts[i], r1: rowCuts[i + 1], c0: colCuts[j], c1: colCuts[j + 1] };
      for (let k = n - 1; k >= 0; k--) chain[k] = inputRegion(subs[k], chain[k + 1]);
      regions.push(chain);
    }
  }
  const slotBytes: [number, number] = [0, 0];
  chainTensors.forEach((_, k) => {
    const most = Math.max(...regions.map((chain) => area(chain[k]))) * channels[k];
    slotBytes[k % 2] = Math.max(slotBytes[k % 2], align(most));
  });
  let extraMacs = 0, plainMacs = 0;
  subs.forEach((op, k) => {
    const f = op.fields as Fields;
    const perOutput = op.macs / (f.outH * f.outW);
    plainMacs += op.macs;
    extraMacs += regions.reduce((s, chain) => s + area(chain[k + 1]), 0) * perOutput - op.macs;
  });
  const { tiles, tileBytes } = stageTiles(subs, FINEST);
  return {
    subs, grid, regions, channels, slotBytes, tiles, scratchBytes: slotBytes[0] + slotBytes[1] + tileBytes,
    input: chainTensors[0], output: chainTensors[n], extraMacs: Math.round(extraMacs), plainMacs,
  };
}

/** The STAGE op standing for the patch stage. */
export function patchStageOp(stage: PatchStage): LoweredOp {
  return {
    kind: "STAGE", source: stage.subs[0].source, sourceType: `STAGE(${stage.subs.map((op) => op.sourceType).join("+")})`,
    fields: {}, reads: [stage.input], writes: [stage.output], macs: stage.plainMacs + stage.extraMacs,
    patchStage: stage, scratchBytes: stage.scratchBytes,
  };
}

/** `lowered` with ops [0, n) run as a patch stage on `grid`. */
export function withPatchStage(g: Graph, lowered: Lowered, n: number, grid: PatchGrid): Lowered {
  const stage = buildPatchStage(g, lowered, n, grid);
  return { ops: [patchStageOp(stage), ...lowered.ops.slice(n)], aliases: lowered.aliases };
}

/**
 * The STAGE record's content: the subs plus a COPY, and per patch: the input region copied in
 * row by row, each sub on its regions, the output patch copied out row by row.
 */
export function encodePatchStage(stage: PatchStage, tensorOffset: (t: number) => number, scratchOffset: number, encode: OpEncoder): EncodedStage {
  const slot = (k: number) => scratchOffset + (k % 2 === 0 ? 0 : stage.slotBytes[0]);
  const tileBuf = scratchOffset + stage.slotBytes[0] + stage.slotBytes[1];
  const subs = stage.subs.map((op, j) => encode(op, (t) => (t === stage.input ? slot(0) : slot(j + 1)), tileBuf, stage.tiles.get(j)));
  const copy = subs.length;
  subs.push({ kind: "COPY", params: { input: tileBuf, output: tileBuf, bytes: 0 } });
  const n = stage.subs.length;
  const width = (k: number) => (k === 0 ? (stage.subs[0].fields as Fields).inW : (stage.subs[n - 1].fields as Fields).outW);
  const steps: EncodedStage["steps"] = [];
  const copyRows = (k: number, r: Region, full: number, into: boolean) => {
    const rowBytes = (r.c1 - r.c0) * stage.channels[k], fullRow = width(k) * stage.channels[k];
    for (let y = r.r0; y < r.r1; y++) {
      const whole = full + y * fullRow + r.c0 * stage.channels[k], local = slot(k) + (y - r.r0) * rowBytes;
      steps.push({ sub: copy, patches: [["input", into ? whole : local], ["output", into ? local : whole], ["bytes", rowBytes]] });
    }
  };
  for (const chain of stage.regions) {
    copyRows(0, chain[0], tensorOffset(stage.input), true);
    stage.subs.forEach((op, j) => {
      const f = op.fields as Fields, inR = chain[j], outR = chain[j + 1];
      steps.push({
        sub: j,
        patches: [
          ["input", slot(j)], ["inH", inR.r1 - inR.r0], ["inW", inR.c1 - inR.c0],
          ["padH", f.padH + inR.r0 - outR.r0 * f.strideH], ["padW", f.padW + inR.c0 - outR.c0 * f.strideW],
          ["output", slot(j + 1)], ["outH", outR.r1 - outR.r0], ["outW", outR.c1 - outR.c0],
        ],
      });
    });
    copyRows(n, chain[n], tensorOffset(stage.output), false);
  }
  return { subs, steps };
}
