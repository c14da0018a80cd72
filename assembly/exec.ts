// Walks the op list of a loaded .tlm: reads one record at a time from the blob
// (through the runner's tl_read import), checks every buffer it names against the
// arena, streams weight tiles into their planned buffer (through readWeights, which
// serves trained parameters from their arena copies) and calls the kernel.
import {
  RECORD_PARAMS, MAX_RECORD_BYTES, CHANNEL_DATA_BYTES,
  STATUS_OK, STATUS_BAD_RECORD, STATUS_OUT_OF_ARENA, STATUS_READ_FAILED, STATUS_KERNEL,
  OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_AVERAGE_POOL_2D, OP_MAX_POOL_2D,
  OP_ADD, OP_MUL, OP_SOFTMAX, OP_REQUANTIZE, OP_QUANTIZE_F32, OP_DEQUANTIZE, OP_PAD,
  OP_CONCATENATION, OP_MEAN, OP_COPY, OP_CONV_2D_SPARSE, CONCAT_PARAMS_WORDS,
  OP_CONV_2D_FP8, OP_DEPTHWISE_CONV_2D_FP8, OP_FULLY_CONNECTED_FP8,
  OP_STAGE, STAGE_STEP_HEADER_WORDS, MAX_STAGE_PATCHES, StageParams,
  CODING_RAW, CODING_RLE, CODING_ZVC, CODING_HUFFMAN,
  ConvParams, FullyConnectedParams, PoolParams, ElementwiseParams, SoftmaxParams,
  RequantizeParams, QuantizeF32Params, DequantizeParams, PadParams, ConcatParams, MeanParams, CopyParams, Fp8Params,
} from "./format";
import { ARENA, touch } from "./arena";
import { tl_read } from "./io";
import { readWeights } from "./overlay";
import { conv2d_s8 } from "./kernels/int8/conv2d";
import { conv2d_sparse_1x1_s8 } from "./kernels/int8/conv2d_sparse";
import { depthwise_conv2d_s8 } from "./kernels/int8/depthwise_conv2d";
import { fully_connected_s8, fully_connected_accumulate_s8, fully_connected_finish_s8 } from "./kernels/int8/fully_connected";
import {
  GROUP, fully_connected_grouped_prepare, fully_connected_grouped_s8,
  fully_connected_grouped_accumulate_s8, fully_connected_grouped_finish_s8,
} from "./kernels/int8/fully_connected_grouped";
import { average_pool_s8, max_pool_s8 } from "./kernels/int8/pool";
import { add_s8, mul_s8 } from "./kernels/int8/elementwise";
import { softmax_s8 } from "./kernels/int8/softmax";
import { requantize_s8, quantize_f32_s8, dequantize_s8_f32 } from "./kernels/int8/quantize";
import { pad_s8 } from "./kernels/int8/pad";
import { concatenation_s8 } from "./kernels/int8/concatenation";
import { mean_s8 } from "./kernels/int8/mean";
import { loadHuffman, decodeWeights } from "./decode";
import { isFp8Op, fp8ChannelBytes, fp8Setup, fp8Tile, fp8Accumulate, fp8Finish } from "./exec_fp8";

/** forEachTile's kind for FULLY_CONNECTED tiles in groups of four channels (not an opcode). */
const KIND_FC_GROUPED: i32 = -1;

/** Buffer for the record being executed. */
export const RECORD: usize = memory.data(MAX_RECORD_BYTES, 16);

/** A stage step's sub-record, patched, and the step itself (see "Stages" in host/format/spec.ts). */
const SUB_RECORD: usize = memory.data(MAX_RECORD_BYTES, 16);
const STEP_WORDS: i32 = STAGE_STEP_HEADER_WORDS + 2 * MAX_STAGE_PATCHES;
const STEP: usize = memory.data(STEP_WORDS << 2, 16);

/** Reads the record at blob offset `at` into RECORD; returns its byte length or a negative status. */
export function readRecord(at: u32): i32 {
  return readRecordInto(at, RECORD);
}

function readRecordInto(at: u32, buf: usize): i32 {
  if (tl_read(at, buf, 8) != 0) return -STATUS_READ_FAILED;
  const bytes = load<i32>(buf, 4);
  if (bytes < 8 || bytes > MAX_RECORD_BYTES || (bytes & 3) != 0) return -STATUS_BAD_RECORD;
  if (tl_read(at + 8, buf + 8, bytes - 8) != 0) return -STATUS_READ_FAILED;
  return bytes;
}

/** Runs the record in RECORD. */
export function execRecord(): i32 {
  return execRecordAt(RECORD);
}

function execRecordAt(record: usize): i32 {
  const opcode = load<i32>(record);
  const p = record + RECORD_PARAMS;
  switch (opcode) {
    case OP_CONV_2D:
    case OP_DEPTHWISE_CONV_2D: return execConv(opcode, changetype<ConvParams>(p));
    case OP_FULLY_CONNECTED: return execFullyConnected(changetype<FullyConnectedParams>(p));
    case OP_CONV_2D_SPARSE: return execSparseConv(changetype<ConvParams>(p));
    case OP_STAGE: return record == RECORD ? execStage(changetype<StageParams>(p)) : STATUS_BAD_RECORD; // never nested
    case OP_CONV_2D_FP8:
    case OP_DEPTHWISE_CONV_2D_FP8:
    case OP_FULLY_CONNECTED_FP8: return execFp8(opcode, changetype<Fp8Params>(p));
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D: {
      const q = changetype<PoolParams>(p);
      if (!touch(q.input, size(q.inH, q.inW, q.channels)) || !touch(q.output, size(q.outH, q.outW, q.channels))) return STATUS_OUT_OF_ARENA;
      return opcode == OP_MAX_POOL_2D ? max_pool_s8(q) : average_pool_s8(q);
    }
    case OP_ADD:
    case OP_MUL: {
      const q = changetype<ElementwiseParams>(p);
      const n = size(q.d0, q.d1, q.d2, q.d3);
      const n1 = extent4(q.d0, q.d1, q.d2, q.d3, q.s1_0, q.s1_1, q.s1_2, q.s1_3);
      const n2 = extent4(q.d0, q.d1, q.d2, q.d3, q.s2_0, q.s2_1, q.s2_2, q.s2_3);
      if (n1 < 0 || n2 < 0 || !touch(q.input1, n1) || !touch(q.input2, n2) || !touch(q.output, n)) return STATUS_OUT_OF_ARENA;
      return opcode == OP_ADD ? add_s8(q) : mul_s8(q);
    }
    case OP_SOFTMAX: {
      const q = changetype<SoftmaxParams>(p);
      if (!touch(q.input, size(q.rows, q.depth)) || !touch(q.output, size(q.rows, q.depth))) return STATUS_OUT_OF_ARENA;
      return softmax_s8(q);
    }
    case OP_REQUANTIZE: {
      const q = changetype<RequantizeParams>(p);
      if (!touch(q.input, q.count) || !touch(q.output, q.count)) return STATUS_OUT_OF_ARENA;
      return requantize_s8(q);
    }
    case OP_QUANTIZE_F32: {
      const q = changetype<QuantizeF32Params>(p);
      if (!touch(q.input, size(q.count, 4)) || !touch(q.output, q.count)) return STATUS_OUT_OF_ARENA;
      return quantize_f32_s8(q);
    }
    case OP_DEQUANTIZE: {
      const q = changetype<DequantizeParams>(p);
      if (!touch(q.input, q.count) || !touch(q.output, size(q.count, 4))) return STATUS_OUT_OF_ARENA;
      return dequantize_s8_f32(q);
    }
    case OP_PAD: {
      const q = changetype<PadParams>(p);
      const outN = size(q.d0 + q.b0 + q.a0, q.d1 + q.b1 + q.a1, q.d2 + q.b2 + q.a2, q.d3 + q.b3 + q.a3);
      if (q.b0 < 0 || q.b1 < 0 || q.b2 < 0 || q.b3 < 0 || q.a0 < 0 || q.a1 < 0 || q.a2 < 0 || q.a3 < 0) return STATUS_BAD_RECORD;
      if (!touch(q.input, size(q.d0, q.d1, q.d2, q.d3)) || !touch(q.output, outN)) return STATUS_OUT_OF_ARENA;
      return pad_s8(q);
    }
    case OP_CONCATENATION: {
      const q = changetype<ConcatParams>(p);
      const pairs = p + <usize>(CONCAT_PARAMS_WORDS << 2);
      if (record + <usize>load<i32>(record, 4) < pairs + <usize>(q.count << 3)) return STATUS_BAD_RECORD;
      if (!touch(q.output, size(q.outer, q.outInner))) return STATUS_OUT_OF_ARENA;
      for (let i = 0; i < q.count; i++) {
        if (!touch(load<i32>(pairs + (<usize>i << 3)), size(q.outer, load<i32>(pairs + (<usize>i << 3), 4)))) return STATUS_OUT_OF_ARENA;
      }
      return concatenation_s8(q, pairs);
    }
    case OP_MEAN: {
      const q = changetype<MeanParams>(p);
      const m = q.axisMask;
      const outN = size((m & 1) ? 1 : q.d0, (m & 2) ? 1 : q.d1, (m & 4) ? 1 : q.d2, (m & 8) ? 1 : q.d3);
      if (!touch(q.input, size(q.d0, q.d1, q.d2, q.d3)) || !touch(q.output, outN)) return STATUS_OUT_OF_ARENA;
      return mean_s8(q);
    }
    case OP_COPY: {
      const q = changetype<CopyParams>(p);
      if (!touch(q.input, q.bytes) || !touch(q.output, q.bytes)) return STATUS_OUT_OF_ARENA;
      memory.copy(ARENA + <usize>q.output, ARENA + <usize>q.input, <usize>q.bytes);
      return STATUS_OK;
    }
  }
  return STATUS_BAD_RECORD;
}

/**
 * Replays a stage's steps: each reads its sub-record from the blob (unless the step before ran
 * the same one: its patched words then carry over), patches some of its words (row addresses,
 * row counts, padding) and runs it like any other record, checks included.
 */
function execStage(q: StageParams): i32 {
  if (q.stepCount < 0 || q.stepBytes < 0) return STATUS_BAD_RECORD;
  let lastSub: u32 = 0;
  let at = <u64><u32>q.steps;
  const end = at + <u64><u32>q.stepBytes;
  if (end > <u64>u32.MAX_VALUE) return STATUS_BAD_RECORD;
  for (let i = 0; i < q.stepCount; i++) {
    if (at + 8 > end) return STATUS_BAD_RECORD;
    if (tl_read(<u32>at, STEP, 8) != 0) return STATUS_READ_FAILED;
    const sub = load<u32>(STEP), n = load<i32>(STEP, 4);
    if (n < 0 || n > MAX_STAGE_PATCHES) return STATUS_BAD_RECORD;
    const stepBytes = <u64>(8 + (n << 3));
    if (at + stepBytes > end) return STATUS_BAD_RECORD;
    if (n > 0 && tl_read(<u32>at + 8, STEP + 8, n << 3) != 0) return STATUS_READ_FAILED;
    // A step running the same sub-record as the step before patches it as that step left it.
    if (i == 0 || sub != lastSub) {
      const bytes = readRecordInto(sub, SUB_RECORD);
      if (bytes < 0) return -bytes;
      lastSub = sub;
    }
    const words = (load<i32>(SUB_RECORD, 4) - RECORD_PARAMS) >> 2;
    for (let k = 0; k < n; k++) {
      const w = load<i32>(STEP + 8 + (<usize>k << 3));
      if (w < 0 || w >= words) return STATUS_BAD_RECORD;
      store<i32>(SUB_RECORD + RECORD_PARAMS + (<usize>w << 2), load<i32>(STEP + 12 + (<usize>k << 3)));
    }
    const s = execRecordAt(SUB_RECORD);
    if (s != STATUS_OK) return s;
    at += stepBytes;
  }
  return STATUS_OK;
}

/** Product of up to four sizes, or -1 if any is negative or the product passes 2^31 - 1. */
export function size(a: i32, b: i32, c: i32 = 1, d: i32 = 1): i32 {
  if (a < 0 || b < 0 || c < 0 || d < 0) return -1;
  const max = <i64>i32.MAX_VALUE;
  let p = <i64>a * <i64>b; // < 2^62, no i64 overflow
  if (p > max) return -1;
  p *= <i64>c;
  if (p > max) return -1;
  p *= <i64>d;
  return p > max ? -1 : <i32>p;
}

/** Elements spanned by a strided 4-D view, or -1 for a negative stride. */
export function extent4(d0: i32, d1: i32, d2: i32, d3: i32, s0: i32, s1: i32, s2: i32, s3: i32): i32 {
  if (s0 < 0 || s1 < 0 || s2 < 0 || s3 < 0 || d0 < 1 || d1 < 1 || d2 < 1 || d3 < 1) return -1;
  const e = <i64>(d0 - 1) * s0 + <i64>(d1 - 1) * s1 + <i64>(d2 - 1) * s2 + <i64>(d3 - 1) * s3 + 1;
  return e > <i64>i32.MAX_VALUE ? -1 : <i32>e;
}

/**
 * Streams the weight tiles of a weighted op (`channelBytes` of channel data and `perChannel`
 * weight bytes per output channel) and calls the op's kernel for each.
 */
function forEachTile(weights: u32, tileBuf: i32, tileCh: i32, outC: i32, channelBytes: i32, perChannel: i32, kind: i32, p: usize): i32 {
  const tileBytes = size(tileCh, channelBytes + perChannel);
  if (tileCh <= 0 || outC < 0 || tileBytes < 0) return STATUS_BAD_RECORD;
  if (!touch(tileBuf, tileBytes)) return STATUS_OUT_OF_ARENA;
  const buf = ARENA + <usize>tileBuf;
  for (let oc0 = 0, t = 0; oc0 < outC; oc0 += tileCh, t++) {
    const n = min(tileCh, outC - oc0);
    const src = <u64>weights + <u64>t * <u64>tileBytes;
    if (src > <u64>u32.MAX_VALUE) return STATUS_READ_FAILED;
    if (readWeights(<u32>src, buf, <u32>(n * (channelBytes + perChannel))) != 0) return STATUS_READ_FAILED;
    let s = STATUS_KERNEL;
    if (isFp8Op(kind)) s = fp8Tile(kind, buf, oc0, n);
    else if (kind == OP_CONV_2D) s = conv2d_s8(changetype<ConvParams>(p), buf, oc0, oc0 + n);
    else if (kind == OP_DEPTHWISE_CONV_2D) s = depthwise_conv2d_s8(changetype<ConvParams>(p), buf, oc0, oc0 + n);
    else if (kind == OP_FULLY_CONNECTED) s = fully_connected_s8(changetype<FullyConnectedParams>(p), buf, oc0, oc0 + n);
    else s = fully_connected_grouped_s8(changetype<FullyConnectedParams>(p), buf, oc0, oc0 + n);
    if (s != STATUS_OK) return s;
  }
  return STATUS_OK;
}

function execConv(opcode: i32, q: ConvParams): i32 {
  if (!touch(q.input, size(q.inH, q.inW, q.inC)) || !touch(q.output, size(q.outH, q.outW, q.outC))) return STATUS_OUT_OF_ARENA;
  const perChannel = opcode == OP_CONV_2D ? size(q.kH, q.kW, q.inC) : size(q.kH, q.kW);
  if (perChannel < 0) return STATUS_BAD_RECORD;
  if (q.weightCoding != CODING_RAW) return execCodedConv(opcode, q, perChannel);
  return forEachTile(<u32>q.weights, q.tileBuf, q.tileCh, q.outC, CHANNEL_DATA_BYTES, perChannel, opcode, changetype<usize>(q));
}

/**
 * CONV_2D / DEPTHWISE_CONV_2D with coded weights (see "Weight codings" in host/format/spec.ts):
 * each tile's channel data is read as it is and its weights decoded into the tile buffer.
 */
function execCodedConv(opcode: i32, q: ConvParams, perChannel: i32): i32 {
  const coding = q.weightCoding;
  if (coding != CODING_RLE && coding != CODING_ZVC && coding != CODING_HUFFMAN) return STATUS_BAD_RECORD;
  if (coding == CODING_HUFFMAN && !loadHuffman(<u32>q.codeTable)) return STATUS_BAD_RECORD;
  const tileBytes = size(q.tileCh, CHANNEL_DATA_BYTES + perChannel);
  if (q.tileCh <= 0 || q.outC < 0 || tileBytes < 0) return STATUS_BAD_RECORD;
  if (!touch(q.tileBuf, tileBytes)) return STATUS_OUT_OF_ARENA;
  const buf = ARENA + <usize>q.tileBuf;
  let src = <u64><u32>q.weights;
  for (let oc0 = 0; oc0 < q.outC; oc0 += q.tileCh) {
    const n = min(q.tileCh, q.outC - oc0), dataBytes = n * CHANNEL_DATA_BYTES;
    if (src + 4 > <u64>u32.MAX_VALUE || tl_read(<u32>src, buf, 4) != 0) return STATUS_READ_FAILED;
    const len = <u64>load<u32>(buf);
    if (len < <u64>(4 + dataBytes) || src + len > <u64>u32.MAX_VALUE) return STATUS_BAD_RECORD;
    if (tl_read(<u32>src + 4, buf, <u32>dataBytes) != 0) return STATUS_READ_FAILED;
    const coded = <u32>src + 4 + <u32>dataBytes;
    if (!decodeWeights(coding, coded, <u32>len - 4 - <u32>dataBytes, buf + <usize>dataBytes, n * perChannel)) return STATUS_BAD_RECORD;
    const s = opcode == OP_CONV_2D ? conv2d_s8(q, buf, oc0, oc0 + n) : depthwise_conv2d_s8(q, buf, oc0, oc0 + n);
    if (s != STATUS_OK) return s;
    src += len;
  }
  return STATUS_OK;
}

function execFullyConnected(q: FullyConnectedParams): i32 {
  if (!touch(q.input, size(q.batches, q.inC)) || !touch(q.output, size(q.batches, q.outC))) return STATUS_OUT_OF_ARENA;
  if (q.weightLayout == 1) return execGroupedFullyConnected(q);
  if (q.weightLayout != 0) return STATUS_BAD_RECORD;
  if (q.inChunk > 0 && q.inChunk < q.inC) {
    return fullyConnectedChunked(<u32>q.weights, q.tileBuf, q.batches, q.inC, q.outC, q.inChunk, CHANNEL_DATA_BYTES, OP_FULLY_CONNECTED, changetype<usize>(q));
  }
  return forEachTile(<u32>q.weights, q.tileBuf, q.tileCh, q.outC, CHANNEL_DATA_BYTES, q.inC, OP_FULLY_CONNECTED, changetype<usize>(q));
}

/** FULLY_CONNECTED with weights in groups of four channels (weightLayout 1, see host/format/spec.ts). */
function execGroupedFullyConnected(q: FullyConnectedParams): i32 {
  if (q.tileCh <= 0 || (q.tileCh & (GROUP - 1)) != 0) return STATUS_BAD_RECORD;
  const s = fully_connected_grouped_prepare(q);
  if (s != STATUS_OK) return s;
  const p = changetype<usize>(q);
  if (q.inChunk <= 0 || q.inChunk >= q.inC) return forEachTile(<u32>q.weights, q.tileBuf, q.tileCh, q.outC, CHANNEL_DATA_BYTES, q.inC, KIND_FC_GROUPED, p);
  // Four channels at a time, their words read inChunk inputs at a time. The same walk as
  // fullyConnectedChunked; folding the two into one (a group size, a kind to dispatch on) cost AD
  // 2.7% more instructions (24-42 per chunk: the accumulate call is no longer inlined), so it stays apart.
  const dataBytes = GROUP * CHANNEL_DATA_BYTES, chunkBytes = size(q.inChunk, GROUP);
  const groupBytes = size(q.inC, GROUP);
  if (chunkBytes < 0 || groupBytes < 0 || !touch(q.tileBuf, dataBytes + 16 + chunkBytes)) return STATUS_OUT_OF_ARENA;
  const channel = ARENA + <usize>q.tileBuf;
  const acc = channel + <usize>dataBytes;
  const w = acc + 16;
  for (let oc = 0; oc < q.outC; oc += GROUP) {
    const src = <u64><u32>q.weights + <u64>(oc >> 2) * <u64>(dataBytes + groupBytes);
    if (src + <u64>(dataBytes + groupBytes) > <u64>u32.MAX_VALUE) return STATUS_READ_FAILED;
    if (readWeights(<u32>src, channel, dataBytes) != 0) return STATUS_READ_FAILED;
    memory.fill(acc, 0, 16);
    for (let k0 = 0; k0 < q.inC; k0 += q.inChunk) {
      const n = min(q.inChunk, q.inC - k0);
      if (readWeights(<u32>src + <u32>(dataBytes + (k0 << 2)), w, <u32>(n << 2)) != 0) return STATUS_READ_FAILED;
      const s = fully_connected_grouped_accumulate_s8(q, acc, w, k0, n);
      if (s != STATUS_OK) return s;
    }
    const s = fully_connected_grouped_finish_s8(q, channel, acc, oc);
    if (s != STATUS_OK) return s;
  }
  return STATUS_OK;
}

/** An fp8-weight op: its buffers checked, the kernels' params filled, then its tiles streamed. */
function execFp8(opcode: i32, q: Fp8Params): i32 {
  const fc = opcode == OP_FULLY_CONNECTED_FP8;
  const inBytes = fc ? size(q.batches, q.inC) : size(q.inH, q.inW, q.inC);
  const outBytes = fc ? size(q.batches, q.outC) : size(q.outH, q.outW, q.outC);
  if (!touch(q.input, inBytes) || !touch(q.output, outBytes)) return STATUS_OUT_OF_ARENA;
  const perChannel = opcode == OP_CONV_2D_FP8 ? size(q.kH, q.kW, q.inC) : fc ? q.inC : size(q.kH, q.kW);
  if (perChannel < 0) return STATUS_BAD_RECORD;
  const s = fp8Setup(q);
  if (s != STATUS_OK) return s;
  if (fc && q.inChunk > 0 && q.inChunk < q.inC) {
    return fullyConnectedChunked(<u32>q.weights, q.tileBuf, q.batches, q.inC, q.outC, q.inChunk, fp8ChannelBytes(q), opcode, 0);
  }
  return forEachTile(<u32>q.weights, q.tileBuf, q.tileCh, q.outC, fp8ChannelBytes(q), perChannel, opcode, 0);
}

/**
 * Fully connected one channel at a time, each channel's weights streamed in inChunk-byte
 * pieces: `tileBuf` holds [channel data][batches x 4-byte accumulators][inChunk weight bytes].
 */
function fullyConnectedChunked(weights: u32, tileBuf: i32, batches: i32, inC: i32, outC: i32, inChunk: i32, channelBytes: i32, kind: i32, p: usize): i32 {
  const accBytes = size(batches, 4);
  const perChannel = channelBytes + inC;
  if (accBytes < 0 || outC < 0 || !touch(tileBuf, channelBytes + accBytes + inChunk)) return STATUS_OUT_OF_ARENA;
  const channel = ARENA + <usize>tileBuf;
  const acc = channel + <usize>channelBytes;
  const w = acc + <usize>accBytes;
  const fp8 = isFp8Op(kind);
  for (let oc = 0; oc < outC; oc++) {
    const src = <u64>weights + <u64>oc * <u64>perChannel;
    if (src + <u64>perChannel > <u64>u32.MAX_VALUE) return STATUS_READ_FAILED;
    if (readWeights(<u32>src, channel, channelBytes) != 0) return STATUS_READ_FAILED;
    memory.fill(acc, 0, <usize>accBytes); // 0 as i32 and as f32
    for (let k0 = 0; k0 < inC; k0 += inChunk) {
      const n = min(inChunk, inC - k0);
      if (readWeights(<u32>src + <u32>(channelBytes + k0), w, <u32>n) != 0) return STATUS_READ_FAILED;
      const s = fp8 ? fp8Accumulate(acc, w, k0, n) : fully_connected_accumulate_s8(changetype<FullyConnectedParams>(p), acc, w, k0, n);
      if (s != STATUS_OK) return s;
    }
    const s = fp8 ? fp8Finish(channel, acc, oc) : fully_connected_finish_s8(changetype<FullyConnectedParams>(p), channel, acc, oc);
    if (s != STATUS_OK) return s;
  }
  return STATUS_OK;
}

/** Sparse 1x1 convolution: tiles of varying length, each led by its byte length. */
function execSparseConv(q: ConvParams): i32 {
  if (q.weightCoding != CODING_RAW) return STATUS_BAD_RECORD;
  if (!touch(q.input, size(q.inH, q.inW, q.inC)) || !touch(q.output, size(q.outH, q.outW, q.outC))) return STATUS_OUT_OF_ARENA;
  if (q.tileCh <= 0 || q.outC < 0) return STATUS_BAD_RECORD;
  const buf = ARENA + <usize>q.tileBuf;
  let src = <u64><u32>q.weights;
  for (let oc0 = 0; oc0 < q.outC; oc0 += q.tileCh) {
    if (!touch(q.tileBuf, 4) || src + 4 > <u64>u32.MAX_VALUE) return STATUS_OUT_OF_ARENA;
    if (readWeights(<u32>src, buf, 4) != 0) return STATUS_READ_FAILED;
    const tileBytes = load<i32>(buf);
    if (tileBytes < 4 || src + <u64>tileBytes > <u64>u32.MAX_VALUE) return STATUS_BAD_RECORD;
    if (!touch(q.tileBuf, tileBytes)) return STATUS_OUT_OF_ARENA;
    if (readWeights(<u32>src + 4, buf + 4, <u32>(tileBytes - 4)) != 0) return STATUS_READ_FAILED;
    const s = conv2d_sparse_1x1_s8(q, buf + 4, buf + <usize>tileBytes, oc0, min(q.outC, oc0 + q.tileCh));
    if (s != STATUS_OK) return s;
    src += <u64>tileBytes;
  }
  return STATUS_OK;
}
