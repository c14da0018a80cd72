// The one definition of the .tlm binary layout that the engine reads.
// `gen-engine-format.ts` turns this file into `assembly/format.ts`; the host's
// writer (`tlm.ts`) encodes records from the same field lists, so the two sides
// cannot drift. Every field is one little-endian 32-bit word.

export const TLM_MAGIC = 0x314d4c54; // "TLM1"
export const TLM_VERSION = 3;

/** Fixed-size header at blob offset 0. */
export const HEADER_FIELDS = [
  "magic",
  "version",
  "blobBytes", // total size of the .tlm file
  "arenaBytes", // planned arena size (activations + scratch)
  "opCount",
  "opsOffset", // blob offset of the first op record
  "opsBytes",
  "metaOffset", // blob offset of the host-only JSON metadata (engine ignores it)
  "metaBytes",
  "maxRecordBytes", // largest op record, so the engine can check its buffer up front
  "numInputs",
  "numOutputs",
  // Training (all 0 in an inference-only .tlm; see "Training" below):
  "trainOpsOffset", // blob offset of the training program: forward, loss, backward and updates
  "trainOpsBytes",
  "trainOpCount",
  "trainStateBytes", // persistent training state at arena offset 0: parameter overlays, masters, momentum
  "overlayOffset", // blob offset of the overlay table: overlayCount x (blobOffset, bytes, arenaOffset)
  "overlayCount",
] as const;
/** After the fields: (arenaOffset, bytes) pairs, inputs first, then outputs. */
export const MAX_IO = 8;
export const HEADER_BYTES = 256;

/** Status codes returned by engine exports (0 = ok). */
export const STATUS = {
  OK: 0,
  BAD_MAGIC: 1,
  BAD_VERSION: 2,
  READ_FAILED: 3, // the runner's tl_read import refused the range
  BAD_RECORD: 4, // unknown opcode or record longer than the record buffer
  OUT_OF_ARENA: 5, // a record names bytes outside the planned arena
  NOT_LOADED: 6,
  MEMORY: 7, // linear memory could not grow to the planned arena
  KERNEL: 8, // a kernel rejected its parameters (e.g. empty pooling window)
  DONE: 9, // step() called after the last op
  TRAP: 10, // reported by runners, never by the engine: the wasm code trapped
  NOT_TRAINABLE: 11, // a training export was called on an inference-only .tlm (or before tl_train_init)
  BAD_LABEL: 12, // the label is not a class of the loss
} as const;

export const OPCODES = {
  CONV_2D: 1,
  DEPTHWISE_CONV_2D: 2,
  FULLY_CONNECTED: 3,
  AVERAGE_POOL_2D: 4,
  MAX_POOL_2D: 5,
  ADD: 6,
  MUL: 7,
  SOFTMAX: 8,
  REQUANTIZE: 9, // QUANTIZE int8 -> int8
  QUANTIZE_F32: 10, // QUANTIZE float32 -> int8
  DEQUANTIZE: 11, // int8 -> float32
  PAD: 12,
  CONCATENATION: 13,
  MEAN: 14,
  COPY: 15, // RESHAPE that could not be aliased
  CONV_2D_SPARSE: 16, // 1x1 CONV_2D with sparse weight tiles
  STAGE: 17, // a row-streamed run of spatial ops (see "Stages" below)
  // fp8 (E4M3/E5M2) weights, f32 accumulation; opcodes 24-31 are reserved for fp8.
  CONV_2D_FP8: 24,
  DEPTHWISE_CONV_2D_FP8: 25,
  FULLY_CONNECTED_FP8: 26,
  // Training program only (32-47): see "Training" below.
  TRAIN_LOSS: 32,
  TRAIN_MASK: 33,
  TRAIN_MASK_APPLY: 34,
  TRAIN_ZERO: 35,
  TRAIN_ACCUMULATE: 36,
  TRAIN_CONV_2D: 37,
  TRAIN_DEPTHWISE_CONV_2D: 38,
  TRAIN_FULLY_CONNECTED: 39,
  TRAIN_AVERAGE_POOL_2D: 40,
  TRAIN_MAX_POOL_2D: 41,
  TRAIN_MEAN: 42,
  // Hybrid fp8 training (--precision fp8): E4M3 saved activations, E5M2 errors.
  TRAIN_SAVE_E4M3: 43,
  TRAIN_ENCODE_E5M2: 44,
  TRAIN_DECODE_E5M2: 45,
  TRAIN_MASK_APPLY_E5M2: 46,
  TRAIN_ACCUMULATE_E5M2: 47,
} as const;
export type OpName = keyof typeof OPCODES;

/** Ops whose records have `inChunk`: a channel's weights may be streamed in pieces. */
export const CHUNKED_OPS: readonly OpName[] = ["FULLY_CONNECTED", "FULLY_CONNECTED_FP8"];

/** Ops whose weights are fp8 codes (the rest of the weighted ops hold int8). */
export const FP8_OPS: readonly OpName[] = ["CONV_2D_FP8", "DEPTHWISE_CONV_2D_FP8", "FULLY_CONNECTED_FP8"];

/**
 * Op records: word 0 = opcode, word 1 = record bytes, then the params below.
 * Tensor fields hold arena offsets. Weight fields hold blob offsets.
 *
 * Weighted ops (conv, depthwise, fully connected) keep weights in the blob as
 * tiles of `tileCh` output channels; tile t is, contiguously,
 *   [bias i32, multiplier i32, shift i32] x tileCh, then tileCh x perChannel weight bytes
 * (conv: [kH][kW][inC] per channel; depthwise: [kH][kW]; fully connected: [inC]).
 * The engine reads one tile at a time into the arena buffer `tileBuf`.
 *
 * CONV_2D_SPARSE (1x1 only) stores tiles of varying length: each tile starts with its u32 byte
 * length (including that word), then [bias, multiplier, shift] x n, then per channel a block
 * u16 nnz, nnz x u16 input-channel index, nnz x i8 weight, and a pad byte when nnz is odd.
 *
 * A fully connected op whose single channel does not fit its tile buffer has tileCh = 1 and
 * inChunk < inC: `tileBuf` then holds [channel data 12 B][batches x i32 accumulators][inChunk
 * weight bytes], and each channel's weights are read and accumulated inChunk bytes at a time.
 *
 * A fully connected op with weightLayout = 1 (one batch row, no filter offset, outC a multiple of 4)
 * stores each tile's weights as groups of four channels: for each input k one word
 * [w0[k] ^ 0x80, w1[k], w2[k] ^ 0x80, w3[k]] (channels 0 and 2 offset to unsigned), and its channel
 * data's bias is bias + inputOffset * sum(w) (assembly/kernels/int8/fully_connected_grouped.ts).
 * tileCh is a multiple of 4. With inChunk < inC it streams four channels at a time: `tileBuf` holds
 * [channel data 4 x 12 B][4 x i32 accumulators][4 x inChunk weight bytes], and each group's words
 * are read inChunk inputs at a time.
 *
 * The fp8 ops (CONV_2D_FP8, DEPTHWISE_CONV_2D_FP8, FULLY_CONNECTED_FP8) share Fp8Params and
 * store tiles of tileCh channels as
 *   [bias f32] x n (zeros without bias), then (perChannelScale = 1 only) [weight scale f32] x n,
 *   then n x perChannel fp8 weight codes (per-channel order as above),
 * i.e. fp8ChannelDataBytes(perChannelScale) bytes of channel data per channel. With
 * perChannelScale = 0 the one weight scale is the record's weightScaleBits. Scales and
 * bounds named *Bits are f32 bit patterns. FC uses batches, inC and outC (inH = inW = outH =
 * outW = kH = kW = 1), and streams a channel in pieces as the int8 FC does when inChunk < inC,
 * with [channel data][batches x f32 accumulators][inChunk weight bytes] in `tileBuf`. The
 * arithmetic is assembly/kernels/fp8/params.ts's.
 */
export const RECORDS = {
  ConvParams: [
    "input", "inH", "inW", "inC",
    "output", "outH", "outW", "outC",
    "kH", "kW", "strideH", "strideW", "dilH", "dilW", "padH", "padW",
    "depthMultiplier", // depthwise only
    "inputOffset", "outputOffset", "actMin", "actMax",
    "weights", "tileCh", "tileBuf",
    "weightCoding", "codeTable", // WEIGHT_CODINGS (see above); codeTable: HUFFMAN only
  ],
  FullyConnectedParams: [
    "input", "output", "batches", "inC", "outC",
    "inputOffset", "filterOffset", "outputOffset", "actMin", "actMax",
    "weights", "tileCh", "tileBuf",
    "inChunk", // < inC: one channel at a time, its weights read inChunk bytes at a time (see above)
    "weightLayout", // 0: channel rows; 1: groups of four channels, input by input (see above)
  ],
  PoolParams: [
    "input", "inH", "inW", "channels",
    "output", "outH", "outW",
    "kH", "kW", "strideH", "strideW", "padH", "padW",
    "actMin", "actMax",
  ],
  // ADD and MUL over a 4-D output; input strides are in elements, 0 where broadcast.
  ElementwiseParams: [
    "input1", "input2", "output",
    "d0", "d1", "d2", "d3",
    "s1_0", "s1_1", "s1_2", "s1_3",
    "s2_0", "s2_1", "s2_2", "s2_3",
    "input1Offset", "input2Offset", "outputOffset",
    "input1Multiplier", "input1Shift", "input2Multiplier", "input2Shift",
    "outputMultiplier", "outputShift", "leftShift",
    "actMin", "actMax",
  ],
  SoftmaxParams: [
    "input", "output", "rows", "depth",
    "inputMultiplier", "inputLeftShift", "diffMin",
  ],
  RequantizeParams: [
    "input", "output", "count",
    "inputZeroPoint", "outputZeroPoint", "multiplier", "shift",
  ],
  // scale is float32 bits
  QuantizeF32Params: ["input", "output", "count", "scaleBits", "zeroPoint"],
  DequantizeParams: ["input", "output", "count", "scaleBits", "zeroPoint"],
  // 4-D int8 pad; before/after per dim; fill with padValue
  PadParams: [
    "input", "output",
    "d0", "d1", "d2", "d3",
    "b0", "b1", "b2", "b3",
    "a0", "a1", "a2", "a3",
    "padValue",
  ],
  // Concatenation with identical quantization: `outer` rows; each input contributes
  // `inner` bytes per row. Followed by `count` pairs (input arena offset, inner bytes).
  ConcatParams: ["output", "outer", "outInner", "count"],
  // MEAN over axes of a 4-D int8 tensor, TFLM int8 semantics (see kernels/int8/mean.ts).
  MeanParams: [
    "input", "output",
    "d0", "d1", "d2", "d3",
    "axisMask", // bit i set = reduce dim i
    "inputZeroPoint", "outputZeroPoint", "multiplier", "shift",
  ],
  CopyParams: ["input", "output", "bytes"],
  // A row-streamed stage: stepCount steps stored from blob offset `steps`, stepBytes long in all.
  StageParams: ["steps", "stepCount", "stepBytes"],
  Fp8Params: [
    "input", "inH", "inW", "inC",
    "output", "outH", "outW", "outC",
    "kH", "kW", "strideH", "strideW", "dilH", "dilW", "padH", "padW",
    "depthMultiplier", "batches",
    "inType", "outType", // 0 = int8, 1 = fp8 E4M3 activations
    "inScaleBits", "inZeroPoint", "outScaleBits", "outZeroPoint",
    "actMin", "actMax", // int8 output clamp
    "actMinBits", "actMaxBits", // E4M3 output clamp (real domain)
    "weightFormat", // 0 = E4M3, 1 = E5M2
    "perChannelScale", "weightScaleBits", // weightScaleBits: the one scale when perChannelScale = 0
    "weights", "tileCh", "tileBuf",
    "inChunk", // FULLY_CONNECTED_FP8 only: < inC streams one channel in inChunk-byte pieces (see above)
  ],

  // ---- Training (see the comment above TRAIN_EXTRA) ----
  // Softmax cross-entropy on int8 logits (real = scale * (q - zeroPoint)) and the label passed to
  // tl_train_step; writes the f32 error of the logits and sets the step's loss.
  TrainLossParams: ["logits", "count", "scaleBits", "zeroPoint", "grad"],
  // 1 bit per element of an op's int8 output: actMin < q < actMax (where the gradient passes).
  TrainMaskParams: ["input", "count", "actMin", "actMax", "mask"],
  TrainMaskApplyParams: ["grad", "mask", "count"],
  TrainZeroParams: ["grad", "count"], // count f32 values
  TrainAccumulateParams: ["dst", "src", "count"], // dst += src, count f32 values
  TrainConvParams: [
    "input", "inH", "inW", "inC",
    "output", "outH", "outW", "outC",
    "kH", "kW", "strideH", "strideW", "dilH", "dilW", "padH", "padW",
    "depthMultiplier",
    "inputOffset", "outputOffset", "actMin", "actMax",
    "weights", "tileCh", "tileBuf",
    "weightCoding", "codeTable", // always 0: training reads and updates raw tiles
    "gradOut", "gradIn", "inputScaleBits", "wScales", "scaleBuf", "gradBuf",
    "master", "velocity", "overlay", "overlayTiles", "trainChannels", "trainBias", "weightLrScaleBits", "biasLrScaleBits",
    "fp8", // 1: gradOut is an E5M2 error buffer, input the E4M3 copy TRAIN_SAVE_E4M3 made (see "Hybrid fp8" below)
  ],
  TrainFullyConnectedParams: [
    "input", "output", "batches", "inC", "outC",
    "inputOffset", "filterOffset", "outputOffset", "actMin", "actMax",
    "weights", "tileCh", "tileBuf",
    "inChunk",
    "weightLayout", // always 0: training reads and updates channel rows
    "gradOut", "gradIn", "inputScaleBits", "wScales", "scaleBuf", "gradBuf",
    "master", "velocity", "overlay", "overlayTiles", "trainChannels", "trainBias", "weightLrScaleBits", "biasLrScaleBits",
    "fp8", // 1: gradOut is an E5M2 error buffer, input the E4M3 copy TRAIN_SAVE_E4M3 made (see "Hybrid fp8" below)
  ],
  // Hybrid fp8: output[i] = E4M3(input[i] - zeroPoint), count int8 elements (the input's integer units).
  TrainSaveParams: ["input", "count", "zeroPoint", "output"],
  // E5M2 error buffer <-> f32 (ENCODE: src f32 -> dst E5M2; DECODE: src E5M2 -> dst f32), count elements.
  TrainConvertParams: ["src", "dst", "count"],
  TrainPoolParams: [
    "input", "inH", "inW", "channels",
    "output", "outH", "outW",
    "kH", "kW", "strideH", "strideW", "padH", "padW",
    "actMin", "actMax",
    "gradOut", "gradIn",
  ],
  TrainMeanParams: [
    "input", "output",
    "d0", "d1", "d2", "d3",
    "axisMask",
    "inputZeroPoint", "outputZeroPoint", "multiplier", "shift",
    "gradOut", "gradIn",
  ],
} as const;
export type RecordName = keyof typeof RECORDS;

/** Which params struct each opcode uses. */
export const OP_RECORD: Record<OpName, RecordName> = {
  CONV_2D: "ConvParams",
  DEPTHWISE_CONV_2D: "ConvParams",
  FULLY_CONNECTED: "FullyConnectedParams",
  AVERAGE_POOL_2D: "PoolParams",
  MAX_POOL_2D: "PoolParams",
  ADD: "ElementwiseParams",
  MUL: "ElementwiseParams",
  SOFTMAX: "SoftmaxParams",
  REQUANTIZE: "RequantizeParams",
  QUANTIZE_F32: "QuantizeF32Params",
  DEQUANTIZE: "DequantizeParams",
  PAD: "PadParams",
  CONCATENATION: "ConcatParams",
  MEAN: "MeanParams",
  COPY: "CopyParams",
  CONV_2D_SPARSE: "ConvParams",
  STAGE: "StageParams",
  CONV_2D_FP8: "Fp8Params",
  DEPTHWISE_CONV_2D_FP8: "Fp8Params",
  FULLY_CONNECTED_FP8: "Fp8Params",
  TRAIN_LOSS: "TrainLossParams",
  TRAIN_MASK: "TrainMaskParams",
  TRAIN_MASK_APPLY: "TrainMaskApplyParams",
  TRAIN_ZERO: "TrainZeroParams",
  TRAIN_ACCUMULATE: "TrainAccumulateParams",
  TRAIN_CONV_2D: "TrainConvParams",
  TRAIN_DEPTHWISE_CONV_2D: "TrainConvParams",
  TRAIN_FULLY_CONNECTED: "TrainFullyConnectedParams",
  TRAIN_AVERAGE_POOL_2D: "TrainPoolParams",
  TRAIN_MAX_POOL_2D: "TrainPoolParams",
  TRAIN_MEAN: "TrainMeanParams",
  TRAIN_SAVE_E4M3: "TrainSaveParams",
  TRAIN_ENCODE_E5M2: "TrainConvertParams",
  TRAIN_DECODE_E5M2: "TrainConvertParams",
  TRAIN_MASK_APPLY_E5M2: "TrainMaskApplyParams",
  TRAIN_ACCUMULATE_E5M2: "TrainAccumulateParams",
};

/**
 * Stages (patch-based inference in full-width row patches). A STAGE record runs several
 * spatial ops (CONV_2D, DEPTHWISE_CONV_2D, CONV_2D_SPARSE, pooling, ADD) one output row at a
 * time, so the tensors between them never exist whole: each lives in a ring of a few rows in
 * the arena. The host plans every step; the engine only replays them. A step is, in the blob,
 *   [sub-record blob offset, patchCount, (word index, value) x patchCount]
 * where the sub-record is an ordinary op record stored in the blob (never a STAGE), and each
 * patch replaces word `index` of its params (0 = the first param) before the record runs:
 * typically its input and output row addresses, its row count and its top padding. A step whose
 * sub-record is the previous step's patches that record as the previous step left it (so it
 * lists only the words that change); any other step starts from the record as stored. The
 * patched record goes through the same checks as any other, so a step can only touch the arena.
 */
/**
 * Weight codings (`weightCoding` of CONV_2D and DEPTHWISE_CONV_2D records, --compress auto): a coded
 * op's tiles vary in length, each [u32 tile bytes, this word included][channel data x n][coded
 * weight bytes]; the engine decodes the weights into `tileBuf` (assembly/decode.ts).
 *   RLE      tokens [zeros u8][literals u8][literal bytes], zeros + literals > 0
 *   ZVC      per 8 weights a bitmap byte (bit i set: weight i is not zero, lowest bit first), then those weights
 *   HUFFMAN  canonical Huffman codes, most significant bit first, zero bits pad the tile's last byte;
 *            `codeTable` is the blob offset of the op's table: HUFFMAN_MAX_BITS u16 code counts
 *            (lengths 1..HUFFMAN_MAX_BITS), then the symbols (weight bytes) in code order
 */
export const WEIGHT_CODINGS = { RAW: 0, RLE: 1, ZVC: 2, HUFFMAN: 3 } as const;
export const HUFFMAN_MAX_BITS = 12;

export const STAGE_STEP_HEADER_WORDS = 2;
export const MAX_STAGE_PATCHES = 16;

/**
 * Training. A training .tlm carries, besides the inference op list, a training program
 * (header trainOps*): the forward records again (same arena offsets), TRAIN_MASK records
 * after forward ops whose activation mask the backward pass needs, then TRAIN_LOSS and
 * the backward records in reverse order. Errors (gradients of real activation values) are
 * f32 arena buffers (E5M2 with train --precision fp8: "Hybrid fp8" below). The first
 * trainStateBytes of the arena are the persistent state:
 * - overlays: arena copies of blob byte ranges (the overlay table maps blobOffset/bytes to
 *   arenaOffset). Once tl_train_init has filled them, every weight read of the blob range
 *   comes from the arena copy instead, so the forward pass sees the updated parameters.
 *   A layer's overlay holds its first overlayTiles weight tiles as stored (those holding the
 *   trainChannels trained channels: a sparse update copies only them), then, when trainBias = 1,
 *   the [bias, multiplier, shift] records of every later channel, 12 bytes each.
 * - master: what keeps small steps from rounding away. Weights: one int8 residual per trained
 *   weight (trainChannels x perChannel, output channels 0 .. trainChannels-1, padded to 4 bytes):
 *   the value being trained is overlay weight + residual / 256. Then, when trainBias = 1, outC f32
 *   biases in the bias's integer units.
 * - velocity: momentum buffers, f32 per trained weight then per bias (-1 = none).
 * TRAIN_CONV_2D / TRAIN_DEPTHWISE_CONV_2D / TRAIN_FULLY_CONNECTED: gradOut is the error of
 * the op's output (already masked); first the error of the input is accumulated into gradIn
 * (-1 = not needed) with the weights as they were, then each trained channel's gradient is
 * computed into gradBuf (f32 x perChannel) and applied at once (SGD with QAS: the step in
 * integer units is lr * gradient / scale^2, i.e. plain SGD on the real-valued parameter), so no gradient tensor is ever held. wScales is
 * the blob offset of f32 x outC weight scales, read into scaleBuf. weightLrScaleBits and biasLrScaleBits
 * (f32) multiply the learning rate of the layer's weights and biases: below 1 for the weights of a layer
 * reading raw model inputs of a wide real range (pixels 0..255), so that it trains as if its inputs were
 * normalized to a unit range; the classifier's head factor (--head-lr) on both.
 *
 * Hybrid fp8 (train --precision fp8). Errors between records are E5M2 error buffers: an i32
 * shared exponent k, then count E5M2 codes (ERROR_HEADER_BYTES + count bytes); element i is
 * fp8_decode(E5M2, code[i]) * 2^-k. TRAIN_ENCODE_E5M2 picks k from the largest magnitude (it lands
 * in [2^14, 2^15), below E5M2's largest finite 57344) and rounds to nearest even, saturating.
 * TRAIN_ZERO clears one (count = its bytes / 4). A weighted record with fp8 = 1 reads gradOut as
 * an E5M2 error buffer and its input as E4M3 codes of x_q - zeroPoint (written by TRAIN_SAVE_E4M3
 * right after the forward produced it), and accumulates gradIn into an f32 buffer that the
 * compiler zeroes or DECODEs before and ENCODEs after. Pools and MEAN run on f32 copies the same
 * way. TRAIN_MASK_APPLY_E5M2 zeroes masked codes; TRAIN_ACCUMULATE_E5M2 re-encodes dst + src.
 */
export const TRAIN_OVERLAY_WORDS = 3;
/** Bytes ahead of an E5M2 error buffer's codes: its shared exponent (i32). */
export const ERROR_HEADER_BYTES = 4;


/** Bytes of per-channel data (bias, multiplier, shift) ahead of each tile's weights. */
export const CHANNEL_DATA_BYTES = 12;
/** fp8 tiles: per-channel f32 bias, then (per-channel scales only) f32 weight scale. */
export const FP8_BIAS_BYTES = 4;
export const FP8_SCALE_BYTES = 4;
/** Bytes of per-channel data ahead of an fp8 tile's weights. */
export function fp8ChannelDataBytes(perChannelScale: number): number {
  return FP8_BIAS_BYTES + (perChannelScale ? FP8_SCALE_BYTES : 0);
}
/** Engine-side buffer for one op record. */
export const MAX_RECORD_BYTES = 512;
