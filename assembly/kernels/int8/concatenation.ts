// int8 CONCATENATION with identical input/output quantization. Matches TensorFlow Lite
// (Micro)'s reference_ops::Concatenation (reference/concatenation.h): for each outer row,
// the inputs' inner blocks are copied one after another.
import { ConcatParams, STATUS_OK, STATUS_KERNEL } from "../../format";
import { ARENA } from "../../arena";

/** `pairs` points at `count` (input arena offset i32, inner bytes i32) pairs. */
export function concatenation_s8(p: ConcatParams, pairs: usize): i32 {
  const output = ARENA + <usize>p.output;
  const outer = p.outer, outInner = p.outInner, count = p.count;
  if (outer < 0 || outInner < 0 || count < 0) return STATUS_KERNEL;
  let sum: i32 = 0;
  for (let k = 0; k < count; k++) {
    const inner = load<i32>(pairs + (<usize>k << 3), 4);
    if (inner < 0) return STATUS_KERNEL;
    sum += inner;
  }
  if (sum != outInner) return STATUS_KERNEL;
  // Row-major, inputs in order within each row, as the reference does.
  let dst = output;
  for (let r = 0; r < outer; r++) {
    for (let k = 0; k < count; k++) {
      const pair = pairs + (<usize>k << 3);
      const inner = <usize>load<i32>(pair, 4);
      memory.copy(dst, ARENA + <usize>load<i32>(pair) + <usize>r * inner, inner);
      dst += inner;
    }
  }
  return STATUS_OK;
}
