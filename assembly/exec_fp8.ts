// The fp8-weight ops of a .tlm (CONV_2D_FP8, DEPTHWISE_CONV_2D_FP8, FULLY_CONNECTED_FP8):
// turns an Fp8Params record (arena offsets, f32 bit patterns) into the kernels'
// Fp8ConvParams (absolute pointers, f32 fields), and points it at each weight tile
// as exec.ts streams the tiles in. Tile layout: host/format/spec.ts.
import {
  Fp8Params, FP8_BIAS_BYTES, FP8_SCALE_BYTES, STATUS_OK, STATUS_BAD_RECORD, STATUS_KERNEL,
  OP_CONV_2D_FP8, OP_DEPTHWISE_CONV_2D_FP8, OP_FULLY_CONNECTED_FP8,
} from "./format";
import { ARENA } from "./arena";
import { Fp8ConvParams, FP8_CONV_PARAMS_BYTES } from "./kernels/fp8/params";
import { conv2d_fp8 } from "./kernels/fp8/conv2d";
import { depthwise_conv2d_fp8 } from "./kernels/fp8/depthwise_conv2d";
import { fully_connected_fp8, fully_connected_fp8_accumulate, fully_connected_fp8_finish } from "./kernels/fp8/fully_connected";

/** The kernels' params for the op being run. */
const KP = changetype<Fp8ConvParams>(memory.data(FP8_CONV_PARAMS_BYTES, 16));
/** The one weight scale of a per-tensor-scaled op (the kernels read scales through a pointer). */
const TENSOR_SCALE: usize = memory.data(4, 4);

export function isFp8Op(opcode: i32): bool {
  return opcode == OP_CONV_2D_FP8 || opcode == OP_DEPTHWISE_CONV_2D_FP8 || opcode == OP_FULLY_CONNECTED_FP8;
}

/** Channel data bytes ahead of each tile's weights, or -1 for a bad perChannelScale. */
export function fp8ChannelBytes(q: Fp8Params): i32 {
  if (q.perChannelScale == 0) return FP8_BIAS_BYTES;
  return q.perChannelScale == 1 ? FP8_BIAS_BYTES + FP8_SCALE_BYTES : -1;
}

/** Fills KP from the record (the caller has checked input and output against the arena). */
export function fp8Setup(q: Fp8Params): i32 {
  if (fp8ChannelBytes(q) < 0) return STATUS_BAD_RECORD;
  KP.input = ARENA + <usize>q.input;
  KP.inH = q.inH; KP.inW = q.inW; KP.inC = q.inC;
  KP.output = ARENA + <usize>q.output;
  KP.outH = q.outH; KP.outW = q.outW; KP.outC = q.outC;
  KP.kH = q.kH; KP.kW = q.kW;
  KP.strideH = q.strideH; KP.strideW = q.strideW;
  KP.dilH = q.dilH; KP.dilW = q.dilW;
  KP.padH = q.padH; KP.padW = q.padW;
  KP.depthMultiplier = q.depthMultiplier;
  KP.batches = q.batches;
  KP.inType = q.inType; KP.outType = q.outType;
  KP.inScale = reinterpret<f32>(q.inScaleBits); KP.inZeroPoint = q.inZeroPoint;
  KP.outScale = reinterpret<f32>(q.outScaleBits); KP.outZeroPoint = q.outZeroPoint;
  KP.actMin = q.actMin; KP.actMax = q.actMax;
  KP.actMinF = reinterpret<f32>(q.actMinBits); KP.actMaxF = reinterpret<f32>(q.actMaxBits);
  KP.weightFormat = q.weightFormat;
  KP.perChannelScale = q.perChannelScale;
  store<i32>(TENSOR_SCALE, q.weightScaleBits);
  return STATUS_OK;
}

/** Points KP at the channel data and weights of an n-channel tile at `buf`. */
function pointAtTile(buf: usize, n: i32): void {
  const perChannelScale = KP.perChannelScale != 0;
  KP.bias = buf;
  KP.weightScales = perChannelScale ? buf + <usize>(n * FP8_BIAS_BYTES) : TENSOR_SCALE;
  KP.weights = buf + <usize>(n * (FP8_BIAS_BYTES + (perChannelScale ? FP8_SCALE_BYTES : 0)));
}

/** Runs output channels [oc0, oc0 + n) from the tile at `buf` (layout in spec.ts). */
export function fp8Tile(opcode: i32, buf: usize, oc0: i32, n: i32): i32 {
  pointAtTile(buf, n);
  if (opcode == OP_CONV_2D_FP8) return conv2d_fp8(KP, oc0, oc0 + n);
  if (opcode == OP_DEPTHWISE_CONV_2D_FP8) return depthwise_conv2d_fp8(KP, oc0, oc0 + n);
  if (opcode == OP_FULLY_CONNECTED_FP8) return fully_connected_fp8(KP, oc0, oc0 + n);
  return STATUS_KERNEL;
}

/** Chunked fully connected: adds weights [k0, k0 + n) of one channel (at `w`) to the f32 accumulators. */
export function fp8Accumulate(acc: usize, w: usize, k0: i32, n: i32): i32 {
  KP.weights = w;
  return fully_connected_fp8_accumulate(KP, acc, w, k0, n);
}

/** Chunked fully connected: writes output channel oc from the accumulators and its channel data at `channel`. */
export function fp8Finish(channel: usize, acc: usize, oc: i32): i32 {
  pointAtTile(channel, 1);
  return fully_connected_fp8_finish(KP, acc, oc);
}
