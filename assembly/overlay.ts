// Parameter overlays: while training, the parameters being trained live in the
// arena (the persistent training state) instead of the blob. Every weight read goes
// through readWeights, which serves a blob range from its arena copy where one exists,
// so forward and backward passes always see the current parameters.
//
// The overlay table (TRAIN_OVERLAY_WORDS words per entry: blobOffset, bytes, arenaOffset)
// sits at arena offset 0, at the start of the training state.
import { TRAIN_OVERLAY_WORDS } from "./format";
import { ARENA } from "./arena";
import { tl_read } from "./io";

let overlayCount: u32 = 0;
/** End of the training state: every overlay must lie inside [table end, stateBytes). */
let stateBytes: u32 = 0;

const ENTRY_BYTES: u32 = <u32>TRAIN_OVERLAY_WORDS * 4;

/** Turns overlays on (after tl_train_init filled the arena copies) or off (count 0). */
export function setOverlays(count: u32, state: u32): void {
  overlayCount = count;
  stateBytes = state;
}

/** The table's end: where the first overlay may start. */
export function overlayTableBytes(count: u32): u32 { return count * ENTRY_BYTES; }

/** Entry i of the table, checked against the training state; false if it is corrupt. */
function entryOk(blob: u32, bytes: u32, arena: u32): bool {
  const tableEnd = <u64>overlayCount * <u64>ENTRY_BYTES;
  return <u64>arena >= tableEnd && <u64>arena + <u64>bytes <= <u64>stateBytes && <u64>blob + <u64>bytes <= <u64>u32.MAX_VALUE;
}

/** Copies blob bytes [src, src+len) to dst, taking overlaid parts from their arena copies. Non-zero = refused. */
export function readWeights(src: u32, dst: usize, len: u32): i32 {
  if (overlayCount == 0) return tl_read(src, dst, len);
  const end = <u64>src + <u64>len;
  // A read inside one overlay (the common case for a trained layer's tile) never touches the blob.
  for (let i: u32 = 0; i < overlayCount; i++) {
    const e = ARENA + <usize>(i * ENTRY_BYTES);
    const blob = load<u32>(e), bytes = load<u32>(e, 4), arena = load<u32>(e, 8);
    if (!entryOk(blob, bytes, arena)) return 1;
    if (<u64>src >= <u64>blob && end <= <u64>blob + <u64>bytes) {
      memory.copy(dst, ARENA + <usize>arena + <usize>(src - blob), <usize>len);
      return 0;
    }
  }
  if (tl_read(src, dst, len) != 0) return 1;
  for (let i: u32 = 0; i < overlayCount; i++) {
    const e = ARENA + <usize>(i * ENTRY_BYTES);
    const blob = load<u32>(e), bytes = load<u32>(e, 4), arena = load<u32>(e, 8);
    const lo = max<u64>(<u64>src, <u64>blob), hi = min<u64>(end, <u64>blob + <u64>bytes);
    if (lo < hi) memory.copy(dst + <usize>(lo - <u64>src), ARENA + <usize>arena + <usize>(lo - <u64>blob), <usize>(hi - lo));
  }
  return 0;
}
