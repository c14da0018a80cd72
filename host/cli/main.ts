// The tinyloop command line. One file per command; this file only wires them.
import { writeFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { loadModel } from "../compile.ts";
import { exitWithError, UsageError } from "./errors.ts";
import { printInspect, inspectReport } from "./inspect.ts";
import { readInputs, runOnHost, writeOutputs } from "./run.ts";

const collect = (v: string, prev: string[] = []) => [...prev, v];

const program = new Command()
  .name("tinyloop")
  .description("Run and train int8 neural networks on microcontrollers: one engine.wasm, many runners.")
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(`tinyloop: ${s.replace(/^error: /, "error: ")}`) });

program
  .command("inspect")
  .description("show ops, shapes, MACs, weights and the planned arena of a .tflite or .tlm model")
  .argument("<model>", ".tflite or .tlm file")
  .option("--json", "print one JSON object instead of a table")
  .action((model: string, opts: { json?: boolean }) => {
    const c = loadModel(model);
    if (opts.json) console.log(JSON.stringify(inspectReport(c), null, 1));
    else printInspect(c);
  });

program
  .command("compile")
  .description("compile a .tflite model to tinyloop's .tlm format")
  .argument("<model>", ".tflite file")
  .requiredOption("-o, --output <file>", ".tlm file to write")
  .action((model: string, opts: { output: string }) => {
    const c = loadModel(model);
    writeFileSync(opts.output, c.blob);
    console.log(`wrote ${opts.output}: ${c.blob.length} bytes, arena ${c.meta.plan.arenaBytes} B, ${c.meta.ops.length} ops`);
  });

program
  .command("run")
  .description("run a model once on raw input bytes and write the raw output bytes")
  .argument("<model>", ".tflite or .tlm file")
  .requiredOption("--input <file>", "raw bytes of an input tensor (repeat for several inputs)", collect)
  .requiredOption("--output <file>", "where to write the raw bytes of an output tensor (repeat for several)", collect)
  .option("--dump <dir>", "also write every activation tensor as DIR/t<INDEX>.bin with DIR/index.json")
  .option("--board <board>", "where to run: host (default)", "host")
  .action((model: string, opts: { input: string[]; output: string[]; dump?: string; board: string }) => {
    if (opts.board !== "host") throw new UsageError(`unknown board "${opts.board}"; known boards: host`);
    const c = loadModel(model);
    const { outputs } = runOnHost(c, readInputs(c, opts.input), opts.dump);
    writeOutputs(opts.output, outputs);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  exitWithError(e);
}
