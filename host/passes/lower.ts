// Lowers each TFLite op to one engine op record: checks that tinyloop supports
// it, computes every quantization parameter the kernel needs, and names the
// buffers it reads and writes. Arena offsets are filled in later by the planner.
import { f32Bits } from "../util/f32-bits.ts";
import { type Graph, type Op, type Tensor, elementCount, tensorBytes } from "../graph/graph.ts";
import type { OpName } from "../format/spec.ts";
import { activationRange, leadingPadding, outputSize, quantizeMultiplier, softmaxParams } from "./tflite-quant.ts";
import { int8ChannelData, fp8ChannelData, sparseBlockBytes, type Channels } from "../format/tlm.ts";
import { floatData } from "../float/interpreter.ts";
import { quantizeFp8Weights } from "./fp8-weights.ts";
import type { Stage } from "./stages.ts";
import type { PatchStage } from "./patches.ts";
import type { WeightCoding } from "./weight-coding.ts";

export class UnsupportedError extends Error {}

/** A record field's value: a number, or the arena offset of a tensor or of this op's scratch buffer. */
export type FieldValue = number | { tensor: number } | { scratch: true } | { weights: true };

/** Per-channel data and weights of a weighted op, before they are cut into tiles. */
export interface ChannelWeights extends Channels {
  /** Stored as sparse blocks (1x1 convolutions whose weights are mostly zero). */
  sparse?: boolean;
  /**
   * FULLY_CONNECTED that may store its weights in groups of four channels (weightLayout 1 in
   * spec.ts): the channel data those tiles carry, with the input offset folded into the bias.
   */
  grouped?: Pick<Channels, "channelData">;
  /** Weights stored run-length, zero-value or Huffman coded (host/passes/weight-coding.ts, --compress auto). */
  coding?: WeightCoding;
}

/** Op option PTQ sets on a weighted op whose float32 weights become fp8 (E4M3). */
export const FP8_WEIGHTS_OPTION = "fp8Weights";

/** A 1x1 convolution with at least this share of zero weights is stored and run sparse. */
export const SPARSE_MIN_ZERO_SHARE = 0.5;

/** Bytes of a layer's weights as sparse blocks (see CONV_2D_SPARSE in spec.ts). */
function sparseBytes(ch: Pick<Channels, "weights" | "perChannel">, outC: number): number {
  let bytes = 0;
  for (let c = 0; c < outC; c++) bytes += sparseBlockBytes(ch, c);
  return bytes;
}

function zeroShare(w: Int8Array): number {
  let zeros = 0;
  for (const v of w) if (v === 0) zeros++;
  return w.length ? zeros / w.length : 0;
}

export interface LoweredOp {
  kind: OpName;
  /** Index of the TFLite op this came from. */
  source: number;
  sourceType: string;
  fields: Record<string, FieldValue>;
  /** Variable-length tail of the record (concatenation's inputs). */
  tail?: FieldValue[];
  reads: number[]; // activation tensors read
  writes: number[]; // activation tensors written
  channels?: ChannelWeights;
  /** Output may share the buffer of this input when the input dies here. */
  inPlaceInput?: number;
  macs: number;
  /** A row-streamed stage (host/passes/stages.ts) standing for several ops. */
  stage?: Stage;
  /** A 2-D patch stage (host/passes/patches.ts) standing for the model's first ops. */
  patchStage?: PatchStage;
  /** Scratch of a fixed size (a stage's rings and weight tile). */
  scratchBytes?: number;
  /** The output is placed `delta` bytes below this input, which dies here (a stage writing over its input). */
  shift?: { input: number; output: number; delta: number };
}

export interface Lowered {
  ops: LoweredOp[];
  /** RESHAPE-like ops that need no code: output tensor -> input tensor it aliases. */
  aliases: Map<number, number>;
}

const SUPPORTED = [
  "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL",
  "RESHAPE", "SQUEEZE", "SOFTMAX", "QUANTIZE", "DEQUANTIZE", "PAD", "PADV2", "CONCATENATION", "MEAN",
];

/** `--compress`: store weights in the smallest exact form that runs fast (auto: sparse 1x1 layers), or dense (off). */
export type CompressMode = "auto" | "off";
export const COMPRESS_MODES: readonly CompressMode[] = ["auto", "off"];

export interface LowerOptions {
  compress?: CompressMode;
  /** Let fully connected ops store weights in groups of four channels (inference; training reads rows). */
  groupFullyConnected?: boolean;
}

export function lower(g: Graph, options: LowerOptions = {}): Lowered {
  const ops: LoweredOp[] = [];
  const aliases = new Map<number, number>();
  for (const op of g.ops) {
    const ctx = new OpContext(g, op, options.compress ?? "auto", options.groupFullyConnected ?? false);
    switch (op.type) {
      case "CONV_2D": ops.push(lowerConv(ctx, false)); break;
      case "DEPTHWISE_CONV_2D": ops.push(lowerConv(ctx, true)); break;
      case "FULLY_CONNECTED": ops.push(lowerFullyConnected(ctx)); break;
      case "AVERAGE_POOL_2D": case "MAX_POOL_2D": ops.push(lowerPool(ctx)); break;
      case "ADD": case "MUL": ops.push(lowerElementwise(ctx)); break;
      case "SOFTMAX": ops.push(lowerSoftmax(ctx)); break;
      case "QUANTIZE": ops.push(lowerQuantize(ctx)); break;
      case "DEQUANTIZE": ops.push(lowerDequantize(ctx)); break;
      case "PAD": case "PADV2": ops.push(lowerPad(ctx)); break;
      case "CONCATENATION": ops.push(lowerConcatenation(ctx)); break;
      case "MEAN": ops.push(lowerMean(ctx)); break;
      case "RESHAPE": case "SQUEEZE": {
        const input = ctx.activation(0), output = ctx.output(0);
        if (tensorBytes(input) !== tensorBytes(output)) ctx.fail(`input has ${tensorBytes(input)} bytes but output has ${tensorBytes(output)}`);
        aliases.set(output.index, input.index);
        break;
      }
      default:
        throw new UnsupportedError(`op ${op.index} (${op.type}) is not supported by tinyloop; supported ops: ${SUPPORTED.join(", ")}`);
    }
  }
  return { ops, aliases };
}

/** Access to one op's tensors with errors that name the op. */
class OpContext {
  constructor(readonly g: Graph, readonly op: Op, readonly compress: CompressMode, readonly groupFullyConnected: boolean) {}
  get where(): string { return `op ${this.op.index} (${this.op.type})`; }
  fail(msg: string): never { throw new UnsupportedError(`${this.where}: ${msg}`); }

  tensor(i: number, what: string): Tensor {
    const idx = this.op.inputs[i];
    if (idx === undefined || idx < 0) this.fail(`missing ${what} (input ${i})`);
    return this.g.tensors[idx];
  }
  optional(i: number): Tensor | undefined {
    const idx = this.op.inputs[i];
    return idx === undefined || idx < 0 ? undefined : this.g.tensors[idx];
  }
  /** A non-constant int8 (or given dtype) input. */
  activation(i: number, dtype: Tensor["dtype"] = "int8"): Tensor {
    const t = this.tensor(i, "input");
    if (t.data) this.fail(`input ${i} ("${t.name}") is a constant; only computed inputs are supported there`);
    this.expectType(t, dtype);
    return t;
  }
  constant(i: number, what: string, dtype: Tensor["dtype"]): Tensor {
    const t = this.tensor(i, what);
    if (!t.data) this.fail(`${what} "${t.name}" must be a constant tensor`);
    this.expectType(t, dtype);
    return t;
  }
  output(i: number, dtype: Tensor["dtype"] = "int8"): Tensor {
    const idx = this.op.outputs[i];
    if (idx === undefined) this.fail(`missing output ${i}`);
    const t = this.g.tensors[idx];
    this.expectType(t, dtype);
    return t;
  }
  expectType(t: Tensor, dtype: Tensor["dtype"]): void {
    if (t.dtype !== dtype) {
      const hint = t.dtype === "float32" ? " (float models are not supported yet: convert with full-integer int8 quantization)" : "";
      this.fail(`tensor ${t.index} ("${t.name}") is ${t.dtype}; tinyloop supports ${dtype} here${hint}`);
    }
    if (dtype === "int8" && t.scale.length === 0) this.fail(`tensor ${t.index} ("${t.name}") is int8 but has no quantization parameters`);
  }
  perTensor(t: Tensor): { scale: number; zp: number } {
    if (t.scale.length !== 1) this.fail(`tensor ${t.index} ("${t.name}") needs per-tensor quantization, has ${t.scale.length} scales`);
    return { scale: t.scale[0], zp: t.zeroPoint[0] };
  }
  option<T>(name: string, dflt?: T): T {
    const v = this.op.options[name];
    if (v === undefined) {
      if (dflt === undefined) this.fail(`options are missing "${name}"`);
      return dflt;
    }
    return v as T;
  }
}

function nhwc(ctx: OpContext, t: Tensor, what: string): [number, number, number] {
  if (t.shape.length !== 4) ctx.fail(`${what} "${t.name}" has shape [${t.shape}]; expected 4-D NHWC`);
  if (t.shape[0] !== 1) ctx.fail(`${what} "${t.name}" has batch ${t.shape[0]}; tinyloop runs batch 1`);
  return [t.shape[1], t.shape[2], t.shape[3]];
}

function int8Data(t: Tensor): Int8Array {
  return new Int8Array(t.data!.buffer, t.data!.byteOffset, t.data!.length);
}

function biasData(ctx: OpContext, i: number, outC: number): Int32Array {
  const b = ctx.optional(i);
  if (!b) return new Int32Array(outC);
  if (!b.data) ctx.fail(`bias "${b.name}" must be a constant tensor`);
  if (b.dtype !== "int32") ctx.fail(`bias "${b.name}" is ${b.dtype}; int8 kernels need int32 bias`);
  if (elementCount(b.shape) !== outC) ctx.fail(`bias "${b.name}" has ${elementCount(b.shape)} values for ${outC} output channels`);
  const copy = new Uint8Array(b.data); // aligned copy
  return new Int32Array(copy.buffer, 0, outC);
}

/** Per-channel multipliers as TFLM's PopulateConvolutionQuantizationParams computes them. */
function channelMultipliers(ctx: OpContext, input: Tensor, filter: Tensor, output: Tensor, outC: number) {
  const inScale = ctx.perTensor(input).scale, outScale = ctx.perTensor(output).scale;
  if (filter.scale.length !== 1 && filter.scale.length !== outC) {
    ctx.fail(`filter "${filter.name}" has ${filter.scale.length} scales for ${outC} output channels`);
  }
  if (filter.zeroPoint.some((z) => z !== 0)) ctx.fail(`filter "${filter.name}" has a non-zero zero point; int8 filters must be symmetric`);
  const multiplier = new Int32Array(outC), shift = new Int32Array(outC);
  for (let c = 0; c < outC; c++) {
    const fs = filter.scale.length === 1 ? filter.scale[0] : filter.scale[c];
    [multiplier[c], shift[c]] = quantizeMultiplier((inScale * fs) / outScale);
  }
  return { multiplier, shift };
}

function outputQuant(ctx: OpContext, output: Tensor, act?: string) {
  const { scale, zp } = ctx.perTensor(output);
  const [actMin, actMax] = activationRange(act as never, scale, zp);
  return { outputOffset: zp, actMin, actMax };
}

/** True when PTQ left this op's weights float32 for fp8 (see FP8_WEIGHTS_OPTION). */
function fp8Weights(ctx: OpContext): boolean {
  return ctx.op.options[FP8_WEIGHTS_OPTION] === true;
}

/** A depthwise filter's [kH][kW][outC] values reordered to [outC][kH][kW] (the tile order). */
function channelMajor<T extends Int8Array | Float32Array>(w: T, outC: number, perChannel: number): T {
  const out = new (w.constructor as { new(n: number): T })(outC * perChannel);
  for (let c = 0; c < outC; c++) for (let k = 0; k < perChannel; k++) out[c * perChannel + k] = w[k * outC + c];
  return out;
}

function lowerConv(ctx: OpContext, depthwise: boolean): LoweredOp {
  const fp8 = fp8Weights(ctx);
  const input = ctx.activation(0), filter = ctx.constant(1, "filter", fp8 ? "float32" : "int8"), output = ctx.output(0);
  const [inH, inW, inC] = nhwc(ctx, input, "input");
  const [outH, outW, outC] = nhwc(ctx, output, "output");
  if (filter.shape.length !== 4) ctx.fail(`filter "${filter.name}" has shape [${filter.shape}]; expected 4-D`);
  const strideH = ctx.option<number>("strideH"), strideW = ctx.option<number>("strideW");
  const dilH = ctx.option<number>("dilationH", 1), dilW = ctx.option<number>("dilationW", 1);
  if (strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1) ctx.fail(`strides and dilations must be at least 1`);
  const padding = ctx.option<"SAME" | "VALID">("padding");
  let kH: number, kW: number, depthMultiplier = 1, perChannel: number;
  if (!depthwise) {
    const [fo, fh, fw, fi] = filter.shape;
    if (fo !== outC) ctx.fail(`filter has ${fo} output channels but the output has ${outC}`);
    if (fi !== inC) ctx.fail(`filter has ${fi} input channels but the input has ${inC} (grouped convolution is not supported)`);
    kH = fh; kW = fw; perChannel = fh * fw * fi;
  } else {
    const [one, fh, fw, fc] = filter.shape;
    if (one !== 1 || fc !== outC) ctx.fail(`depthwise filter has shape [${filter.shape}]; expected [1, kH, kW, ${outC}]`);
    if (outC % inC !== 0) ctx.fail(`output channels ${outC} are not a multiple of input channels ${inC}`);
    depthMultiplier = outC / inC;
    kH = fh; kW = fw; perChannel = fh * fw;
  }
  // Conv filters are already [outC][kH][kW][inC]; depthwise ones are reordered per channel.
  const ordered = <T extends Int8Array | Float32Array>(w: T) => (depthwise ? channelMajor(w, outC, perChannel) : w);
  const expectH = outputSize(padding, inH, kH, strideH, dilH), expectW = outputSize(padding, inW, kW, strideW, dilW);
  if (expectH !== outH || expectW !== outW) ctx.fail(`output is ${outH}x${outW} but ${padding} padding gives ${expectH}x${expectW}`);
  const geometry = {
    input: { tensor: input.index }, inH, inW, inC,
    output: { tensor: output.index }, outH, outW, outC,
    kH, kW, strideH, strideW, dilH, dilW,
    padH: leadingPadding(inH, kH, strideH, dilH, outH), padW: leadingPadding(inW, kW, strideW, dilW, outW),
    depthMultiplier,
  };
  const common = { source: ctx.op.index, sourceType: ctx.op.type, reads: [input.index], writes: [output.index], macs: outH * outW * outC * perChannel };
  if (fp8) {
    const { fields, channels } = fp8Layer(ctx, input, ordered(floatData(filter)), output, outC, perChannel);
    return { kind: depthwise ? "DEPTHWISE_CONV_2D_FP8" : "CONV_2D_FP8", ...common, fields: { ...geometry, batches: 1, ...fields, inChunk: 0 }, channels };
  }
  const weights = ordered(int8Data(filter));
  const { multiplier, shift } = channelMultipliers(ctx, input, filter, output, outC);
  // Pointwise layers of pruned models: skip the zero weights (exact: they add nothing), where
  // that also stores fewer bytes than the dense weights.
  const sparse = ctx.compress === "auto" && !depthwise && kH === 1 && kW === 1 && inC <= 0xffff && outC <= 0xffff &&
    zeroShare(weights) >= SPARSE_MIN_ZERO_SHARE && sparseBytes({ weights, perChannel }, outC) < weights.length;
  return {
    kind: depthwise ? "DEPTHWISE_CONV_2D" : sparse ? "CONV_2D_SPARSE" : "CONV_2D", ...common,
    fields: {
      ...geometry,
      inputOffset: -ctx.perTensor(input).zp,
      ...outputQuant(ctx, output, ctx.option("activation", "NONE")),
      weights: { weights: true }, tileCh: 0, tileBuf: { scratch: true }, weightCoding: 0, codeTable: 0,
    },
    channels: { outC, perChannel, weights, sparse, ...int8ChannelData(biasData(ctx, 2, outC), multiplier, shift) },
  };
}

/**
 * The quantization fields and tiles of an fp8-weight op (int8 activations in and out):
 * E4M3 weights with f32 scales, f32 bias, f32 accumulation (assembly/kernels/fp8/params.ts).
 */
function fp8Layer(ctx: OpContext, input: Tensor, w: Float32Array, output: Tensor, outC: number, perChannel: number) {
  const q = quantizeFp8Weights(w, outC, perChannel);
  const b = ctx.optional(2);
  if (b && (!b.data || b.dtype !== "float32")) ctx.fail(`bias "${b?.name}" must be a constant float32 tensor for fp8 weights`);
  const bias = b ? floatData(b) : new Float32Array(outC);
  if (bias.length !== outC) ctx.fail(`bias has ${bias.length} values for ${outC} output channels`);
  const qi = ctx.perTensor(input);
  const fields = {
    inType: 0, outType: 0, // int8 activations
    inScaleBits: f32Bits(qi.scale), inZeroPoint: qi.zp,
    outScaleBits: f32Bits(ctx.perTensor(output).scale),
    ...renameOffset(outputQuant(ctx, output, ctx.option("activation", "NONE"))),
    actMinBits: f32Bits(-Infinity), actMaxBits: f32Bits(Infinity),
    weightFormat: 0, // E4M3
    perChannelScale: q.perChannelScale ? 1 : 0, weightScaleBits: q.perChannelScale ? 0 : f32Bits(q.scales[0]),
    weights: { weights: true } as FieldValue, tileCh: 0, tileBuf: { scratch: true } as FieldValue,
  };
  const codes = new Int8Array(q.codes.buffer, q.codes.byteOffset, q.codes.length);
  const channels: ChannelWeights = { outC, perChannel, weights: codes, ...fp8ChannelData(bias, q.perChannelScale ? q.scales : undefined) };
  return { fields, channels };
}

/** outputQuant's fields under Fp8Params' names. */
function renameOffset({ outputOffset, actMin, actMax }: { outputOffset: number; actMin: number; actMax: number }) {
  return { outZeroPoint: outputOffset, actMin, actMax };
}

function lowerFullyConnected(ctx: OpContext): LoweredOp {
  const fp8 = fp8Weights(ctx);
  const input = ctx.activation(0), filter = ctx.constant(1, "filter", fp8 ? "float32" : "int8"), output = ctx.output(0);
  if (filter.shape.length !== 2) ctx.fail(`filter "${filter.name}" has shape [${filter.shape}]; expected [out, in]`);
  if (ctx.option<number>("weightsFormat", 0) !== 0) ctx.fail(`shuffled weights formats are not supported`);
  const [outC, inC] = filter.shape;
  const n = elementCount(input.shape);
  if (n % inC !== 0) ctx.fail(`input has ${n} values, not a multiple of the filter's ${inC} inputs`);
  const batches = n / inC;
  if (elementCount(output.shape) !== batches * outC) ctx.fail(`output has ${elementCount(output.shape)} values; expected ${batches * outC}`);
  const common = { source: ctx.op.index, sourceType: ctx.op.type, reads: [input.index], writes: [output.index], macs: batches * outC * inC };
  if (fp8) {
    const { fields, channels } = fp8Layer(ctx, input, floatData(filter), output, outC, inC);
    const geometry = {
      input: { tensor: input.index }, inH: 1, inW: 1, inC, output: { tensor: output.index }, outH: 1, outW: 1, outC,
      kH: 1, kW: 1, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padH: 0, padW: 0, depthMultiplier: 1, batches,
    };
    return { kind: "FULLY_CONNECTED_FP8", ...common, fields: { ...geometry, ...fields, inChunk: inC }, channels };
  }
  const inScale = ctx.perTensor(input).scale, outScale = ctx.perTensor(output).scale;
  const multiplier = new Int32Array(outC), shift = new Int32Array(outC);
  if (filter.scale.length !== 1 && filter.scale.length !== outC) ctx.fail(`filter has ${filter.scale.length} scales for ${outC} outputs`);
  for (let c = 0; c < outC; c++) {
    // TFLM: per-channel scales are multiplied in double; a per-tensor filter goes through
    // GetQuantizedConvolutionMultipler, which multiplies input and filter scale in float32.
    const product = filter.scale.length === 1 ? Math.fround(inScale * filter.scale[0]) : inScale * filter.scale[c];
    [multiplier[c], shift[c]] = quantizeMultiplier(product / outScale);
  }
  if (filter.zeroPoint.length > 1 && filter.zeroPoint.some((z) => z !== filter.zeroPoint[0])) ctx.fail(`per-channel filter zero points are not supported`);
  const inputOffset = -ctx.perTensor(input).zp, filterOffset = -(filter.zeroPoint[0] ?? 0);
  const weights = int8Data(filter), bias = biasData(ctx, 2, outC);
  const channels: ChannelWeights = { outC, perChannel: inC, weights, ...int8ChannelData(bias, multiplier, shift) };
  if (ctx.groupFullyConnected && batches === 1 && filterOffset === 0 && outC % 4 === 0) {
    channels.grouped = int8ChannelData(foldInputOffset(bias, weights, inC, inputOffset), multiplier, shift);
  }
  return {
    kind: "FULLY_CONNECTED", ...common,
    fields: {
      input: { tensor: input.index }, output: { tensor: output.index }, batches, inC, outC,
      inputOffset, filterOffset,
      ...outputQuant(ctx, output, ctx.option("activation", "NONE")),
      weights: { weights: true }, tileCh: 0, tileBuf: { scratch: true }, inChunk: inC, weightLayout: 0,
    },
    channels,
  };
}

/** bias + inputOffset * sum(w) per channel, wrapping like TFLite's int32 sums. */
function foldInputOffset(bias: Int32Array, weights: Int8Array, perChannel: number, inputOffset: number): Int32Array {
  return bias.map((b, c) => {
    let sum = 0;
    for (let k = 0; k < perChannel; k++) sum += weights[c * perChannel + k];
    return (b + Math.imul(inputOffset, sum)) | 0;
  });
}

function lowerPool(ctx: OpContext): LoweredOp {
  const input = ctx.activation(0), output = ctx.output(0);
  const [inH, inW, channels] = nhwc(ctx, input, "input");
  const [outH, outW, outC] = nhwc(ctx, output, "output");
  if (outC !== channels) ctx.fail(`output has ${outC} channels, input ${channels}`);
  const qi = ctx.perTensor(input), qo = ctx.perTensor(output);
  if (qi.scale !== qo.scale || qi.zp !== qo.zp) ctx.fail(`input and output quantization differ; int8 pooling needs them equal`);
  const kH = ctx.option<number>("filterH"), kW = ctx.option<number>("filterW");
  const strideH = ctx.option<number>("strideH"), strideW = ctx.option<number>("strideW");
  const padding = ctx.option<"SAME" | "VALID">("padding");
  if (outputSize(padding, inH, kH, strideH) !== outH || outputSize(padding, inW, kW, strideW) !== outW) {
    ctx.fail(`output size does not match ${padding} padding`);
  }
  const { actMin, actMax } = outputQuant(ctx, output, ctx.option("activation", "NONE"));
  return {
    kind: ctx.op.type as OpName, source: ctx.op.index, sourceType: ctx.op.type,
    fields: {
      input: { tensor: input.index }, inH, inW, channels, output: { tensor: output.index }, outH, outW,
      kH, kW, strideH, strideW,
      padH: leadingPadding(inH, kH, strideH, 1, outH), padW: leadingPadding(inW, kW, strideW, 1, outW),
      actMin, actMax,
    },
    reads: [input.index], writes: [output.index], macs: outH * outW * channels * kH * kW,
  };
}

/** Dense strides of `shape` (4-D, right-aligned) with 0 where it broadcasts against `out`. */
function broadcastStrides(ctx: OpContext, shape: number[], out: number[]): number[] {
  const s = [1, 1, 1, 1].concat(shape).slice(-4);
  const strides = [0, 0, 0, 0];
  let stride = 1;
  for (let d = 3; d >= 0; d--) {
    if (s[d] !== out[d] && s[d] !== 1) ctx.fail(`shape [${shape}] does not broadcast to [${out}]`);
    strides[d] = s[d] === 1 && out[d] !== 1 ? 0 : stride;
    stride *= s[d];
  }
  return strides;
}

function lowerElementwise(ctx: OpContext): LoweredOp {
  const in1 = ctx.activation(0), in2 = ctx.activation(1), output = ctx.output(0);
  if (output.shape.length > 4) ctx.fail(`output has rank ${output.shape.length}; at most 4 is supported`);
  const d = [1, 1, 1, 1].concat(output.shape).slice(-4);
  const s1 = broadcastStrides(ctx, in1.shape, d), s2 = broadcastStrides(ctx, in2.shape, d);
  const q1 = ctx.perTensor(in1), q2 = ctx.perTensor(in2), qo = ctx.perTensor(output);
  const quant = outputQuant(ctx, output, ctx.option("activation", "NONE"));
  let mults: Record<string, number>;
  if (ctx.op.type === "ADD") {
    const leftShift = 20;
    const twiceMax = 2 * Math.max(q1.scale, q2.scale);
    const [m1, sh1] = quantizeMultiplier(q1.scale / twiceMax);
    const [m2, sh2] = quantizeMultiplier(q2.scale / twiceMax);
    const [mo, sho] = quantizeMultiplier(twiceMax / (2 ** leftShift * qo.scale));
    if (sh1 > 0 || sh2 > 0 || sho > 0) ctx.fail(`scales give a multiplier above one; not supported`);
    mults = { input1Multiplier: m1, input1Shift: sh1, input2Multiplier: m2, input2Shift: sh2, outputMultiplier: mo, outputShift: sho, leftShift };
  } else {
    const [mo, sho] = quantizeMultiplier((q1.scale * q2.scale) / qo.scale);
    mults = { input1Multiplier: 0, input1Shift: 0, input2Multiplier: 0, input2Shift: 0, outputMultiplier: mo, outputShift: sho, leftShift: 0 };
  }
  const dense1 = s1.every((v, i) => v === [d[1] * d[2] * d[3], d[2] * d[3], d[3], 1][i]);
  return {
    kind: ctx.op.type as OpName, source: ctx.op.index, sourceType: ctx.op.type,
    fields: {
      input1: { tensor: in1.index }, input2: { tensor: in2.index }, output: { tensor: output.index },
      d0: d[0], d1: d[1], d2: d[2], d3: d[3],
      s1_0: s1[0], s1_1: s1[1], s1_2: s1[2], s1_3: s1[3],
      s2_0: s2[0], s2_1: s2[1], s2_2: s2[2], s2_3: s2[3],
      input1Offset: -q1.zp, input2Offset: -q2.zp, ...quant, ...mults,
    },
    reads: [in1.index, in2.index], writes: [output.index],
    // Element i of the output depends only on element i of a dense, same-shape input.
    inPlaceInput: dense1 ? in1.index : undefined,
    macs: elementCount(d),
  };
}

function lowerSoftmax(ctx: OpContext): LoweredOp {
  const input = ctx.activation(0), output = ctx.output(0);
  const depth = input.shape[input.shape.length - 1];
  const rows = elementCount(input.shape) / depth;
  const qo = ctx.perTensor(output);
  if (Math.fround(qo.scale) !== Math.fround(1 / 256) || qo.zp !== -128) {
    ctx.fail(`int8 softmax output must have scale 1/256 and zero point -128 (TFLite's convention), has ${qo.scale} and ${qo.zp}`);
  }
  const p = softmaxParams(ctx.option<number>("beta", 1), ctx.perTensor(input).scale);
  return {
    kind: "SOFTMAX", source: ctx.op.index, sourceType: ctx.op.type,
    fields: { input: { tensor: input.index }, output: { tensor: output.index }, rows, depth,
      inputMultiplier: p.multiplier, inputLeftShift: p.leftShift, diffMin: p.diffMin },
    reads: [input.index], writes: [output.index], macs: rows * depth,
  };
}

function lowerQuantize(ctx: OpContext): LoweredOp {
  const raw = ctx.tensor(0, "input");
  const output = ctx.output(0);
  const qo = ctx.perTensor(output);
  const count = elementCount(output.shape);
  if (raw.dtype === "float32") {
    const input = ctx.activation(0, "float32");
    return {
      kind: "QUANTIZE_F32", source: ctx.op.index, sourceType: ctx.op.type,
      fields: { input: { tensor: input.index }, output: { tensor: output.index }, count,
        scaleBits: f32Bits(qo.scale), zeroPoint: qo.zp },
      reads: [input.index], writes: [output.index], macs: count,
    };
  }
  const input = ctx.activation(0);
  const qi = ctx.perTensor(input);
  const [multiplier, shift] = quantizeMultiplier(qi.scale / qo.scale);
  return {
    kind: "REQUANTIZE", source: ctx.op.index, sourceType: ctx.op.type,
    fields: { input: { tensor: input.index }, output: { tensor: output.index }, count,
      inputZeroPoint: qi.zp, outputZeroPoint: qo.zp, multiplier, shift },
    reads: [input.index], writes: [output.index], inPlaceInput: input.index, macs: count,
  };
}

function lowerDequantize(ctx: OpContext): LoweredOp {
  const input = ctx.activation(0), output = ctx.output(0, "float32");
  const qi = ctx.perTensor(input);
  return {
    kind: "DEQUANTIZE", source: ctx.op.index, sourceType: ctx.op.type,
    fields: { input: { tensor: input.index }, output: { tensor: output.index }, count: elementCount(input.shape),
      scaleBits: f32Bits(qi.scale), zeroPoint: qi.zp },
    reads: [input.index], writes: [output.index], macs: elementCount(input.shape),
  };
}

function lowerPad(ctx: OpContext): LoweredOp {
  const input = ctx.activation(0), output = ctx.output(0);
  const pads = ctx.constant(1, "paddings", "int32");
  const rank = input.shape.length;
  if (rank > 4) ctx.fail(`input has rank ${rank}; at most 4 is supported`);
  const pv = new Int32Array(new Uint8Array(pads.data!).buffer);
  if (pv.length !== rank * 2) ctx.fail(`paddings has ${pv.length} values for a rank-${rank} input`);
  if (pv.some((v) => v < 0)) ctx.fail(`negative paddings are not supported`);
  const qi = ctx.perTensor(input), qo = ctx.perTensor(output);
  if (qi.scale !== qo.scale || qi.zp !== qo.zp) ctx.fail(`input and output quantization differ`);
  let padValue = qo.zp;
  const value = ctx.optional(2);
  if (value) {
    if (!value.data || value.dtype !== "int8") ctx.fail(`constant_values must be a constant int8 scalar`);
    padValue = new Int8Array(value.data.buffer, value.data.byteOffset, 1)[0];
  }
  const lead = 4 - rank;
  const dim = (i: number) => (i < lead ? 1 : input.shape[i - lead]);
  const before = (i: number) => (i < lead ? 0 : pv[(i - lead) * 2]);
  const after = (i: number) => (i < lead ? 0 : pv[(i - lead) * 2 + 1]);
  for (let i = lead; i < 4; i++) {
    if (dim(i) + before(i) + after(i) !== output.shape[i - lead]) ctx.fail(`output shape [${output.shape}] does not match the paddings`);
  }
  return {
    kind: "PAD", source: ctx.op.index, sourceType: ctx.op.type,
    fields: { input: { tensor: input.index }, output: { tensor: output.index },
      d0: dim(0), d1: dim(1), d2: dim(2), d3: dim(3),
      b0: before(0), b1: before(1), b2: before(2), b3: before(3),
      a0: after(0), a1: after(1), a2: after(2), a3: after(3), padValue },
    reads: [input.index], writes: [output.index], macs: 0,
  };
}

function lowerConcatenation(ctx: OpContext): LoweredOp {
  const output = ctx.output(0);
  const inputs = ctx.op.inputs.map((_, i) => ctx.activation(i));
  const rank = output.shape.length;
  let axis = ctx.option<number>("axis");
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) ctx.fail(`axis ${ctx.option<number>("axis")} is out of range for rank ${rank}`);
  if ((ctx.option<string>("activation", "NONE")) !== "NONE") ctx.fail(`a fused activation on concatenation is not supported`);
  const qo = ctx.perTensor(output);
  const outer = elementCount(output.shape.slice(0, axis));
  const inner = (t: Tensor) => elementCount(t.shape.slice(axis));
  for (const t of inputs) {
    const q = ctx.perTensor(t);
    if (q.scale !== qo.scale || q.zp !== qo.zp) ctx.fail(`input "${t.name}" is quantized differently from the output; requantizing concatenation is not supported`);
    if (t.shape.length !== rank) ctx.fail(`input "${t.name}" has rank ${t.shape.length}, output ${rank}`);
  }
  const outInner = inner(output);
  if (inputs.reduce((s, t) => s + inner(t), 0) !== outInner) ctx.fail(`input sizes along axis ${axis} do not add up to the output's`);
  return {
    kind: "CONCATENATION", source: ctx.op.index, sourceType: ctx.op.type,
    fields: { output: { tensor: output.index }, outer, outInner, count: inputs.length },
    tail: inputs.flatMap((t) => [{ tensor: t.index }, inner(t)]),
    reads: inputs.map((t) => t.index), writes: [output.index], macs: 0,
  };
}

function lowerMean(ctx: OpContext): LoweredOp {
  const input = ctx.activation(0), output = ctx.output(0);
  const axes = ctx.constant(1, "axis", "int32");
  const rank = input.shape.length;
  if (rank > 4) ctx.fail(`input has rank ${rank}; at most 4 is supported`);
  const lead = 4 - rank;
  let axisMask = 0;
  for (const a of new Int32Array(new Uint8Array(axes.data!).buffer)) {
    const ax = a < 0 ? a + rank : a;
    if (ax < 0 || ax >= rank) ctx.fail(`axis ${a} is out of range`);
    axisMask |= 1 << (ax + lead);
  }
  const d = [1, 1, 1, 1].concat(input.shape).slice(-4);
  const qi = ctx.perTensor(input), qo = ctx.perTensor(output);
  // TFLM's QuantizedMeanOrSum: the kernel folds 1/count into this multiplier at run time.
  const [multiplier, shift] = quantizeMultiplier(qi.scale / qo.scale);
  return {
    kind: "MEAN", source: ctx.op.index, sourceType: ctx.op.type,
    fields: { input: { tensor: input.index }, output: { tensor: output.index },
      d0: d[0], d1: d[1], d2: d[2], d3: d[3], axisMask,
      inputZeroPoint: qi.zp, outputZeroPoint: qo.zp, multiplier, shift },
    reads: [input.index], writes: [output.index], macs: elementCount(input.shape),
  };
}

