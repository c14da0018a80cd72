// `tinyloop bench MODEL --board B [--json]`: latency and memory of one model on one board.
import { performance } from "node:perf_hooks";
import type { Compiled } from "../compile.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { withBoard, runOnBoard, invokeOnBoard } from "../runners/board-runner.ts";
import { xorshiftBytes } from "../util/xorshift.ts";

export interface BenchResult {
  model: string;
  board: string;
  runs: number;
  /** Core clock cycles per inference (QEMU: instructions, one per cycle); null on the host. */
  cycles: number | null;
  /** Instructions per inference, exact on QEMU boards run with -icount. */
  instructions: number | null;
  /** Milliseconds per inference at the board's clock (host: wall-clock median). */
  ms: number;
  plannedArenaBytes: number;
  /** Arena high-water mark measured by the engine on the device. */
  peakArenaBytes: number;
  /** Engine static data below the arena in linear memory. */
  engineStaticBytes: number;
  /** C stack high-water mark measured on the device (painted stack). */
  stackBytes: number;
  /** Firmware .data + .bss from the ELF. */
  staticRamBytes: number;
  /** SRAM the inference needs: static + engine static + arena high-water + stack. */
  sramBytes: number;
  /** Firmware image without the model. */
  flashBytes: number;
  /** The .tlm model blob, stored in flash beside the firmware. */
  modelFlashBytes: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchOnBoard(c: Compiled, board: string, runs: number): Promise<BenchResult> {
  const host = NodeEngine.load(c.blob);
  const input = c.meta.inputs.map((t) => xorshiftBytes(1, c.meta.tensors.find((x) => x.index === t)!.bytes));
  const base = {
    model: c.meta.source.file, board, runs, plannedArenaBytes: c.meta.plan.arenaBytes,
    engineStaticBytes: host.arenaPtr, modelFlashBytes: c.blob.length,
  };
  if (board === "host") {
    input.forEach((d, i) => host.setInput(d, i));
    host.invoke();
    const times: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t0 = performance.now();
      host.invoke();
      times.push(performance.now() - t0);
    }
    return { ...base, cycles: null, instructions: null, ms: median(times), peakArenaBytes: host.peakBytes,
      stackBytes: 0, staticRamBytes: 0, sramBytes: host.arenaPtr + host.peakBytes, flashBytes: 0 };
  }
  return withBoard(board, {}, async (s) => {
    const first = await runOnBoard(s, c, input);
    const ticks = [first.cycles], instr = [first.instructions];
    for (let k = 1; k < runs; k++) {
      const r = await invokeOnBoard(s, input, first.outputs.length);
      ticks.push(r.cycles);
      instr.push(r.instructions);
    }
    const stats = await s.stats();
    const info = await s.info();
    const fw = s.firmware;
    const instructions = instr[0] === undefined ? null : median(instr as number[]);
    const cycles = instructions ?? Math.round(median(ticks) * (info.clockHz / info.timerHz));
    const staticRamBytes = fw?.staticRamBytes ?? 0;
    return {
      ...base, cycles, instructions, ms: (cycles / info.clockHz) * 1000, peakArenaBytes: stats.peakBytes,
      stackBytes: stats.stackUsed, staticRamBytes,
      sramBytes: staticRamBytes + host.arenaPtr + stats.peakBytes + stats.stackUsed, flashBytes: fw?.flashBytes ?? 0,
    };
  });
}

export function printBench(r: BenchResult): void {
  const n = (x: number) => x.toLocaleString("en-US");
  console.log(`${r.model} on ${r.board} (${r.runs} runs)`);
  if (r.instructions !== null) console.log(`  instructions     ${n(r.instructions)} per inference (exact, QEMU -icount)`);
  if (r.cycles !== null) console.log(`  latency          ${n(r.cycles)} cycles = ${r.ms.toFixed(2)} ms at the board's clock`);
  else console.log(`  latency          ${r.ms.toFixed(3)} ms (median, Node)`);
  console.log(`  arena            ${n(r.peakArenaBytes)} B measured high-water (${n(r.plannedArenaBytes)} B planned)`);
  if (r.board !== "host") {
    console.log(`  SRAM             ${n(r.sramBytes)} B = static ${n(r.staticRamBytes)} + engine data ${n(r.engineStaticBytes)} + arena ${n(r.peakArenaBytes)} + stack ${n(r.stackBytes)}`);
    console.log(`  flash            ${n(r.flashBytes)} B firmware + ${n(r.modelFlashBytes)} B model`);
  }
}
