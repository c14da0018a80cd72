// `tinyloop stream MODEL --board B --source FILE|DIR|-`: sensor samples (CSV rows, WAV
// frames, images, raw tensors, or CSV on stdin) go to the board one by one; each
// prediction is printed with its latency, with a live status line on stderr.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import cliProgress from "cli-progress";
import type { Compiled } from "../compile.ts";
import type { TensorMeta } from "../format/tlm.ts";
import { NodeEngine } from "../runners/node-engine.ts";
import { withBoard, invokeOnBoard } from "../runners/board-runner.ts";
import { samples, type SampleOptions } from "../stream/sources.ts";
import { topClass } from "../stream/tensor.ts";
import { UsageError } from "./errors.ts";
import type { OpenOptions } from "../board/session.ts";

export interface StreamOptions extends SampleOptions {
  labels?: string;
  json?: boolean;
}

export interface Prediction {
  origin: string;
  label: string;
  class: number;
  className: string;
  score: number; // the winning output, dequantized
  latencyMs: number;
  instructions?: number;
}

function readLabels(file?: string): string[] {
  if (!file) return [];
  try {
    return readFileSync(file, "utf8").split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  } catch (e) {
    throw new UsageError(`cannot read labels ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A runner that invokes once per sample: the host engine or an open board. */
type Invoke = (input: Uint8Array) => Promise<{ output: Uint8Array; ms: number; instructions?: number }>;

export async function stream(c: Compiled, board: string, source: string, opts: StreamOptions, open: OpenOptions = {}): Promise<Prediction[]> {
  if (c.meta.inputs.length !== 1) throw new UsageError(`stream feeds models with one input; this one has ${c.meta.inputs.length}`);
  const input = c.meta.tensors.find((t) => t.index === c.meta.inputs[0])!;
  const output = c.meta.tensors.find((t) => t.index === c.meta.outputs[0])!;
  const names = readLabels(opts.labels);
  const run = async (invoke: Invoke) => {
    const status = new cliProgress.SingleBar({
      format: "{value} samples · {rate}/s · last {last}", stream: process.stderr, clearOnComplete: true, hideCursor: false,
    }, cliProgress.Presets.shades_classic);
    status.start(0, 0, { rate: "-", last: "-" });
    const predictions: Prediction[] = [];
    const t0 = performance.now();
    try {
      for await (const s of samples(source, input, { ...opts, onWarning: (w) => process.stderr.write(`tinyloop: warning: ${w}\n`) })) {
        const r = await invoke(s.bytes);
        const top = topClass(r.output, output);
        const p: Prediction = {
          origin: s.origin, label: s.label, class: top.index, className: names[top.index] ?? String(top.index),
          score: top.score, latencyMs: r.ms, instructions: r.instructions,
        };
        predictions.push(p);
        if (opts.json) console.log(JSON.stringify(p));
        else {
          const cost = p.instructions !== undefined ? `, ${p.instructions.toLocaleString("en-US")} instructions` : "";
          console.log(`${p.origin}${p.label !== p.origin ? ` [${p.label}]` : ""} -> ${p.className} (${p.score.toFixed(3)}) in ${p.latencyMs.toFixed(2)} ms${cost}`);
        }
        const seconds = (performance.now() - t0) / 1000;
        status.setTotal(predictions.length);
        status.update(predictions.length, { rate: (predictions.length / seconds).toFixed(1), last: p.className });
      }
    } finally {
      status.stop();
    }
    return predictions;
  };

  if (board === "host") {
    const engine = NodeEngine.load(c.blob);
    return run(async (bytes) => {
      const t = performance.now();
      engine.setInput(bytes);
      engine.invoke();
      return { output: engine.output(0), ms: performance.now() - t };
    });
  }
  return withBoard(board, open, async (s) => {
    const loaded = await s.loadModel(c.blob);
    const info = await s.info();
    return run(async (bytes) => {
      const r = await invokeOnBoard(s, [bytes], loaded.numOutputs);
      const cycles = r.instructions ?? r.cycles * (info.clockHz / info.timerHz);
      return { output: r.outputs[0], ms: (cycles / info.clockHz) * 1000, instructions: r.instructions };
    });
  });
}
