// int8 pooling, NHWC, batch 1. Bit-exact with TensorFlow Lite (Micro)'s
// reference_integer_ops::AveragePool and reference_integer_ops::MaxPool
// (tensorflow/lite/kernels/internal/reference/integer_ops/pooling.h).
import { PoolParams, STATUS_OK, STATUS_KERNEL } from "../../format";
import { ARENA } from "../../arena";

/** Average pool: sum of the valid taps, divided by their count rounding half away from zero. */
export function average_pool_s8(p: PoolParams): i32 {
  return pool_s8(p, false);
}

/** Max pool: maximum over the valid taps (starting from -128), then the activation clamp. */
export function max_pool_s8(p: PoolParams): i32 {
  return pool_s8(p, true);
}

/**
 * Both poolings: walks every output pixel's window, clipped to the input, and reduces
 * each channel over it. @inline with a literal `isMax`, so each caller compiles to its
 * own loop nest with the other reduction folded away.
 */
// @ts-ignore: decorator
@inline
function pool_s8(p: PoolParams, isMax: bool): i32 {
  const input = ARENA + <usize>p.input;
  const output = ARENA + <usize>p.output;
  const inH = p.inH, inW = p.inW, depth = p.channels;
  const outH = p.outH, outW = p.outW;
  const kH = p.kH, kW = p.kW;
  const strideH = p.strideH, strideW = p.strideW;
  const padH = p.padH, padW = p.padW;
  const actMin = p.actMin, actMax = p.actMax;
  const rowStride = inW * depth;
  let o = output;
  for (let outY = 0; outY < outH; outY++) {
    const inY0 = outY * strideH - padH;
    const fy0 = max(0, -inY0);
    const fy1 = min(kH, inH - inY0);
    for (let outX = 0; outX < outW; outX++) {
      const inX0 = outX * strideW - padW;
      const fx0 = max(0, -inX0);
      const fx1 = min(kW, inW - inX0);
      // a negative nx or ny (window entirely outside the input) skips the tap loops
      const nx = fx1 - fx0, ny = fy1 - fy0;
      // address of tap (fy0, fx0), channel 0
      const first = input + <usize>(((inY0 + fy0) * inW + inX0 + fx0) * depth);
      if (isMax) {
        for (let c = 0; c < depth; c++) {
          const m = windowMax(first + <usize>c, nx, ny, depth, rowStride);
          store<i8>(o, <i8>(m < actMin ? actMin : (m > actMax ? actMax : m)));
          o++;
        }
      } else {
        const count = fy1 > fy0 && fx1 > fx0 ? ny * nx : 0;
        if (count == 0) return STATUS_KERNEL; // as TFLite: no average over zero taps
        const half = count / 2;
        for (let c = 0; c < depth; c++) {
          let acc = windowSum(first + <usize>c, nx, ny, depth, rowStride);
          // C++ integer division truncates toward zero, as does i32.div_s.
          acc = acc > 0 ? (acc + half) / count : (acc - half) / count;
          store<i8>(o, <i8>(acc < actMin ? actMin : (acc > actMax ? actMax : acc)));
          o++;
        }
      }
    }
  }
  return STATUS_OK;
}

/** Sum of the int8 taps of one channel over an nx by ny window starting at `first`. */
// @ts-ignore: decorator
@inline
function windowSum(first: usize, nx: i32, ny: i32, depth: i32, rowStride: i32): i32 {
  let acc: i32 = 0;
  let row = first;
  for (let y = 0; y < ny; y++) {
    let q = row;
    for (let x = 0; x < nx; x++) {
      acc += <i32>load<i8>(q);
      q += <usize>depth;
    }
    row += <usize>rowStride;
  }
  return acc;
}

/** Maximum of -128 and the int8 taps of one channel over an nx by ny window starting at `first`. */
// @ts-ignore: decorator
@inline
function windowMax(first: usize, nx: i32, ny: i32, depth: i32, rowStride: i32): i32 {
  let m: i32 = -128;
  let row = first;
  for (let y = 0; y < ny; y++) {
    let q = row;
    for (let x = 0; x < nx; x++) {
      const v = <i32>load<i8>(q);
      if (v > m) m = v;
      q += <usize>depth;
    }
    row += <usize>rowStride;
  }
  return m;
}
