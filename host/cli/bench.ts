// `tinyloop bench MODEL --board B [--json]`: latency and memory of one model on one board.
import { performance } from "node:perf_hooks";
import type { Compiled } from "../compile.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { withBoard, runOnBoard, invokeOnBoard } from "../runners/board-runner.ts";
import { xorshiftBytes } from "../util/xorshift.ts";
import type { OpenOptions } from "../board/session.ts";

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
  /** With --per-op: each op's cost (instructions on -icount boards, else cycles; host: ms). */
  perOp?: OpCost[];
}

export interface OpCost { op: number; kind: string; macs: number; cost: number; perMac: number | null }

function opCosts(c: Compiled, costs: number[]): OpCost[] {
  return costs.map((cost, i) => ({
    op: i, kind: c.meta.ops[i].kind, macs: c.meta.ops[i].macs, cost,
    perMac: c.meta.ops[i].macs ? cost / c.meta.ops[i].macs : null,
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchOnBoard(c: Compiled, board: string, runs: number, perOp = false, open: OpenOptions = {}): Promise<BenchResult> {
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
      input.forEach((d, i) => host.setInput(d, i)); // the plan may reuse the input's bytes
      const t0 = performance.now();
      host.invoke();
      times.push(performance.now() - t0);
    }
    let costs: OpCost[] | undefined;
    if (perOp) {
      input.forEach((d, i) => host.setInput(d, i));
      const ms: number[] = [];
      let t = performance.now();
      host.invokeStepwise(() => { const now = performance.now(); ms.push(now - t); t = now; });
      costs = opCosts(c, ms);
    }
    return { ...base, cycles: null, instructions: null, ms: median(times), peakArenaBytes: host.peakBytes,
      stackBytes: 0, staticRamBytes: 0, sramBytes: host.arenaPtr + host.peakBytes, flashBytes: 0, perOp: costs };
  }
  return withBoard(board, open, async (s) => {
    const first = await runOnBoard(s, c, input);
    const ticks = [first.cycles], instr = [first.instructions];
    for (let k = 1; k < runs; k++) {
      const r = await invokeOnBoard(s, input, first.outputs.length);
      ticks.push(r.cycles);
      instr.push(r.instructions);
    }
    const stats = await s.stats();
    const info = await s.info();
    let costs: OpCost[] | undefined;
    if (perOp) {
      for (let i = 0; i < input.length; i++) await s.setInput(input[i], i);
      const { cyclesPerOp } = await s.invokeStepwise(async () => {});
      // On -icount boards the timer runs in virtual time: ticks convert exactly to instructions.
      const toCost = s.board.timing.kind === "systick-icount"
        ? (t: number) => Math.round((t * 1e9) / info.timerHz / 2 ** (s.board.timing.icountShift ?? 0))
        : (t: number) => Math.round(t * (info.clockHz / info.timerHz));
      costs = opCosts(c, cyclesPerOp.map(toCost));
    }
    const fw = s.firmware;
    const instructions = instr[0] === undefined ? null : median(instr as number[]);
    const cycles = instructions ?? Math.round(median(ticks) * (info.clockHz / info.timerHz));
    const staticRamBytes = fw?.staticRamBytes ?? 0;
    return {
      ...base, cycles, instructions, ms: (cycles / info.clockHz) * 1000, peakArenaBytes: stats.peakBytes,
      stackBytes: stats.stackUsed, staticRamBytes,
      sramBytes: staticRamBytes + host.arenaPtr + stats.peakBytes + stats.stackUsed, flashBytes: fw?.flashBytes ?? 0,
      perOp: costs,
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
  if (r.perOp) {
    const unit = r.board === "host" ? "ms" : r.instructions !== null ? "instructions" : "cycles";
    const total = r.perOp.reduce((a, o) => a + o.cost, 0);
    console.log(`\n  #   op                 MACs          ${unit.padStart(12)}  per MAC   share`);
    for (const o of r.perOp) {
      const cost = unit === "ms" ? o.cost.toFixed(3) : n(o.cost);
      console.log(`  ${String(o.op).padEnd(3)} ${o.kind.padEnd(18)} ${n(o.macs).padStart(11)}  ${cost.padStart(12)}  ${o.perMac === null ? "-".padStart(7) : (unit === "ms" ? (o.perMac * 1e6).toFixed(2) + "ns" : o.perMac.toFixed(2)).padStart(7)}  ${((o.cost / total) * 100).toFixed(1).padStart(5)}%`);
    }
  }
}
