// Small synthetic int8 models for the ops the six real models do not use. Each
// model is a plain JSON-able spec (stored in test/golden-synthetic/<name>.json);
// buildSynthetic(spec) turns it into a .tflite with test/host/tflite-writer.ts,
// deterministically: weights, biases and weight scales come from a seeded
// xorshift32 stream, activation quantization from a rough estimate of each
// tensor's real spread (or the spec's explicit `out`).
//
// Regenerate the golden data (needs the TFLM reference runner, see below):
//   node --import tsx test/host/synthetic-models.ts [MODEL...]
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { writeTflite, type ModelDesc, type TensorDesc, type OpDesc, type OptionValue } from "./tflite-writer.ts";
import { extraInput } from "./extra-inputs.ts";

export interface Quant { scale: number; zp: number }
type Act = "NONE" | "RELU" | "RELU6" | "RELU_N1_TO_1";
type Pad = "SAME" | "VALID";
type HW = [number, number];

/** One layer; `in` names earlier layers (default: the previous one), `name` names this one. */
/** Weights given explicitly instead of drawn from the seeded stream. */
export interface FixedWeights { wScale: number[]; weights: number[]; bias: number[] }

export type Layer = { name?: string; out?: Quant } & (
  | { op: "CONV_2D"; in?: string; outC: number; k: HW; stride?: HW; dilation?: HW; padding: Pad; act?: Act; std?: number; perTensor?: boolean; noBias?: boolean; fixed?: FixedWeights }
  | { op: "DEPTHWISE_CONV_2D"; in?: string; mult: number; k: HW; stride?: HW; dilation?: HW; padding: Pad; act?: Act; std?: number; perTensor?: boolean; noBias?: boolean }
  | { op: "FULLY_CONNECTED"; in?: string; outC: number; perChannel: boolean; act?: Act; keepNumDims?: boolean; std?: number; noBias?: boolean; fixed?: FixedWeights }
  | { op: "MAX_POOL_2D" | "AVERAGE_POOL_2D"; in?: string; k: HW; stride: HW; padding: Pad; act?: Act }
  | { op: "ADD" | "MUL"; in: [string, string]; act?: Act }
  | { op: "PAD"; in?: string; paddings: [number, number][] }
  | { op: "PADV2"; in?: string; paddings: [number, number][]; value: number }
  | { op: "CONCATENATION"; in: string[]; axis: number }
  | { op: "MEAN"; in?: string; axes: number[]; keepDims: boolean; sameQuant?: boolean }
  | { op: "QUANTIZE"; in?: string; out: Quant }
  | { op: "DEQUANTIZE"; in?: string }
  | { op: "SOFTMAX"; in?: string; beta: number }
  | { op: "RESHAPE"; in?: string; shape: number[] }
  | { op: "SQUEEZE"; in?: string; dims?: number[] }
);

export interface ModelSpec {
  name: string;
  about: string;
  seed: number;
  input: { shape: number[]; dtype: "int8" | "float32"; quant?: Quant };
  layers: Layer[];
}

export const SYNTHETIC_MODELS: ModelSpec[] = [
  {
    name: "max_pool",
    about: "MAX_POOL_2D: SAME and VALID, stride 2 (and 3), odd and even sizes, fused RELU / RELU6; branches flattened and concatenated",
    seed: 101,
    input: { shape: [1, 9, 10, 3], dtype: "int8", quant: { scale: 0.03, zp: -100 } },
    layers: [
      { op: "MAX_POOL_2D", name: "same_s2_relu", in: "input", k: [3, 3], stride: [2, 2], padding: "SAME", act: "RELU" },
      { op: "MAX_POOL_2D", name: "valid_s2_relu6", in: "input", k: [3, 3], stride: [2, 2], padding: "VALID", act: "RELU6" },
      { op: "MAX_POOL_2D", name: "valid_2x2_s2", in: "same_s2_relu", k: [2, 2], stride: [2, 2], padding: "VALID" },
      { op: "MAX_POOL_2D", name: "same_2x3_s21", in: "input", k: [2, 3], stride: [2, 1], padding: "SAME" },
      { op: "RESHAPE", name: "f1", in: "same_s2_relu", shape: [1, 75] },
      { op: "RESHAPE", name: "f2", in: "valid_s2_relu6", shape: [1, 48] },
      { op: "RESHAPE", name: "f3", in: "valid_2x2_s2", shape: [1, 12] },
      { op: "MAX_POOL_2D", name: "same_k4_s3", in: "input", k: [4, 4], stride: [3, 3], padding: "SAME" },
      { op: "RESHAPE", name: "f4", in: "same_2x3_s21", shape: [1, 150] },
      { op: "RESHAPE", name: "f5", in: "same_k4_s3", shape: [1, 36] },
      { op: "CONCATENATION", in: ["f1", "f2", "f3", "f4", "f5"], axis: 1 },
    ],
  },
  {
    name: "avg_pool",
    about: "AVERAGE_POOL_2D with SAME padding at the borders (stride 1 and 2, non-square filter, leading padding 0 and 1, filter larger than the input), fused RELU6 and RELU",
    seed: 102,
    input: { shape: [1, 6, 7, 3], dtype: "int8", quant: { scale: 0.05, zp: 3 } },
    layers: [
      { op: "AVERAGE_POOL_2D", name: "same_s2", in: "input", k: [3, 3], stride: [2, 2], padding: "SAME" },
      { op: "AVERAGE_POOL_2D", name: "same_s1_relu6", in: "input", k: [3, 3], stride: [1, 1], padding: "SAME", act: "RELU6" },
      { op: "AVERAGE_POOL_2D", name: "same_2x3_s12", in: "input", k: [2, 3], stride: [1, 2], padding: "SAME" },
      { op: "AVERAGE_POOL_2D", name: "valid_s2", in: "same_s1_relu6", k: [2, 2], stride: [2, 2], padding: "VALID" },
      { op: "RESHAPE", name: "f1", in: "same_s2", shape: [1, 36] },
      { op: "RESHAPE", name: "f2", in: "same_s1_relu6", shape: [1, 126] },
      { op: "RESHAPE", name: "f3", in: "same_2x3_s12", shape: [1, 72] },
      { op: "AVERAGE_POOL_2D", name: "k5_over_3x4", in: "same_s2", k: [5, 5], stride: [1, 1], padding: "SAME", act: "RELU" },
      { op: "RESHAPE", name: "f4", in: "valid_s2", shape: [1, 27] },
      { op: "RESHAPE", name: "f5", in: "k5_over_3x4", shape: [1, 36] },
      { op: "CONCATENATION", in: ["f1", "f2", "f3", "f4", "f5"], axis: 1 },
    ],
  },
  {
    name: "conv_dilation",
    about: "CONV_2D: 3x3 dilation 2 SAME with RELU6, stride 2 SAME on an odd input, mixed strides/dilations VALID with RELU, 1x1",
    seed: 103,
    input: { shape: [1, 11, 11, 3], dtype: "int8", quant: { scale: 0.02, zp: 5 } },
    layers: [
      { op: "CONV_2D", name: "dil2_same_relu6", outC: 6, k: [3, 3], dilation: [2, 2], padding: "SAME", act: "RELU6", std: 4 },
      { op: "CONV_2D", name: "s2_same_odd", outC: 8, k: [3, 3], stride: [2, 2], padding: "SAME" },
      { op: "CONV_2D", name: "mixed_valid_relu", outC: 5, k: [3, 2], stride: [1, 2], dilation: [2, 1], padding: "VALID", act: "RELU" },
      { op: "CONV_2D", name: "pointwise", outC: 7, k: [1, 1], padding: "VALID" },
    ],
  },
  {
    name: "conv_even_stride",
    about: "CONV_2D stride 2 SAME on an even input (padding only at the end), 5x5 kernel, single input channel, per-tensor weights without bias, 1x1 stride 2 with RELU_N1_TO_1",
    seed: 104,
    input: { shape: [1, 10, 8, 1], dtype: "int8", quant: { scale: 0.0078125, zp: -128 } },
    layers: [
      { op: "CONV_2D", name: "k5_s2_same", outC: 4, k: [5, 5], stride: [2, 2], padding: "SAME", act: "RELU" },
      { op: "CONV_2D", name: "k2_s2_same_pt", outC: 6, k: [2, 2], stride: [2, 2], padding: "SAME", act: "RELU6", std: 4, perTensor: true, noBias: true },
      { op: "CONV_2D", name: "k1_s2_n1to1", outC: 3, k: [1, 1], stride: [2, 2], padding: "SAME", act: "RELU_N1_TO_1", std: 1.5 },
    ],
  },
  {
    name: "depthwise_multiplier",
    about: "DEPTHWISE_CONV_2D with depth multiplier 2 (SAME, RELU) and 3 (stride 2 SAME, odd input), dilation 2 stride 2 VALID RELU6, per-tensor weights without bias",
    seed: 105,
    input: { shape: [1, 9, 9, 3], dtype: "int8", quant: { scale: 0.02, zp: -3 } },
    layers: [
      { op: "DEPTHWISE_CONV_2D", name: "mult2_relu", mult: 2, k: [3, 3], padding: "SAME", act: "RELU" },
      { op: "DEPTHWISE_CONV_2D", name: "mult3_s2", mult: 3, k: [3, 3], stride: [2, 2], padding: "SAME" },
      { op: "DEPTHWISE_CONV_2D", name: "dil2_s2_relu6", mult: 1, k: [2, 2], stride: [2, 2], dilation: [2, 2], padding: "VALID", act: "RELU6", std: 4 },
      { op: "DEPTHWISE_CONV_2D", name: "pt_nobias", mult: 1, k: [3, 3], padding: "SAME", perTensor: true, noBias: true },
    ],
  },
  {
    name: "mul_add_broadcast",
    about: "MUL same shape and broadcast [1,1,1,C] (fused RELU), x*x, ADD broadcast on either side with different input scales, ADD with RELU6",
    seed: 106,
    input: { shape: [1, 5, 6, 4], dtype: "int8", quant: { scale: 0.05, zp: 10 } },
    layers: [
      { op: "CONV_2D", name: "a", in: "input", outC: 4, k: [1, 1], padding: "VALID" },
      { op: "MUL", name: "mul_same", in: ["input", "a"] },
      { op: "MEAN", name: "g", in: "a", axes: [1, 2], keepDims: true },
      { op: "MUL", name: "mul_bcast_relu", in: ["mul_same", "g"], act: "RELU" },
      { op: "ADD", name: "add_bcast_lhs", in: ["g", "mul_bcast_relu"] },
      { op: "MUL", name: "square", in: ["input", "input"] },
      { op: "ADD", name: "add_bcast_rhs", in: ["square", "g"] },
      { op: "ADD", name: "add_same_relu6", in: ["add_bcast_lhs", "add_bcast_rhs"], act: "RELU6", out: { scale: 0.03, zp: -100 } },
    ],
  },
  {
    name: "broadcast_more",
    about: "ADD and MUL where both inputs broadcast ([1,5,1,4] with [1,1,6,1]), rank-1 and rank-3 operands, x*x in place; MEAN over [2], [1,3], [-1], [0,1,2]",
    seed: 114,
    input: { shape: [1, 5, 6, 4], dtype: "int8", quant: { scale: 0.05, zp: -3 } },
    layers: [
      { op: "MEAN", name: "h_mean", in: "input", axes: [2], keepDims: true },
      { op: "MEAN", name: "w_mean", in: "input", axes: [1, 3], keepDims: true },
      { op: "ADD", name: "add_both", in: ["h_mean", "w_mean"] },
      { op: "MUL", name: "mul_both_relu", in: ["w_mean", "h_mean"], act: "RELU" },
      { op: "CONV_2D", name: "c", in: "input", outC: 4, k: [1, 1], padding: "VALID" },
      { op: "MUL", name: "c_sq", in: ["c", "c"] },
      { op: "MEAN", name: "vec", in: "input", axes: [0, 1, 2], keepDims: false },
      { op: "ADD", name: "sq_vec", in: ["c_sq", "vec"] },
      { op: "MEAN", name: "ch_mean", in: "input", axes: [-1], keepDims: false },
      { op: "ADD", name: "o1", in: ["add_both", "mul_both_relu"] },
      { op: "ADD", name: "o2", in: ["o1", "sq_vec"] },
      { op: "RESHAPE", name: "ch_r", in: "ch_mean", shape: [5, 6, 1] },
      { op: "MUL", name: "o3", in: ["ch_r", "o2"] },
    ],
  },
  {
    name: "pad_concat",
    about: "PAD (spatial and channel) and PADV2 with a constant value, CONCATENATION on the channel axis (3 and -1) with equal quantization",
    seed: 107,
    input: { shape: [1, 3, 4, 2], dtype: "int8", quant: { scale: 0.1, zp: -20 } },
    layers: [
      { op: "PAD", name: "pad_hw", in: "input", paddings: [[0, 0], [1, 2], [2, 1], [0, 0]] },
      { op: "PADV2", name: "padv2_hw", in: "input", paddings: [[0, 0], [2, 1], [1, 2], [0, 0]], value: -77 },
      { op: "PAD", name: "pad_hwc", in: "input", paddings: [[0, 0], [1, 2], [1, 2], [1, 1]] },
      { op: "CONCATENATION", name: "cat_last", in: ["pad_hw", "padv2_hw"], axis: -1 },
      { op: "CONCATENATION", name: "cat_3", in: ["cat_last", "pad_hwc", "pad_hw"], axis: 3 },
    ],
  },
  {
    name: "padv2_channels",
    about: "PADV2 on H, W and channels with values at the int8 limits (127, -128), then a 3x3 VALID conv over the padded tensor",
    seed: 108,
    input: { shape: [1, 4, 4, 3], dtype: "int8", quant: { scale: 0.04, zp: 0 } },
    layers: [
      { op: "PADV2", name: "pad_c", paddings: [[0, 0], [0, 1], [1, 0], [2, 1]], value: 127 },
      { op: "PADV2", name: "pad_low", paddings: [[0, 0], [1, 1], [1, 1], [0, 0]], value: -128 },
      { op: "CONV_2D", outC: 4, k: [3, 3], padding: "VALID" },
    ],
  },
  {
    name: "mean",
    about: "MEAN over axes [1,2] with keep_dims true and false (and axes given as [2,1]), with and without requantization, over all axes; SQUEEZE; broadcast ADD; FC without bias",
    seed: 109,
    input: { shape: [1, 5, 6, 8], dtype: "int8", quant: { scale: 0.05, zp: -10 } },
    layers: [
      { op: "CONV_2D", name: "c", in: "input", outC: 6, k: [1, 1], padding: "VALID" },
      { op: "MEAN", name: "keep", in: "c", axes: [1, 2], keepDims: true },
      { op: "MEAN", name: "drop", in: "c", axes: [2, 1], keepDims: false },
      { op: "SQUEEZE", name: "keep_sq", in: "keep" },
      { op: "ADD", name: "sum", in: ["keep_sq", "drop"] },
      { op: "MEAN", name: "same_q", in: "input", axes: [1, 2], keepDims: false, sameQuant: true },
      { op: "FULLY_CONNECTED", name: "fc", in: "same_q", outC: 6, perChannel: true, noBias: true },
      { op: "MEAN", name: "all", in: "c", axes: [0, 1, 2, 3], keepDims: true },
      { op: "RESHAPE", name: "all_r", in: "all", shape: [1] },
      { op: "ADD", name: "sum_all", in: ["sum", "all_r"] },
      { op: "ADD", in: ["sum_all", "fc"] },
    ],
  },
  {
    name: "mean_keepdims",
    about: "MEAN over axes [1,2] keep_dims true as the output op (input quantization kept), odd spatial size",
    seed: 110,
    input: { shape: [1, 7, 5, 10], dtype: "int8", quant: { scale: 0.06, zp: 4 } },
    layers: [
      { op: "MEAN", name: "same_q", axes: [1, 2], keepDims: true, sameQuant: true },
    ],
  },
  {
    name: "quantize_io",
    about: "QUANTIZE float32->int8 at the input, QUANTIZE int8->int8 (scale down, scale up with saturation, same scale new zero point), conv, DEQUANTIZE and QUANTIZE float32 in the middle, DEQUANTIZE int8->float32 at the output",
    seed: 111,
    input: { shape: [1, 4, 4, 3], dtype: "float32" },
    layers: [
      { op: "QUANTIZE", name: "q", out: { scale: 0.03125, zp: -4 } },
      { op: "QUANTIZE", name: "rq_down", out: { scale: 0.07, zp: 9 } },
      { op: "QUANTIZE", name: "rq_up", out: { scale: 0.011, zp: -30 } },
      { op: "QUANTIZE", name: "rq_zp", out: { scale: 0.011, zp: 17 } },
      { op: "CONV_2D", name: "conv", outC: 4, k: [3, 3], padding: "SAME" },
      { op: "DEQUANTIZE", name: "mid_f32" },
      { op: "QUANTIZE", name: "requant_f32", out: { scale: 0.0123, zp: 21 } },
      { op: "DEQUANTIZE", name: "out" },
    ],
  },
  {
    name: "softmax_beta",
    about: "SOFTMAX beta 0.6 on a 4-D input (6 rows of 10), FULLY_CONNECTED on the 4-D softmax output (batch 6), SOFTMAX beta 2.5",
    seed: 112,
    input: { shape: [1, 2, 3, 10], dtype: "int8", quant: { scale: 0.05, zp: 12 } },
    layers: [
      { op: "SOFTMAX", name: "sm1", beta: 0.6 },
      { op: "FULLY_CONNECTED", name: "fc", outC: 12, perChannel: false, std: 0.6 },
      { op: "SOFTMAX", name: "sm2", beta: 2.5 },
    ],
  },
  {
    name: "multiplier_rounding",
    about: "Accumulators placed on rounding boundaries where QuantizeMultiplier(float32(in_scale*w_scale)/out_scale) (TFLM's per-tensor FULLY_CONNECTED, GetQuantizedConvolutionMultipler) and QuantizeMultiplier(double product/out_scale) (TFLM's CONV_2D and per-channel FC) give different outputs: multipliers 1949377958 vs 1949377873, shift -11. Channel 4i+j, for the constant input v of case i (42, -121, 3, 4, 5), has bias = acc_j - v*w with acc_j in (-168081, -80092, 80092, 168081)",
    seed: 115,
    input: { shape: [1, 1], dtype: "int8", quant: { scale: 0.024550022557377815, zp: 0 } },
    layers: [
      { op: "FULLY_CONNECTED", name: "fc_per_tensor", in: "input", outC: 20, perChannel: false, out: { scale: 0.07993195950984955, zp: 0 },
        fixed: { wScale: [0.0014431277522817254], weights: [7, -44, 81, -118, 35, -72, 109, -26, 63, -100, 17, -54, 91, -8, 45, -82, 119, -36, 73, -110], bias: [-168375, -78244, 76690, 173037, -163846, -88804, 93281, 164935, -168270, -79792, 80041, 168243, -168445, -80060, 79912, 168409, -168676, -79912, 79727, 168631] } },
      { op: "RESHAPE", name: "x4d", in: "input", shape: [1, 1, 1, 1] },
      { op: "CONV_2D", name: "conv_per_tensor", in: "x4d", outC: 20, k: [1, 1], padding: "VALID", perTensor: true, out: { scale: 0.07993195950984955, zp: 0 },
        fixed: { wScale: [0.0014431277522817254], weights: [7, -44, 81, -118, 35, -72, 109, -26, 63, -100, 17, -54, 91, -8, 45, -82, 119, -36, 73, -110], bias: [-168375, -78244, 76690, 173037, -163846, -88804, 93281, 164935, -168270, -79792, 80041, 168243, -168445, -80060, 79912, 168409, -168676, -79912, 79727, 168631] } },
      { op: "RESHAPE", name: "conv_flat", in: "conv_per_tensor", shape: [1, 20] },
      { op: "FULLY_CONNECTED", name: "fc_per_channel", in: "input", outC: 20, perChannel: true, out: { scale: 0.07993195950984955, zp: 0 },
        fixed: { wScale: Array(20).fill(0.0014431277522817254), weights: [7, -44, 81, -118, 35, -72, 109, -26, 63, -100, 17, -54, 91, -8, 45, -82, 119, -36, 73, -110], bias: [-168375, -78244, 76690, 173037, -163846, -88804, 93281, 164935, -168270, -79792, 80041, 168243, -168445, -80060, 79912, 168409, -168676, -79912, 79727, 168631] } },
      { op: "CONCATENATION", in: ["fc_per_tensor", "conv_flat", "fc_per_channel"], axis: 1 },
    ],
  },
  {
    name: "fc_batch",
    about: "FULLY_CONNECTED batch 2: per-channel weights with RELU, per-tensor weights, RESHAPE and SQUEEZE, keep_num_dims; PAD of a rank-3 tensor",
    seed: 113,
    input: { shape: [2, 16], dtype: "int8", quant: { scale: 0.04, zp: 7 } },
    layers: [
      { op: "FULLY_CONNECTED", name: "fc_pc_relu", outC: 12, perChannel: true, act: "RELU" },
      { op: "FULLY_CONNECTED", name: "fc_pt", outC: 8, perChannel: false },
      { op: "RESHAPE", name: "r", shape: [1, 2, 1, 8] },
      { op: "SQUEEZE", name: "sq", dims: [-2] },
      { op: "FULLY_CONNECTED", name: "fc_keep", outC: 5, perChannel: true, keepNumDims: true },
      { op: "PAD", name: "pad_rank3", paddings: [[0, 0], [1, 0], [0, 2]] },
    ],
  },
];

// ---- deterministic pseudo-random stream ---------------------------------------------

class Rng {
  private x: number;
  constructor(seed: number) { this.x = (seed >>> 0) || 1; }
  next(): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.x = x;
    return x;
  }
  /** Uniform in [0, 1). */
  float(): number { return this.next() / 2 ** 32; }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number { return lo + (this.next() % (hi - lo + 1)); }
}

// ---- builder ----------------------------------------------------------------------

interface Value { index: number; shape: number[]; dtype: "int8" | "float32"; quant?: Quant; std: number }

const f32 = Math.fround;

function computeOutSize(padding: Pad, size: number, k: number, stride: number, dilation: number): number {
  const eff = (k - 1) * dilation + 1;
  return padding === "SAME" ? Math.floor((size + stride - 1) / stride) : Math.floor((size - eff + stride) / stride);
}

function int8Bytes(v: ArrayLike<number>): Uint8Array { return new Uint8Array(Int8Array.from(v).buffer); }
function int32Bytes(v: ArrayLike<number>): Uint8Array { return new Uint8Array(Int32Array.from(v).buffer); }

/** The model description a spec stands for (deterministic). */
export function describeSynthetic(spec: ModelSpec): ModelDesc {
  const rng = new Rng(spec.seed);
  const tensors: TensorDesc[] = [];
  const ops: OpDesc[] = [];
  const values = new Map<string, Value>();

  const addTensor = (t: TensorDesc) => { tensors.push(t); return tensors.length - 1; };
  const activation = (name: string, shape: number[], dtype: "int8" | "float32", quant: Quant | undefined, std: number): Value => {
    const index = addTensor({ name, shape, dtype, ...(quant ? { scale: [f32(quant.scale)], zeroPoint: [quant.zp] } : {}) });
    const v = { index, shape, dtype, quant, std };
    values.set(name, v);
    return v;
  };
  /** Quantization for a tensor whose real values spread about `std` after activation `act`. */
  const chooseQuant = (std: number, act: Act = "NONE"): Quant => {
    switch (act) {
      case "NONE": return { scale: f32((5 * std) / 255), zp: rng.int(-25, 25) };
      case "RELU": return { scale: f32((3 * std) / 255), zp: rng.int(-120, -100) };
      case "RELU6": return { scale: f32(8 / 255), zp: rng.int(-120, -100) };
      case "RELU_N1_TO_1": return { scale: f32(3 / 255), zp: rng.int(-10, 10) };
    }
  };
  const afterAct = (std: number, act: Act = "NONE") =>
    act === "NONE" ? std : act === "RELU" ? 0.6 * std : act === "RELU6" ? 0.6 * Math.min(std, 6) : 0.6 * Math.min(std, 1);

  const inQ = spec.input.quant;
  activation("input", spec.input.shape, spec.input.dtype, inQ, spec.input.dtype === "float32" ? (74 * 3) / 64 : inQ!.scale * 74);
  let previous = "input";

  spec.layers.forEach((layer, k) => {
    const name = layer.name ?? `op${k}`;
    const get = (n: string | undefined) => {
      const v = values.get(n ?? previous);
      if (!v) throw new Error(`${spec.name}: layer ${k} reads unknown tensor ${n}`);
      return v;
    };
    const fail = (msg: string): never => { throw new Error(`${spec.name}: layer ${k} (${layer.op}): ${msg}`); };
    const constTensor = (suffix: string, t: Omit<TensorDesc, "name">) => addTensor({ name: `${name}/${suffix}`, ...t });

    /** Per-channel (or per-tensor) symmetric int8 weights and int32 bias for `outC` channels of `taps` weights each. */
    const weighted = (x: Value, outC: number, taps: number, perTensor: boolean, std: number, fixed?: FixedWeights) => {
      if (fixed) {
        if (fixed.wScale.length !== (perTensor ? 1 : outC) || fixed.weights.length !== outC * taps || fixed.bias.length !== outC) fail(`fixed weights have the wrong sizes`);
        return { ...fixed, biasScale: fixed.wScale.map((s) => f32(f32(x.quant!.scale) * f32(s))) };
      }
      const base = std / (x.std * 73 * Math.sqrt(taps));
      const wScale = Array.from({ length: perTensor ? 1 : outC }, () => f32(base * (0.5 + rng.float())));
      const weights = Array.from({ length: outC * taps }, () => rng.int(-127, 127));
      const bias = Array.from({ length: outC }, (_, c) => {
        const real = (rng.float() - 0.5) * std;
        return Math.round(real / (x.quant!.scale * wScale[perTensor ? 0 : c]));
      });
      const biasScale = wScale.map((s) => f32(f32(x.quant!.scale) * s));
      return { wScale, weights, bias, biasScale };
    };

    switch (layer.op) {
      case "CONV_2D":
      case "DEPTHWISE_CONV_2D": {
        const x = get(layer.in);
        const [n, h, w, c] = x.shape;
        const [kh, kw] = layer.k;
        const [sh, sw] = layer.stride ?? [1, 1];
        const [dh, dw] = layer.dilation ?? [1, 1];
        const dwise = layer.op === "DEPTHWISE_CONV_2D";
        const outC = dwise ? c * layer.mult : layer.outC;
        const taps = dwise ? kh * kw : kh * kw * c;
        const std = layer.std ?? 2;
        const { wScale, weights, bias, biasScale } = weighted(x, outC, taps, !!layer.perTensor, std, layer.op === "CONV_2D" ? layer.fixed : undefined);
        // Weights are drawn [outC][taps]; TFLite stores conv [outC][kh][kw][inC] (the same) and depthwise [1][kh][kw][outC].
        const stored = dwise ? Array.from({ length: outC * taps }, (_, i) => weights[(i % outC) * taps + Math.floor(i / outC)]) : weights;
        const filter = constTensor("filter", {
          shape: dwise ? [1, kh, kw, outC] : [outC, kh, kw, c], dtype: "int8",
          scale: wScale, zeroPoint: wScale.map(() => 0), quantizedDimension: dwise ? 3 : 0, data: int8Bytes(stored),
        });
        // Without bias the op has two inputs, as the converter writes it.
        const inputs = [x.index, filter];
        if (!layer.noBias) inputs.push(constTensor("bias", { shape: [outC], dtype: "int32", scale: biasScale, zeroPoint: biasScale.map(() => 0), data: int32Bytes(bias) }));
        const oh = computeOutSize(layer.padding, h, kh, sh, dh), ow = computeOutSize(layer.padding, w, kw, sw, dw);
        if (oh < 1 || ow < 1) fail(`output would be ${oh}x${ow}`);
        const act = layer.act ?? "NONE";
        const y = activation(name, [n, oh, ow, outC], "int8", layer.out ?? chooseQuant(std, act), afterAct(std, act));
        const options: Record<string, OptionValue> = { padding: layer.padding, strideW: sw, strideH: sh, activation: act, dilationW: dw, dilationH: dh };
        if (dwise) options.depthMultiplier = layer.mult;
        ops.push({ type: layer.op, inputs, outputs: [y.index], options });
        break;
      }
      case "FULLY_CONNECTED": {
        const x = get(layer.in);
        const inC = x.shape[x.shape.length - 1];
        const batches = x.shape.reduce((a, b) => a * b, 1) / inC;
        const std = layer.std ?? 2;
        const { wScale, weights, bias, biasScale } = weighted(x, layer.outC, inC, !layer.perChannel, std, layer.fixed);
        const filter = constTensor("filter", {
          shape: [layer.outC, inC], dtype: "int8", scale: wScale, zeroPoint: wScale.map(() => 0), quantizedDimension: 0, data: int8Bytes(weights),
        });
        // Without bias: input 2 is -1 (absent optional input).
        const b = layer.noBias ? -1 : constTensor("bias", { shape: [layer.outC], dtype: "int32", scale: biasScale, zeroPoint: biasScale.map(() => 0), data: int32Bytes(bias) });
        const act = layer.act ?? "NONE";
        const shape = layer.keepNumDims ? [...x.shape.slice(0, -1), layer.outC] : [batches, layer.outC];
        const y = activation(name, shape, "int8", layer.out ?? chooseQuant(std, act), afterAct(std, act));
        ops.push({ type: layer.op, inputs: [x.index, filter, b], outputs: [y.index], options: { activation: act, keepNumDims: !!layer.keepNumDims } });
        break;
      }
      case "MAX_POOL_2D":
      case "AVERAGE_POOL_2D": {
        const x = get(layer.in);
        const [n, h, w, c] = x.shape;
        const oh = computeOutSize(layer.padding, h, layer.k[0], layer.stride[0], 1), ow = computeOutSize(layer.padding, w, layer.k[1], layer.stride[1], 1);
        const act = layer.act ?? "NONE";
        const y = activation(name, [n, oh, ow, c], "int8", x.quant, afterAct(x.std, act));
        ops.push({ type: layer.op, inputs: [x.index], outputs: [y.index], options: {
          padding: layer.padding, strideW: layer.stride[1], strideH: layer.stride[0], filterW: layer.k[1], filterH: layer.k[0], activation: act } });
        break;
      }
      case "ADD":
      case "MUL": {
        const a = get(layer.in[0]), b = get(layer.in[1]);
        const rank = Math.max(a.shape.length, b.shape.length);
        const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape], pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
        const shape = pa.map((d, i) => {
          if (d !== pb[i] && d !== 1 && pb[i] !== 1) fail(`shapes [${a.shape}] and [${b.shape}] do not broadcast`);
          return Math.max(d, pb[i]);
        });
        const std = layer.op === "ADD" ? Math.hypot(a.std, b.std) : a.std * b.std;
        const act = layer.act ?? "NONE";
        const y = activation(name, shape, "int8", layer.out ?? chooseQuant(std, act), afterAct(std, act));
        ops.push({ type: layer.op, inputs: [a.index, b.index], outputs: [y.index], options: { activation: act } });
        break;
      }
      case "PAD":
      case "PADV2": {
        const x = get(layer.in);
        if (layer.paddings.length !== x.shape.length) fail(`paddings for rank ${layer.paddings.length}, input rank ${x.shape.length}`);
        const p = constTensor("paddings", { shape: [x.shape.length, 2], dtype: "int32", data: int32Bytes(layer.paddings.flat()) });
        const inputs = [x.index, p];
        if (layer.op === "PADV2") {
          inputs.push(constTensor("value", { shape: [], dtype: "int8", scale: [f32(x.quant!.scale)], zeroPoint: [x.quant!.zp], data: int8Bytes([layer.value]) }));
        }
        const y = activation(name, x.shape.map((d, i) => d + layer.paddings[i][0] + layer.paddings[i][1]), "int8", x.quant, x.std);
        ops.push({ type: layer.op, inputs, outputs: [y.index] });
        break;
      }
      case "CONCATENATION": {
        const xs = layer.in.map(get);
        const rank = xs[0].shape.length;
        const axis = layer.axis < 0 ? layer.axis + rank : layer.axis;
        for (const x of xs) if (x.quant!.scale !== xs[0].quant!.scale || x.quant!.zp !== xs[0].quant!.zp) fail(`inputs are quantized differently`);
        const shape = xs[0].shape.slice();
        shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
        const y = activation(name, shape, "int8", xs[0].quant, Math.max(...xs.map((x) => x.std)));
        ops.push({ type: layer.op, inputs: xs.map((x) => x.index), outputs: [y.index], options: { axis: layer.axis, activation: "NONE" } });
        break;
      }
      case "MEAN": {
        const x = get(layer.in);
        const rank = x.shape.length;
        const axes = layer.axes.map((a) => (a < 0 ? a + rank : a));
        const shape = layer.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
        const axisTensor = constTensor("axes", { shape: [layer.axes.length], dtype: "int32", data: int32Bytes(layer.axes) });
        const std = 0.4 * x.std;
        const y = activation(name, shape, "int8", layer.out ?? (layer.sameQuant ? x.quant : chooseQuant(std)), std);
        ops.push({ type: layer.op, inputs: [x.index, axisTensor], outputs: [y.index], options: { keepDims: layer.keepDims } });
        break;
      }
      case "QUANTIZE": {
        const x = get(layer.in);
        const y = activation(name, x.shape, "int8", layer.out, x.std);
        ops.push({ type: layer.op, inputs: [x.index], outputs: [y.index] });
        break;
      }
      case "DEQUANTIZE": {
        const x = get(layer.in);
        const y = activation(name, x.shape, "float32", undefined, x.std);
        ops.push({ type: layer.op, inputs: [x.index], outputs: [y.index] });
        break;
      }
      case "SOFTMAX": {
        const x = get(layer.in);
        const y = activation(name, x.shape, "int8", { scale: 1 / 256, zp: -128 }, 0.1);
        ops.push({ type: layer.op, inputs: [x.index], outputs: [y.index], options: { beta: layer.beta } });
        break;
      }
      case "RESHAPE": {
        const x = get(layer.in);
        if (layer.shape.reduce((a, b) => a * b, 1) !== x.shape.reduce((a, b) => a * b, 1)) fail(`cannot reshape [${x.shape}] to [${layer.shape}]`);
        const shapeTensor = constTensor("shape", { shape: [layer.shape.length], dtype: "int32", data: int32Bytes(layer.shape) });
        const y = activation(name, layer.shape, x.dtype, x.quant, x.std);
        ops.push({ type: layer.op, inputs: [x.index, shapeTensor], outputs: [y.index], options: { newShape: layer.shape } });
        break;
      }
      case "SQUEEZE": {
        const x = get(layer.in);
        const dims = (layer.dims ?? []).map((d) => (d < 0 ? d + x.shape.length : d));
        const shape = x.shape.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1));
        const y = activation(name, shape, x.dtype, x.quant, x.std);
        ops.push({ type: layer.op, inputs: [x.index], outputs: [y.index], options: layer.dims ? { squeezeDims: layer.dims } : {} });
        break;
      }
    }
    previous = name;
  });

  return {
    tensors, ops, inputs: [values.get("input")!.index], outputs: [values.get(previous)!.index],
    description: `tinyloop synthetic test model ${spec.name}`,
  };
}

export function buildSynthetic(spec: ModelSpec): { bytes: Uint8Array; sha256: string; desc: ModelDesc } {
  const desc = describeSynthetic(spec);
  const bytes = writeTflite(desc);
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex"), desc };
}

/** Byte size of the model's input tensor. */
export function inputBytes(spec: ModelSpec): number {
  return spec.input.shape.reduce((a, b) => a * b, 1) * (spec.input.dtype === "float32" ? 4 : 1);
}

/**
 * The input for (kind, seed): extraInput's int8 bytes; for a float32 input, each int8
 * byte v becomes the float32 v * 3/64 (exact), so v * 3/64 / (1/32) = 1.5 v tests
 * round-half-away and saturation in QUANTIZE.
 */
export function syntheticInput(spec: ModelSpec, kind: string, seed: number): Uint8Array {
  if (spec.input.dtype === "int8") return extraInput(kind, seed, inputBytes(spec));
  const count = inputBytes(spec) / 4;
  const s8 = new Int8Array(extraInput(kind, seed, count).buffer);
  return new Uint8Array(Float32Array.from(s8, (v) => (v * 3) / 64).buffer);
}

/** The 20 (kind, seed) cases of test/golden-extra. */
export const CASES: { kind: string; seed: number }[] = ["xorshift", "saturated", "constant", "small"].flatMap((kind) =>
  [1066, 1159, 3, 4, 5].map((seed) => ({ kind, seed })));

export const PRODUCED_BY =
  "TensorFlow Lite Micro reference kernels, tflite-micro commit 90b983c2b3f1480642e040bbd2ddb37b998f3424, built for x86-64 with g++ -O2 -DNDEBUG; MicroInterpreter, one Invoke per input";

/** sha256 over the dumped tensors of one run, in index order: "t<index>:" + hex sha256 of its bytes, newline-separated. */
export function tensorsDigest(hashes: Map<number, string>): string {
  const lines = [...hashes.entries()].sort((a, b) => a[0] - b[0]).map(([i, h]) => `t${i}:${h}`);
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

export function sha256Hex(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** JSON with one line per spec layer, tensor hash and case (smaller and diff-friendly). */
function formatGolden(golden: Record<string, unknown>): string {
  const j = (v: unknown) => JSON.stringify(v);
  const lines = Object.entries(golden).map(([k, v]) => {
    if (k === "spec") {
      const { layers, ...rest } = v as ModelSpec;
      const head = Object.entries(rest).map(([a, b]) => `  ${j(a)}: ${j(b)},`);
      return ` "spec": {\n${head.join("\n")}\n  "layers": [\n${layers.map((l) => `   ${j(l)}`).join(",\n")}\n  ]\n }`;
    }
    if (k === "tensors") return ` "tensors": {\n${Object.entries(v as object).map(([a, b]) => `  ${j(a)}: ${j(b)}`).join(",\n")}\n }`;
    if (k === "cases") return ` "cases": [\n${(v as unknown[]).map((c) => `  ${j(c)}`).join(",\n")}\n ]`;
    return ` ${j(k)}: ${j(v)}`;
  });
  return `{\n${lines.join(",\n")}\n}\n`;
}

// ---- golden data regeneration (TFLM reference runner; not used by the tests) --------

export const GOLDEN_DIR = new URL("../golden-synthetic/", import.meta.url);

async function regenerate(names: string[]): Promise<void> {
  const { execFileSync } = await import("node:child_process");
  const { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const ref = process.env.TFLM_REF ?? "/work/tflm-ref";
  const outDir = fileURLToPath(GOLDEN_DIR);
  mkdirSync(outDir, { recursive: true });
  for (const spec of SYNTHETIC_MODELS.filter((s) => names.length === 0 || names.includes(s.name))) {
    const work = mkdtempSync(join(tmpdir(), `tl-synth-${spec.name}-`));
    const { bytes, sha256 } = buildSynthetic(spec);
    const model = join(work, `${spec.name}.tflite`);
    writeFileSync(model, bytes);
    mkdirSync(join(work, "in"));
    const key = (i: number) => `c${String(i).padStart(2, "0")}.bin`;
    CASES.forEach((c, i) => writeFileSync(join(work, "in", key(i)), syntheticInput(spec, c.kind, c.seed)));
    const run = (args: string[]) => {
      const r = execFileSync(args[0], args.slice(1), { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
      return r;
    };
    run([join(ref, "run_many"), model, join(work, "in"), join(work, "out")]);
    const cases = CASES.map((c, i) => {
      const output = readFileSync(join(work, "out", key(i)));
      // Every non-constant tensor, from a separate run with preserve_all_tensors.
      const dump = join(work, "dump", key(i));
      mkdirSync(dump, { recursive: true });
      run([join(ref, "run_model"), model, join(work, "in", key(i)), join(dump, "out.bin"), dump]);
      if (!readFileSync(join(dump, "out.bin")).equals(output)) throw new Error(`${spec.name} case ${i}: run_model and run_many disagree`);
      const hashes = new Map<number, string>();
      for (const f of readdirSync(dump)) {
        const m = /^t(\d+)\.bin$/.exec(f);
        if (m) hashes.set(Number(m[1]), sha256Hex(readFileSync(join(dump, f))));
      }
      return { ...c, output: output.toString("hex"), tensors: tensorsDigest(hashes), hashes };
    });
    const golden = {
      model: `${spec.name} (built from "spec" by test/host/synthetic-models.ts buildSynthetic)`,
      producedBy: PRODUCED_BY,
      inputs: "test/host/synthetic-models.ts: syntheticInput(spec, kind, seed) (extraInput of test/host/extra-inputs.ts; float32 inputs: int8 byte v -> v * 3/64)",
      tensorsNote: "tensors: sha256 of every non-constant tensor TFLM dumps (preserve_all_tensors) for case 0; cases[].tensors: tensorsDigest of that map for each case",
      tfliteSha256: sha256,
      spec,
      tensors: Object.fromEntries([...cases[0].hashes.entries()].sort((a, b) => a[0] - b[0]).map(([i, h]) => [String(i), h])),
      cases: cases.map(({ hashes: _, ...c }) => c),
    };
    writeFileSync(join(outDir, `${spec.name}.json`), formatGolden(golden));
    console.log(`${spec.name}: ${bytes.length} bytes, ${golden.cases.length} cases, ${cases[0].hashes.size} tensors`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  regenerate(process.argv.slice(2)).catch((e) => { console.error(e); process.exitCode = 1; });
}
