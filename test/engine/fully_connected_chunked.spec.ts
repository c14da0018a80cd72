// The chunked fully connected path (one channel, weights in pieces) gives exactly what the
// whole-channel kernel gives, for every chunk size and with a non-zero filter offset.
import { FullyConnectedParams } from "../../assembly/format";
import { fully_connected_s8, fully_connected_accumulate_s8, fully_connected_finish_s8 } from "../../assembly/kernels/int8/fully_connected";
import { seedRandom, randInt, TEST_ARENA, useTestArena, staticParams } from "./support";

const IN_C = 37, OUT_C = 5, BATCHES = 2;
const INPUT = 0, OUT_WHOLE = 256, OUT_CHUNKED = 512, TILE = 1024, CHAN = 4096, ACC = 4160, W = 4200;

function setup(p: FullyConnectedParams, filterOffset: i32): void {
  p.input = INPUT; p.batches = BATCHES; p.inC = IN_C; p.outC = OUT_C;
  p.inputOffset = 7; p.filterOffset = filterOffset; p.outputOffset = -3; p.actMin = -128; p.actMax = 127;
  for (let i = 0; i < BATCHES * IN_C; i++) store<i8>(TEST_ARENA + <usize>(INPUT + i), <i8>randInt(-128, 127));
  // Whole-layer tile: channel data for every channel, then every channel's weights.
  for (let c = 0; c < OUT_C; c++) {
    const ch = TEST_ARENA + <usize>(TILE + 12 * c);
    store<i32>(ch, randInt(-2000, 2000));
    store<i32>(ch, 1073741824 + randInt(0, 1000000), 4);
    store<i32>(ch, -randInt(5, 9), 8);
    for (let i = 0; i < IN_C; i++) store<i8>(TEST_ARENA + <usize>(TILE + 12 * OUT_C + c * IN_C + i), <i8>randInt(-127, 127));
  }
}

function runChunked(p: FullyConnectedParams, chunk: i32): void {
  p.output = OUT_CHUNKED;
  for (let c = 0; c < OUT_C; c++) {
    memory.copy(TEST_ARENA + CHAN, TEST_ARENA + <usize>(TILE + 12 * c), 12);
    memory.fill(TEST_ARENA + ACC, 0, BATCHES * 4);
    for (let k0 = 0; k0 < IN_C; k0 += chunk) {
      const n = min(chunk, IN_C - k0);
      memory.copy(TEST_ARENA + W, TEST_ARENA + <usize>(TILE + 12 * OUT_C + c * IN_C + k0), n);
      expect<i32>(fully_connected_accumulate_s8(p, TEST_ARENA + ACC, TEST_ARENA + W, k0, n)).toBe(0);
    }
    expect<i32>(fully_connected_finish_s8(p, TEST_ARENA + CHAN, TEST_ARENA + ACC, c)).toBe(0);
  }
}

describe("fully connected, chunked", () => {
  it("matches the whole-channel kernel for every chunk size and filter offset", () => {
    useTestArena();
    seedRandom(4242);
    const p = staticParams<FullyConnectedParams>();
    for (let f = -1; f <= 1; f++) {
      setup(p, f * 3);
      p.output = OUT_WHOLE;
      expect<i32>(fully_connected_s8(p, TEST_ARENA + TILE, 0, OUT_C)).toBe(0);
      for (let chunk = 1; chunk <= IN_C; chunk++) {
        runChunked(p, chunk);
        for (let i = 0; i < BATCHES * OUT_C; i++) {
          expect<i8>(load<i8>(TEST_ARENA + <usize>(OUT_CHUNKED + i))).toBe(load<i8>(TEST_ARENA + <usize>(OUT_WHOLE + i)));
        }
      }
    }
  });
  it("rejects a chunk that runs past the input row or a channel out of range", () => {
    useTestArena();
    const p = staticParams<FullyConnectedParams>();
    setup(p, 0);
    expect<i32>(fully_connected_accumulate_s8(p, TEST_ARENA + ACC, TEST_ARENA + W, IN_C - 2, 3)).not.toBe(0);
    expect<i32>(fully_connected_accumulate_s8(p, TEST_ARENA + ACC, TEST_ARENA + W, -1, 2)).not.toBe(0);
    expect<i32>(fully_connected_finish_s8(p, TEST_ARENA + CHAN, TEST_ARENA + ACC, OUT_C)).not.toBe(0);
  });
});
