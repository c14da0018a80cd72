// Runs a compiled model on a board (virtual or real) through the serial protocol:
// the same contract as the Node runner, so results can be compared byte for byte.
import type { Compiled } from "../compile.ts";
import { openBoard, type BoardSession, type OpenOptions } from "../board/session.ts";

/** Opens a board, runs `fn`, and always closes it (stopping QEMU or the native process). */
export async function withBoard<T>(board: string, opts: OpenOptions, fn: (s: BoardSession) => Promise<T>): Promise<T> {
  const session = await openBoard(board, opts);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

export interface BoardRun {
  outputs: Uint8Array[];
  /** Board timer ticks for the inference (see InvokeResult). */
  cycles: number;
  instructions?: number;
}

/** Sets the inputs of an already loaded model, invokes once and reads `numOutputs` outputs. */
export async function invokeOnBoard(s: BoardSession, inputs: Uint8Array[], numOutputs: number): Promise<BoardRun> {
  for (let i = 0; i < inputs.length; i++) await s.setInput(inputs[i], i);
  const r = await s.invoke();
  const outputs: Uint8Array[] = [];
  for (let i = 0; i < numOutputs; i++) outputs.push(await s.getOutput(i));
  return { outputs, cycles: r.cycles, instructions: r.instructions };
}

export async function runOnBoard(s: BoardSession, c: Compiled, inputs: Uint8Array[]): Promise<BoardRun> {
  const loaded = await s.loadModel(c.blob);
  return invokeOnBoard(s, inputs, loaded.numOutputs);
}
