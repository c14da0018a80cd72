// Runs the training-only records of a training .tlm (see "Training" in host/format/spec.ts):
// loss, activation masks, error bookkeeping, and the backward + in-place update of
// weighted layers. Like exec.ts, every buffer a record names is checked against the arena.
import {
  CHANNEL_DATA_BYTES, RECORD_PARAMS,
  STATUS_OK, STATUS_BAD_RECORD, STATUS_OUT_OF_ARENA, STATUS_READ_FAILED, STATUS_BAD_LABEL,
  OP_TRAIN_LOSS, OP_TRAIN_MASK, OP_TRAIN_MASK_APPLY, OP_TRAIN_ZERO, OP_TRAIN_ACCUMULATE,
  OP_TRAIN_CONV_2D, OP_TRAIN_DEPTHWISE_CONV_2D, OP_TRAIN_FULLY_CONNECTED,
  OP_TRAIN_AVERAGE_POOL_2D, OP_TRAIN_MAX_POOL_2D, OP_TRAIN_MEAN,
  OP_TRAIN_SAVE_E4M3, OP_TRAIN_ENCODE_E5M2, OP_TRAIN_DECODE_E5M2, OP_TRAIN_MASK_APPLY_E5M2, OP_TRAIN_ACCUMULATE_E5M2,
  TrainSaveParams, TrainConvertParams, ERROR_HEADER_BYTES,
  ConvParams, FullyConnectedParams, PoolParams, MeanParams,
  TrainLossParams, TrainMaskParams, TrainMaskApplyParams, TrainZeroParams, TrainAccumulateParams,
  TrainConvParams, TrainFullyConnectedParams, TrainPoolParams, TrainMeanParams,
} from "./format";
import { ARENA, touch } from "./arena";
import { tl_read } from "./io";
import { readWeights } from "./overlay";
import { RECORD, size } from "./exec";
import { conv2d_backward_input, conv2d_weight_grad } from "./train/conv2d_backward";
import { depthwise_conv2d_backward_input, depthwise_conv2d_weight_grad } from "./train/depthwise_conv2d_backward";
import { fully_connected_backward_input, fully_connected_weight_grad } from "./train/fully_connected_backward";
import { errorAt } from "./train/element";
import {
  e5m2_error_encode, e5m2_error_decode, e5m2_error_accumulate, e5m2_error_mask_apply, e5m2_error_scale, e5m2_codes, e4m3_save_s8,
} from "./train/fp8_error";
import { fp8_table, FP8_E4M3, FP8_E5M2 } from "./fp8";
import { average_pool_backward_f32, max_pool_backward_f32 } from "./train/pool_backward";
import { mean_backward_f32 } from "./train/mean_backward";
import { sgd_update_f32, sgd_update_s8_residual } from "./train/sgd";
import { activation_mask_pack, activation_mask_apply_f32 } from "./train/activation_mask";
import { softmax_cross_entropy_f32 } from "./train/softmax_cross_entropy";
import { accumulate_f32 } from "./train/elementwise";
import { store_bias_s32 } from "./train/materialize";

/** Hyperparameters (tl_train_set_lr / tl_train_set_momentum) and the last step's results. */
export let learningRate: f32 = 0.01;
export let momentum: f32 = 0.0;
export let label: i32 = 0;
export let loss: f32 = 0.0;

export function setLearningRate(v: f32): void { learningRate = v; }
export function setMomentum(v: f32): void { momentum = v; }
export function setLabel(v: i32): void { label = v; }

/** Runs the training record in RECORD (opcode >= 32). */
export function execTrainRecord(): i32 {
  const opcode = load<i32>(RECORD);
  const p = RECORD + RECORD_PARAMS;
  switch (opcode) {
    case OP_TRAIN_LOSS: return execLoss(changetype<TrainLossParams>(p));
    case OP_TRAIN_MASK: {
      const q = changetype<TrainMaskParams>(p);
      if (!touch(q.input, q.count) || !touch(q.mask, maskBytes(q.count))) return STATUS_OUT_OF_ARENA;
      activation_mask_pack(ARENA + <usize>q.input, q.count, q.actMin, q.actMax, ARENA + <usize>q.mask);
      return STATUS_OK;
    }
    case OP_TRAIN_MASK_APPLY: {
      const q = changetype<TrainMaskApplyParams>(p);
      if (!touch(q.grad, size(q.count, 4)) || !touch(q.mask, maskBytes(q.count))) return STATUS_OUT_OF_ARENA;
      activation_mask_apply_f32(ARENA + <usize>q.grad, ARENA + <usize>q.mask, q.count);
      return STATUS_OK;
    }
    case OP_TRAIN_ZERO: {
      const q = changetype<TrainZeroParams>(p);
      if (!touch(q.grad, size(q.count, 4))) return STATUS_OUT_OF_ARENA;
      memory.fill(ARENA + <usize>q.grad, 0, <usize>q.count << 2);
      return STATUS_OK;
    }
    case OP_TRAIN_ACCUMULATE: {
      const q = changetype<TrainAccumulateParams>(p);
      if (!touch(q.dst, size(q.count, 4)) || !touch(q.src, size(q.count, 4))) return STATUS_OUT_OF_ARENA;
      accumulate_f32(ARENA + <usize>q.dst, ARENA + <usize>q.src, q.count);
      return STATUS_OK;
    }
    case OP_TRAIN_CONV_2D:
    case OP_TRAIN_DEPTHWISE_CONV_2D: return execTrainConv(opcode, changetype<TrainConvParams>(p));
    case OP_TRAIN_FULLY_CONNECTED: return execTrainFullyConnected(changetype<TrainFullyConnectedParams>(p));
    case OP_TRAIN_AVERAGE_POOL_2D:
    case OP_TRAIN_MAX_POOL_2D: {
      const q = changetype<TrainPoolParams>(p);
      const inN = size(q.inH, q.inW, q.channels), outN = size(q.outH, q.outW, q.channels);
      if (!touch(q.gradOut, size(outN, 4)) || !touch(q.gradIn, size(inN, 4))) return STATUS_OUT_OF_ARENA;
      const fwd = changetype<PoolParams>(p);
      if (opcode == OP_TRAIN_AVERAGE_POOL_2D) {
        average_pool_backward_f32(fwd, ARENA + <usize>q.gradOut, ARENA + <usize>q.gradIn);
      } else {
        if (!touch(q.input, inN)) return STATUS_OUT_OF_ARENA;
        max_pool_backward_f32(fwd, ARENA + <usize>q.input, ARENA + <usize>q.gradOut, ARENA + <usize>q.gradIn);
      }
      return STATUS_OK;
    }
    case OP_TRAIN_SAVE_E4M3: {
      const q = changetype<TrainSaveParams>(p);
      if (!touch(q.input, q.count) || !touch(q.output, q.count)) return STATUS_OUT_OF_ARENA;
      e4m3_save_s8(ARENA + <usize>q.input, q.count, q.zeroPoint, ARENA + <usize>q.output);
      return STATUS_OK;
    }
    case OP_TRAIN_ENCODE_E5M2:
    case OP_TRAIN_DECODE_E5M2: {
      const q = changetype<TrainConvertParams>(p);
      const encode = opcode == OP_TRAIN_ENCODE_E5M2;
      if (!touch(q.src, encode ? size(q.count, 4) : errorBytes(q.count)) || !touch(q.dst, encode ? errorBytes(q.count) : size(q.count, 4))) return STATUS_OUT_OF_ARENA;
      if (encode ? overlaps(q.src, q.dst, q.count) : overlaps(q.dst, q.src, q.count)) return STATUS_BAD_RECORD; // one pass reads and writes different widths
      if (encode) e5m2_error_encode(ARENA + <usize>q.src, q.count, ARENA + <usize>q.dst);
      else e5m2_error_decode(ARENA + <usize>q.src, q.count, ARENA + <usize>q.dst);
      return STATUS_OK;
    }
    case OP_TRAIN_MASK_APPLY_E5M2: {
      const q = changetype<TrainMaskApplyParams>(p);
      if (!touch(q.grad, errorBytes(q.count)) || !touch(q.mask, maskBytes(q.count))) return STATUS_OUT_OF_ARENA;
      e5m2_error_mask_apply(ARENA + <usize>q.grad, ARENA + <usize>q.mask, q.count);
      return STATUS_OK;
    }
    case OP_TRAIN_ACCUMULATE_E5M2: {
      const q = changetype<TrainAccumulateParams>(p);
      if (!touch(q.dst, errorBytes(q.count)) || !touch(q.src, errorBytes(q.count))) return STATUS_OUT_OF_ARENA;
      e5m2_error_accumulate(ARENA + <usize>q.dst, ARENA + <usize>q.src, q.count);
      return STATUS_OK;
    }
    case OP_TRAIN_MEAN: {
      const q = changetype<TrainMeanParams>(p);
      const m = q.axisMask;
      const outN = size((m & 1) ? 1 : q.d0, (m & 2) ? 1 : q.d1, (m & 4) ? 1 : q.d2, (m & 8) ? 1 : q.d3);
      if (!touch(q.gradOut, size(outN, 4)) || !touch(q.gradIn, size(size(q.d0, q.d1, q.d2, q.d3), 4))) return STATUS_OUT_OF_ARENA;
      mean_backward_f32(changetype<MeanParams>(p), ARENA + <usize>q.gradOut, ARENA + <usize>q.gradIn);
      return STATUS_OK;
    }
  }
  return STATUS_BAD_RECORD;
}

function maskBytes(count: i32): i32 { return count < 0 ? -1 : (count + 7) >> 3; }
/** Bytes of an E5M2 error buffer of count elements (its shared exponent, then the codes). */
function errorBytes(count: i32): i32 { return count < 0 || count > i32.MAX_VALUE - ERROR_HEADER_BYTES ? -1 : ERROR_HEADER_BYTES + count; }
/** Whether an f32 buffer and an E5M2 error buffer of count elements share bytes (both already in the arena). */
function overlaps(f32At: i32, errorAt: i32, count: i32): bool {
  const a = <i64>f32At, b = <i64>errorAt, n = <i64>count;
  return a < b + n + ERROR_HEADER_BYTES && b < a + (n << 2);
}

function execLoss(q: TrainLossParams): i32 {
  if (!touch(q.logits, q.count) || !touch(q.grad, size(q.count, 4))) return STATUS_OUT_OF_ARENA;
  if (label < 0 || label >= q.count) return STATUS_BAD_LABEL;
  loss = softmax_cross_entropy_f32(ARENA + <usize>q.logits, q.count, reinterpret<f32>(q.scaleBits), q.zeroPoint, label, ARENA + <usize>q.grad);
  return STATUS_OK;
}

// ---- weighted layers ----

/** Where a trained layer's parameters are: its overlay, tile shape and master copies. */
@unmanaged
class Trained {
  outC: i32;
  perChannel: i32;
  tileCh: i32;
  overlay: i32;
  overlayTiles: i32;
  master: i32;
  velocity: i32;
  trainChannels: i32;
  trainBias: i32;
}
// Static data, never the heap: the heap would start where the arena does.
const layer = changetype<Trained>(memory.data(offsetof<Trained>(), 16));

/** Channels in the overlay's whole tiles, and those tiles' bytes (the channel records of later channels follow). */
function tiledChannels(): i32 { return min(layer.outC, layer.overlayTiles * layer.tileCh); }
function tiledBytes(): i32 { return tiledChannels() * (CHANNEL_DATA_BYTES + layer.perChannel); }

/** Arena offset of output channel oc's [bias, multiplier, shift] in the layer's overlay. */
function channelDataAt(oc: i32): i32 {
  const tiled = tiledChannels();
  if (oc >= tiled) return layer.overlay + tiledBytes() + (oc - tiled) * CHANNEL_DATA_BYTES;
  const t = oc / layer.tileCh, j = oc - t * layer.tileCh;
  return layer.overlay + t * layer.tileCh * (CHANNEL_DATA_BYTES + layer.perChannel) + j * CHANNEL_DATA_BYTES;
}

/** Arena offset of output channel oc's weights (oc < trainChannels: inside the overlay's whole tiles). */
function weightsAt(oc: i32): i32 {
  const t = oc / layer.tileCh, j = oc - t * layer.tileCh;
  const n = min(layer.tileCh, layer.outC - t * layer.tileCh);
  return layer.overlay + t * layer.tileCh * (CHANNEL_DATA_BYTES + layer.perChannel) + n * CHANNEL_DATA_BYTES + j * layer.perChannel;
}

/**
 * The master block: trainChannels x perChannel int8 weight residuals (the weights themselves are
 * the overlay's), padded to 4 bytes, then outC f32 biases. Velocities: f32 per weight, then per bias.
 */
function residualBytes(): i32 { return (layer.trainChannels * layer.perChannel + 3) & ~3; }
function masterBiasAt(oc: i32): i32 { return layer.master + residualBytes() + (oc << 2); }
function velocityBiasAt(oc: i32): i32 { return layer.velocity + ((layer.trainChannels * layer.perChannel + oc) << 2); }
function masterBytes(): i32 { return residualBytes() + (layer.trainBias != 0 ? layer.outC << 2 : 0); }
function velocityWords(): i32 { return layer.trainChannels * layer.perChannel + (layer.trainBias != 0 ? layer.outC : 0); }

/** Checks the layer's state buffers once per record, so the per-channel loops need no checks. */
function checkLayer(): bool {
  const l = layer;
  if (l.outC <= 0 || l.perChannel <= 0 || l.tileCh <= 0 || l.trainChannels < 0 || l.trainChannels > l.outC) return false;
  if (l.overlayTiles < 0 || size(l.overlayTiles, l.tileCh) < 0 || l.trainChannels > tiledChannels()) return false;
  if (l.trainChannels == 0 && l.trainBias == 0) return true;
  if (size(tiledChannels(), CHANNEL_DATA_BYTES + l.perChannel) < 0) return false;
  const overlayBytes = tiledBytes() + (l.trainBias != 0 ? (l.outC - tiledChannels()) * CHANNEL_DATA_BYTES : 0);
  if (size(l.trainChannels, l.perChannel) < 0 || size(l.outC, 4) < 0) return false;
  if (!touch(l.overlay, overlayBytes) || !touch(l.master, masterBytes())) return false;
  return l.velocity < 0 || touch(l.velocity, size(velocityWords(), 4));
}

function loadLayer(outC: i32, perChannel: i32, tileCh: i32, overlay: i32, overlayTiles: i32, master: i32, velocity: i32, trainChannels: i32, trainBias: i32): void {
  layer.outC = outC; layer.perChannel = perChannel; layer.tileCh = tileCh;
  layer.overlay = overlay; layer.overlayTiles = overlayTiles; layer.master = master; layer.velocity = velocity;
  layer.trainChannels = trainChannels; layer.trainBias = trainBias;
}

/** Reads the layer's f32 weight scales from the blob into scaleBuf. */
function readScales(wScales: i32, scaleBuf: i32, outC: i32): i32 {
  if (!touch(scaleBuf, size(outC, 4))) return STATUS_OUT_OF_ARENA;
  return tl_read(<u32>wScales, ARENA + <usize>scaleBuf, <u32>(outC << 2)) != 0 ? STATUS_READ_FAILED : STATUS_OK;
}

const KIND_CONV: i32 = 0, KIND_DEPTHWISE: i32 = 1, KIND_FC: i32 = 2;

// How the record's operands decode (hybrid fp8; element.ts): gradOut's E5M2 table and 2^-k, the input's E4M3 table.
let gTable: usize = 0, gScale: f32 = 1, xTable: usize = 0;

/** Accumulates the input's error, one weight tile at a time (weights as they were before this step's update). */
function propagate<E>(kind: i32, p: usize, weights: i32, tileBuf: i32, gradOut: usize, gradIn: usize, scales: usize): i32 {
  const tileBytes = size(layer.tileCh, CHANNEL_DATA_BYTES + layer.perChannel);
  if (tileBytes < 0) return STATUS_BAD_RECORD;
  if (!touch(tileBuf, tileBytes)) return STATUS_OUT_OF_ARENA;
  const buf = ARENA + <usize>tileBuf;
  for (let oc0 = 0, t = 0; oc0 < layer.outC; oc0 += layer.tileCh, t++) {
    const n = min(layer.tileCh, layer.outC - oc0);
    const src = <u64><u32>weights + <u64>t * <u64>tileBytes;
    if (src > <u64>u32.MAX_VALUE) return STATUS_READ_FAILED;
    if (readWeights(<u32>src, buf, <u32>(n * (CHANNEL_DATA_BYTES + layer.perChannel))) != 0) return STATUS_READ_FAILED;
    if (kind == KIND_CONV) conv2d_backward_input<E>(changetype<ConvParams>(p), gradOut, gradIn, buf, oc0, oc0 + n, scales, gTable, gScale);
    else if (kind == KIND_DEPTHWISE) depthwise_conv2d_backward_input<E>(changetype<ConvParams>(p), gradOut, gradIn, buf, oc0, oc0 + n, scales, gTable, gScale);
    else fully_connected_backward_input<E>(changetype<FullyConnectedParams>(p), gradOut, gradIn, buf, oc0, oc0 + n, scales, gTable, gScale);
  }
  return STATUS_OK;
}

/**
 * SGD with quantization-aware scaling, channel by channel, applied at once: the weight step in
 * integer units is lr * s_x / s_w[oc] on the integer-unit gradient sum(g * (x_q - z_x)), the bias
 * step lr / (s_x * s_w[oc]) on sum(g); the updated master is rounded back into the overlay.
 */
function update<E, X>(kind: i32, p: usize, gradOut: usize, positions: i32, input: usize, inputZeroPoint: i32, inputScale: f32, scales: usize, gradBuf: i32, weightLrScale: f32, biasLrScale: f32): i32 {
  if (!touch(gradBuf, size(layer.perChannel, 4))) return STATUS_OUT_OF_ARENA;
  const grad = ARENA + <usize>gradBuf;
  const vel = layer.velocity >= 0 ? ARENA + <usize>layer.velocity : 0;
  for (let oc = 0; oc < layer.outC; oc++) {
    const sw = load<f32>(scales + (<usize>oc << 2));
    let biasGrad: f32 = 0;
    if (oc < layer.trainChannels) {
      if (kind == KIND_CONV) biasGrad = conv2d_weight_grad<E, X>(changetype<ConvParams>(p), gradOut, input, inputZeroPoint, oc, grad, gTable, gScale, xTable);
      else if (kind == KIND_DEPTHWISE) biasGrad = depthwise_conv2d_weight_grad<E, X>(changetype<ConvParams>(p), gradOut, input, inputZeroPoint, oc, grad, gTable, gScale, xTable);
      else biasGrad = fully_connected_weight_grad<E, X>(changetype<FullyConnectedParams>(p), gradOut, input, inputZeroPoint, oc, grad, gTable, gScale, xTable);
      sgd_update_s8_residual(ARENA + <usize>weightsAt(oc), ARENA + <usize>(layer.master + oc * layer.perChannel), grad, layer.perChannel,
        learningRate * weightLrScale * inputScale / sw, vel != 0 ? ARENA + <usize>(layer.velocity + ((oc * layer.perChannel) << 2)) : 0, momentum);
    } else if (layer.trainBias != 0) {
      biasGrad = channelSum<E>(gradOut, positions, oc);
    }
    if (layer.trainBias != 0) {
      store<f32>(grad, biasGrad);
      const at = masterBiasAt(oc);
      sgd_update_f32(ARENA + <usize>at, grad, 1, learningRate * biasLrScale / (inputScale * sw),
        vel != 0 ? ARENA + <usize>velocityBiasAt(oc) : 0, momentum);
      store<i32>(ARENA + <usize>channelDataAt(oc), store_bias_s32(load<f32>(ARENA + <usize>at)));
    }
  }
  return STATUS_OK;
}

/** sum over positions of gradOut[p][oc]: a bias gradient. */
function channelSum<E>(gradOut: usize, positions: i32, oc: i32): f32 {
  let s: f32 = 0;
  for (let i = 0; i < positions; i++) s += errorAt<E>(gradOut, i * layer.outC + oc, gTable, gScale);
  return s;
}

/** Loads the layer a TRAIN_CONV_2D / TRAIN_DEPTHWISE_CONV_2D record names; returns its weight bytes per channel. */
function loadConvLayer(opcode: i32, q: TrainConvParams): i32 {
  const perChannel = opcode == OP_TRAIN_CONV_2D ? size(q.kH, q.kW, q.inC) : size(q.kH, q.kW);
  loadLayer(q.outC, perChannel, q.tileCh, q.overlay, q.overlayTiles, q.master, q.velocity, q.trainChannels, q.trainBias);
  return perChannel;
}

function loadFullyConnectedLayer(q: TrainFullyConnectedParams): void {
  loadLayer(q.outC, q.inC, q.tileCh, q.overlay, q.overlayTiles, q.master, q.velocity, q.trainChannels, q.trainBias);
}

function execTrainConv(opcode: i32, q: TrainConvParams): i32 {
  const kind = opcode == OP_TRAIN_CONV_2D ? KIND_CONV : KIND_DEPTHWISE;
  const inN = size(q.inH, q.inW, q.inC), outN = size(q.outH, q.outW, q.outC);
  if (loadConvLayer(opcode, q) <= 0 || inN < 0 || outN < 0) return STATUS_BAD_RECORD;
  return trainWeighted(kind, changetype<usize>(q), q.weights, q.tileBuf, q.gradOut, q.gradIn, inN, outN, size(q.outH, q.outW),
    q.input, -q.inputOffset, q.inputScaleBits, q.wScales, q.scaleBuf, q.gradBuf, q.weightLrScaleBits, q.biasLrScaleBits, q.fp8);
}

function execTrainFullyConnected(q: TrainFullyConnectedParams): i32 {
  const inN = size(q.batches, q.inC), outN = size(q.batches, q.outC);
  if (q.inC <= 0 || inN < 0 || outN < 0 || q.inChunk != q.inC) return STATUS_BAD_RECORD;
  loadFullyConnectedLayer(q);
  return trainWeighted(KIND_FC, changetype<usize>(q), q.weights, q.tileBuf, q.gradOut, q.gradIn, inN, outN, q.batches,
    q.input, -q.inputOffset, q.inputScaleBits, q.wScales, q.scaleBuf, q.gradBuf, q.weightLrScaleBits, q.biasLrScaleBits, q.fp8);
}

function trainWeighted(kind: i32, p: usize, weights: i32, tileBuf: i32, gradOut: i32, gradIn: i32, inN: i32, outN: i32, positions: i32,
  input: i32, inputZeroPoint: i32, inputScaleBits: i32, wScales: i32, scaleBuf: i32, gradBuf: i32, weightLrScaleBits: i32, biasLrScaleBits: i32, fp8: i32): i32 {
  if (!checkLayer()) return STATUS_OUT_OF_ARENA;
  if (fp8 != 0 && fp8 != 1) return STATUS_BAD_RECORD;
  if (!touch(gradOut, fp8 != 0 ? errorBytes(outN) : size(outN, 4))) return STATUS_OUT_OF_ARENA;
  let g = ARENA + <usize>gradOut;
  gTable = 0; gScale = 1; xTable = 0;
  if (fp8 != 0) {
    gTable = fp8_table(FP8_E5M2); gScale = e5m2_error_scale(g); xTable = fp8_table(FP8_E4M3);
    g = e5m2_codes(g);
  }
  let s = readScales(wScales, scaleBuf, layer.outC);
  if (s != STATUS_OK) return s;
  const scales = ARENA + <usize>scaleBuf;
  if (gradIn >= 0) {
    // gradIn is f32 either way: the per-layer accumulator (hybrid fp8 encodes it afterwards)
    if (!touch(gradIn, size(inN, 4))) return STATUS_OUT_OF_ARENA;
    s = fp8 != 0 ? propagate<u8>(kind, p, weights, tileBuf, g, ARENA + <usize>gradIn, scales)
      : propagate<f32>(kind, p, weights, tileBuf, g, ARENA + <usize>gradIn, scales);
    if (s != STATUS_OK) return s;
  }
  if (layer.trainChannels == 0 && layer.trainBias == 0) return STATUS_OK;
  if (layer.trainChannels > 0 && !touch(input, inN)) return STATUS_OUT_OF_ARENA; // int8 or E4M3: a byte each
  const x = ARENA + <usize>input, sx = reinterpret<f32>(inputScaleBits);
  const wLr = reinterpret<f32>(weightLrScaleBits), bLr = reinterpret<f32>(biasLrScaleBits);
  return fp8 != 0 ? update<u8, u8>(kind, p, g, positions, x, inputZeroPoint, sx, scales, gradBuf, wLr, bLr)
    : update<f32, i8>(kind, p, g, positions, x, inputZeroPoint, sx, scales, gradBuf, wLr, bLr);
}

// ---- the training state ----

/** Fills the masters (and zeroes the velocities) of the layer a TRAIN_* weighted record names, from its overlay. */
export function initLayerState(): i32 {
  const opcode = load<i32>(RECORD);
  const p = RECORD + RECORD_PARAMS;
  if (opcode == OP_TRAIN_CONV_2D || opcode == OP_TRAIN_DEPTHWISE_CONV_2D) {
    loadConvLayer(opcode, changetype<TrainConvParams>(p));
  } else if (opcode == OP_TRAIN_FULLY_CONNECTED) {
    loadFullyConnectedLayer(changetype<TrainFullyConnectedParams>(p));
  } else {
    return STATUS_OK;
  }
  if (!checkLayer()) return STATUS_OUT_OF_ARENA;
  const l = layer;
  memory.fill(ARENA + <usize>l.master, 0, <usize>residualBytes()); // weights start exactly at their int8 values
  if (l.trainBias != 0) {
    for (let oc = 0; oc < l.outC; oc++) {
      store<f32>(ARENA + <usize>masterBiasAt(oc), <f32>load<i32>(ARENA + <usize>channelDataAt(oc)));
    }
  }
  if (l.velocity >= 0) memory.fill(ARENA + <usize>l.velocity, 0, <usize>velocityWords() << 2);
  return STATUS_OK;
}
