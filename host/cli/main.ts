// The tinyloop command line. One file per command; this file only wires them.
import { writeFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { loadModel, parsePatch, DEFAULT_MAX_OVERHEAD, DECODE_BUDGET_PERCENT, PRECISIONS, PATCH_MODES, COMPRESS_MODES, ARENA_POLICIES, type ArenaPolicy, type Compiled, type Precision } from "../compile.ts";
import { precisionLines } from "./precision.ts";
import { CalibrationError } from "../float/calibration.ts";
import { exitWithError, UsageError } from "./errors.ts";
import { printInspect, inspectReport } from "./inspect.ts";
import { planSvg } from "./plan-svg.ts";
import { readInputs, runOnHost, writeOutputs } from "./run.ts";
import { buildCommand, flashCommand } from "./build.ts";
import { FLASH_TOOLS, type FlashTool } from "../board/flash.ts";
import { benchOnBoard, printBench } from "./bench.ts";
import { hil, hilModels, writeJunit } from "./hil.ts";
import { stream } from "./stream.ts";
import { trainCommand, printTrainResult, trainJson } from "./train.ts";
import { DEFAULT_SCHEDULE, LR_SCHEDULES, type LrScheduleKind } from "../train/schedule.ts";
import { TRAIN_PRECISIONS, type TrainPrecision } from "../train/compile-training.ts";
import { withBoard, runOnBoard } from "../runners/board-runner.ts";
import type { OpenOptions } from "../board/session.ts";
import { DEFAULT_BOARD, loadBoard } from "../board/boards.ts";

/** A whole-number option of at least `min`, or a usage error naming the flag. */
function wholeNumber(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number of at least ${min}, not "${value}"`);
  return n;
}

interface RuntimeFlags { runtime: string; wamrDir?: string; wamrc?: string; port?: string }
const RUNTIMES = ["wasm2c", "wamr"] as const;

/** Board-opening options from --runtime / --wamr-dir / --port. */
function boardOptions(flags: RuntimeFlags): OpenOptions {
  const runtime = RUNTIMES.find((r) => r === flags.runtime);
  if (!runtime) throw new UsageError(`--runtime must be wasm2c or wamr, not "${flags.runtime}"`);
  if (flags.wamrc && runtime !== "wamr") throw new UsageError(`--wamrc compiles engine.wasm for WAMR; pass --runtime wamr with it`);
  return { build: { runtime, wamrDir: flags.wamrDir, wamrc: flags.wamrc }, port: flags.port };
}

/** Adds --runtime and --wamr-dir to a board command. */
function withRuntimeFlags(cmd: Command): Command {
  return cmd
    .option("--runtime <runtime>", "what runs engine.wasm on the board: wasm2c, or wamr (your own WAMR build, see docs/wamr.md)", "wasm2c")
    .option("--wamr-dir <dir>", "your WAMR install (include/, lib/) for --runtime wamr (default $TINYLOOP_WAMR_DIR)")
    .option("--wamrc <path>", "with --runtime wamr: compile engine.wasm ahead of time with your wamrc (WAMR's AOT compiler; the library built with WAMR_BUILD_AOT=1) and run it in place from flash")
    .option("--port <path>", "serial port of a real board (its ST-LINK virtual COM port, e.g. /dev/ttyACM0), or of a virtual board already running");
}

/** "host", or a board definition that exists (a wrong name lists the known boards). */
function checkBoard(name: string): string {
  if (name !== "host") loadBoard(name);
  return name;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface PrecisionFlags { patch?: string; maxOverhead?: string; compress?: string; decodeBudget?: string; precision?: string; calibration?: string[]; inputRange?: string; flashBudget?: string; arenaBudget?: string }

/** Adds --patch, and --precision, --calibration, --input-range and auto's budgets (compiling float32 models) to a command. */
function withPrecisionFlags(cmd: Command): Command {
  return cmd
    .option("--compress <mode>", "auto: store 1x1 layers that are mostly zeros as sparse blocks where that is smaller (exact, and faster), and code other layers' weights run-length, zero-value or Huffman where that saves flash within --decode-budget; off: every weight dense", "auto")
    .option("--decode-budget <percent>", "with --compress auto: most instructions decoding coded weights may add, in percent of the model's", String(DECODE_BUDGET_PERCENT))
    .option("--patch <mode>", "auto: run stages of spatial ops row by row (full-width patches, no recomputation) where that shrinks the arena, or the first ops in 2-D patches when that needs less within --max-overhead; off: one op at a time; RxC (e.g. 3x3): the first ops in an R x C grid of patches, the rest op by op", "auto")
    .option("--max-overhead <percent>", "most MACs 2-D patches may compute again, in percent of the model's", String(DEFAULT_MAX_OVERHEAD))
    .option("--precision <precision>", "compile a float32 .tflite at this precision: int8 or fp8 (E4M3) weights, or auto (per layer, by the error on the calibration set); activations are int8 and the model takes and returns float32")
    .option("--calibration <files...>", "raw float32 input tensors to calibrate the int8 ranges on (default: 32 generated inputs, with a warning)")
    .option("--input-range <lo,hi>", "without --calibration: the range of the generated calibration inputs (default 0,1, i.e. images scaled to [0, 1])")
    .option("--flash-budget <bytes>", "with --precision auto: most weight bytes in flash (default: the int8 build's)")
    .option("--arena-budget <bytes|auto|min>", "the arena (SRAM) the model may use: weight tiles grow and row-streamed stages coarsen (faster) up to it, stages stop once it is met, and a model that cannot fit is an error; with --precision auto also the arena its choice must fit. auto: the smallest arena the planner finds, rounded up to a power of two; min: the smallest arena", "auto");
}

/** A percentage flag (a number >= 0), or its default when absent; anything else is a usage error. */
function percentFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`${name} must be a percentage (a number >= 0), not "${value}"`);
  return Number(value);
}

/** --arena-budget's policy word (auto when absent), or undefined for a number of bytes. */
function arenaPolicyOf(flag: string | undefined): ArenaPolicy | undefined {
  return flag === undefined ? "auto" : ARENA_POLICIES.find((p) => p === flag);
}

/** --arena-budget as a number of bytes, or a usage error listing what it accepts. */
function arenaBytesFlag(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--arena-budget must be auto, min or a whole number of bytes, not "${value}"`);
  return n;
}

/** loadModel with the precision flags checked; a bad calibration file is a usage error. */
function loadWithPrecision(model: string, flags: PrecisionFlags): Compiled {
  const patch = parsePatch(flags.patch ?? "auto");
  if (!patch) throw new UsageError(`--patch must be one of ${PATCH_MODES.join(", ")} (e.g. 2x2), not "${flags.patch}"`);
  const maxOverhead = percentFlag("--max-overhead", flags.maxOverhead, DEFAULT_MAX_OVERHEAD);
  const decodeBudget = percentFlag("--decode-budget", flags.decodeBudget, DECODE_BUDGET_PERCENT);
  const compress = COMPRESS_MODES.find((m) => m === (flags.compress ?? "auto"));
  if (!compress) throw new UsageError(`--compress must be one of ${COMPRESS_MODES.join(", ")}, not "${flags.compress}"`);
  const precision = PRECISIONS.find((p) => p === flags.precision);
  if (flags.precision !== undefined && !precision) {
    throw new UsageError(`--precision must be one of ${PRECISIONS.join(", ")}, not "${flags.precision}"`);
  }
  if (!flags.precision && (flags.calibration || flags.inputRange)) {
    throw new UsageError(`${flags.calibration ? "--calibration" : "--input-range"} quantizes a float32 model; pass --precision int8, fp8 or auto with it`);
  }
  if (precision !== "auto" && flags.flashBudget) throw new UsageError(`--flash-budget is for --precision auto`);
  const arenaPolicy = arenaPolicyOf(flags.arenaBudget);
  const budget = {
    flashBytes: flags.flashBudget === undefined ? undefined : wholeNumber("--flash-budget", flags.flashBudget, 0),
    arenaBytes: arenaPolicy ? undefined : arenaBytesFlag(flags.arenaBudget!),
  };
  const arena = arenaPolicy ?? "min"; // with a number of bytes the policy is not used
  let inputRange: [number, number] | undefined;
  if (flags.inputRange !== undefined) {
    const parts = flags.inputRange.split(",").map(Number);
    if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1])) {
      throw new UsageError(`--input-range must be two numbers LO,HI with LO < HI, not "${flags.inputRange}"`);
    }
    if (flags.calibration) throw new UsageError(`--input-range only applies without --calibration`);
    inputRange = [parts[0], parts[1]];
  }
  try {
    return loadModel(model, {
      patch, maxOverhead, decodeBudget, compress, arena, arenaBudget: budget.arenaBytes, precision: precision as Precision | undefined, budget, calibrationFiles: flags.calibration, inputRange,
      warn: (m) => console.error(`tinyloop: warning: ${m}`),
    });
  } catch (e) {
    if (e instanceof CalibrationError) throw new UsageError(e.message);
    throw e;
  }
}

const program = new Command()
  .name("tinyloop")
  .description("Run and train int8 neural networks on microcontrollers: one engine.wasm, many runners.")
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(`tinyloop: ${s.replace(/^error: /, "error: ")}`) });

withPrecisionFlags(program.command("inspect"))
  .description("show ops, shapes, MACs, weights and the planned arena of a .tflite or .tlm model")
  .argument("<model>", ".tflite or .tlm file")
  .option("--json", "print one JSON object instead of a table")
  .option("--svg <file>", "also draw the memory plan (buffers over ops) as an SVG picture")
  .action((model: string, opts: { json?: boolean; svg?: string } & PrecisionFlags) => {
    const c = loadWithPrecision(model, opts);
    if (opts.json) console.log(JSON.stringify(inspectReport(c), null, 1));
    else printInspect(c);
    if (opts.svg) {
      try {
        writeFileSync(opts.svg, planSvg(c.meta));
      } catch (e) {
        throw new UsageError(`cannot write ${opts.svg}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  });

withPrecisionFlags(program.command("compile"))
  .description("compile a .tflite model to tinyloop's .tlm format (a float32 one with --precision int8, fp8 or auto)")
  .argument("<model>", ".tflite file")
  .requiredOption("-o, --output <file>", ".tlm file to write")
  .action((model: string, opts: { output: string } & PrecisionFlags) => {
    const c = loadWithPrecision(model, opts);
    writeFileSync(opts.output, c.blob);
    console.log(`wrote ${opts.output}: ${c.blob.length} bytes, arena ${c.meta.plan.arenaBytes} B, weights ${c.meta.weightBytes} B, ${c.meta.ops.length} ops`);
    for (const line of precisionLines(c.meta)) console.log(line);
  });

withPrecisionFlags(withRuntimeFlags(program.command("run")))
  .description("run a model once on raw input bytes and write the raw output bytes")
  .argument("<model>", ".tflite or .tlm file")
  .requiredOption("--input <file>", "raw bytes of an input tensor (repeat for several inputs)", collect)
  .requiredOption("--output <file>", "where to write the raw bytes of an output tensor (repeat for several)", collect)
  .option("--dump <dir>", "also write every activation tensor as DIR/t<INDEX>.bin with DIR/index.json (host only)")
  .option("--board <board>", "where to run: host, or a board such as qemu-m4", "host")
  .action(async (model: string, opts: { input: string[]; output: string[]; dump?: string; board: string } & RuntimeFlags & PrecisionFlags) => {
    const board = checkBoard(opts.board);
    const c = loadWithPrecision(model, opts);
    const inputs = readInputs(c, opts.input);
    if (board === "host") {
      writeOutputs(opts.output, runOnHost(c, inputs, opts.dump).outputs);
      return;
    }
    if (opts.dump) throw new UsageError("--dump runs on the host; use `tinyloop hil` to compare a board's tensors with the host's");
    const r = await withBoard(board, boardOptions(opts), (s) => runOnBoard(s, c, inputs));
    writeOutputs(opts.output, r.outputs);
  });

withRuntimeFlags(program.command("build"))
  .description("build the firmware for a board (wasm2c + arm-none-eabi-gcc, or gcc for native)")
  .option("--board <board>", "board definition in boards/", DEFAULT_BOARD)
  .option("--force", "rebuild even if nothing changed")
  .action((opts: { board: string; force?: boolean } & RuntimeFlags) => buildCommand(checkBoard(opts.board), !!opts.force, boardOptions(opts)));

withRuntimeFlags(program.command("flash"))
  .description("put the firmware on a board: start a virtual board on it, or program a real one")
  .option("--board <board>", "board definition in boards/", DEFAULT_BOARD)
  .option("--tool <tool>", "real boards: st-flash, openocd or copy (to the ST-LINK's NOD_* drive); default: the first one found")
  .option("--drive <dir>", "with --tool copy: the mounted NOD_* drive (default: found under /media, /run/media, /mnt)")
  .action((opts: { board: string; port?: string; tool?: string; drive?: string } & RuntimeFlags) => {
    if (opts.tool !== undefined && !FLASH_TOOLS.includes(opts.tool as FlashTool)) {
      throw new UsageError(`--tool must be one of ${FLASH_TOOLS.join(", ")}, got "${opts.tool}"`);
    }
    return flashCommand(checkBoard(opts.board), opts.port, boardOptions(opts), { tool: opts.tool as FlashTool | undefined, drive: opts.drive });
  });

withPrecisionFlags(withRuntimeFlags(program.command("bench")))
  .description("latency and memory of one model on a board (or on the host)")
  .argument("<model>", ".tflite or .tlm file")
  .option("--board <board>", "host, or a board such as qemu-m4", DEFAULT_BOARD)
  .option("--runs <n>", "inferences to measure", "3")
  .option("--per-op", "also measure each op (instructions per op and per MAC on QEMU boards)")
  .option("--json", "print one JSON object")
  .action(async (model: string, opts: { board: string; runs: string; json?: boolean; perOp?: boolean } & RuntimeFlags & PrecisionFlags) => {
    const runs = wholeNumber("--runs", opts.runs, 1);
    const r = await benchOnBoard(loadWithPrecision(model, opts), checkBoard(opts.board), runs, !!opts.perOp, boardOptions(opts));
    if (opts.json) console.log(JSON.stringify(r, null, 1));
    else printBench(r);
  });

withPrecisionFlags(withRuntimeFlags(program.command("hil")))
  .description("run models on a board and on the host and require byte-identical outputs")
  .argument("[models...]", ".tflite or .tlm files (default: the shared int8 models)")
  .option("--board <board>", "board definition in boards/", DEFAULT_BOARD)
  .option("--inputs <n>", "generated inputs per model, besides any golden ones", "2")
  .option("--junit <file>", "also write a JUnit XML report")
  .action(async (models: string[], opts: { board: string; inputs: string; junit?: string } & RuntimeFlags & PrecisionFlags) => {
    const board = checkBoard(opts.board);
    if (board === "host") throw new UsageError("hil compares a board with the host; pass --board with a board such as qemu-m4");
    const extra = wholeNumber("--inputs", opts.inputs, 0);
    const cases = await hil(board, hilModels(models), extra, (l) => console.log(l), boardOptions(opts), (f) => loadWithPrecision(f, opts));
    if (opts.junit) writeJunit(opts.junit, board, cases);
    const failed = cases.filter((k) => !k.ok).length;
    console.log(`hil: ${cases.length - failed} passed, ${failed} failed`);
    if (failed) process.exitCode = 1;
  });

withRuntimeFlags(program.command("stream"))
  .description("stream sensor samples to a board and print each prediction with its latency")
  .argument("<model>", ".tflite or .tlm file")
  .requiredOption("--source <path>", "a .csv/.wav/.png/.jpg/.pgm/.bin file, a directory of them, or - for CSV rows on stdin")
  .option("--board <board>", "host, or a board such as qemu-m4", DEFAULT_BOARD)
  .option("--labels <file>", "class names, one per line, for printing predictions")
  .option("--fit", "pad or crop CSV rows and short WAV files to the input size")
  .option("--raw-audio", "feed WAV samples to a model that does not look like an audio model")
  .option("--hop <samples>", "WAV frame hop in samples (default: one frame)")
  .option("--pixel-range <range>", "real range of image pixels: 0-1, 0-255 or -1-1", "0-1")
  .option("--json", "one JSON object per prediction")
  .action(async (model: string, opts: { source: string; board: string; labels?: string; fit?: boolean; rawAudio?: boolean; hop?: string; pixelRange: string; json?: boolean } & RuntimeFlags) => {
    const ranges = ["0-1", "0-255", "-1-1"] as const;
    const pixelRange = ranges.find((r) => r === opts.pixelRange);
    if (!pixelRange) throw new UsageError(`--pixel-range must be one of ${ranges.join(", ")}, not "${opts.pixelRange}"`);
    const hop = opts.hop === undefined ? undefined : wholeNumber("--hop", opts.hop, 1);
    const predictions = await stream(loadModel(model), checkBoard(opts.board), opts.source, {
      labels: opts.labels, fit: opts.fit, rawAudio: opts.rawAudio, hop, pixelRange, json: opts.json,
    }, boardOptions(opts));
    if (!opts.json) console.error(`streamed ${predictions.length} samples`);
  });

function lrSchedule(value: string): LrScheduleKind {
  const kind = LR_SCHEDULES.find((k) => k === value);
  if (!kind) throw new UsageError(`--lr-schedule must be one of ${LR_SCHEDULES.join(", ")}, not "${value}"`);
  return kind;
}

function trainPrecision(value: string): TrainPrecision {
  const p = TRAIN_PRECISIONS.find((k) => k === value);
  if (!p) throw new UsageError(`train --precision must be one of ${TRAIN_PRECISIONS.join(", ")}, not "${value}"`);
  return p;
}

/** A number option in [min, max), or a usage error naming the flag. */
function realNumber(flag: string, value: string, min: number, max = Infinity): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n >= max) throw new UsageError(`${flag} must be a number in [${min}, ${max}), not "${value}"`);
  return n;
}

withRuntimeFlags(program.command("train"))
  .description("fine-tune an int8 model on labeled data, on a board or the host, and write the trained .tflite")
  .argument("<model>", "int8 .tflite file")
  .requiredOption("--data <dataset>", "fashion-mnist (Debian's dataset-fashion-mnist), a directory of IDX files, or a directory of labeled CSV files")
  .option("--board <board>", "host (the engine in Node), or a board such as qemu-m4", DEFAULT_BOARD)
  .option("--scheme <scheme>", "what to update: bias, last:K, full, sparse (searched; budget a fifth of full's memory) or sparse:BYTES", "sparse")
  .option("--epochs <n>", "passes over the training samples", "1")
  .option("--limit <n>", "training samples used (default: the whole train split)")
  .option("--test-limit <n>", "test samples evaluated (default: the whole test split)")
  .option("--lr <rate>", "SGD learning rate, the schedule's peak (on real-valued parameters; QAS scales it per tensor)", "0.003")
  .option("--lr-schedule <kind>", "learning rate over the run: constant, or cosine (decays from --lr to ~0 by the last step)", DEFAULT_SCHEDULE.kind)
  .option("--warmup <fraction>", "fraction of the steps over which the rate first rises linearly to --lr (0 = none)", String(DEFAULT_SCHEDULE.warmup))
  .option("--momentum <m>", "SGD momentum (0 = none; otherwise a velocity buffer per trained parameter)", "0")
  .option("--precision <precision>", "how the backward pass stores errors and saved activations: int8 (f32 errors, int8 activations; QAS) or fp8 (hybrid: E5M2 errors, E4M3 activations)", "int8")
  .option("--head-lr <factor>", "learning-rate factor of the classifier (the last weighted layer): batch-1 SGD wants it far above the convolutions'", "30")
  .option("--seed <n>", "shuffling seed", "1")
  .option("--checkpoint-every <n>", "boards: save the trained state in flash every N steps (0 = never)", "1")
  .option("--search-samples <n>", "sparse search: training samples per candidate", "1000")
  .option("--search-held-out <n>", "sparse search: held-out train samples each candidate is scored on", "200")
  .option("--out <file>", "write the fine-tuned model (.tflite)")
  .option("--json", "print one JSON object")
  .action(async (model: string, opts: Record<string, string | boolean | undefined> & RuntimeFlags) => {
    const board = checkBoard(String(opts.board));
    const str = (k: string) => String(opts[k]);
    const optional = (k: string, flag: string) => (opts[k] === undefined ? undefined : wholeNumber(flag, str(k), 1));
    const flags = {
      data: str("data"), scheme: str("scheme"), epochs: wholeNumber("--epochs", str("epochs"), 1),
      limit: optional("limit", "--limit"), testLimit: optional("testLimit", "--test-limit"),
      lr: realNumber("--lr", str("lr"), Number.MIN_VALUE), lrSchedule: lrSchedule(str("lrSchedule")), warmup: realNumber("--warmup", str("warmup"), 0, 1), momentum: realNumber("--momentum", str("momentum"), 0, 1),
      headLr: realNumber("--head-lr", str("headLr"), Number.MIN_VALUE), precision: trainPrecision(str("precision")),
      seed: wholeNumber("--seed", str("seed"), 0), checkpointEvery: wholeNumber("--checkpoint-every", str("checkpointEvery"), 0),
      searchSamples: wholeNumber("--search-samples", str("searchSamples"), 1), searchHeldOut: wholeNumber("--search-held-out", str("searchHeldOut"), 1),
      json: !!opts.json, out: opts.out === undefined ? undefined : str("out"),
    };
    const r = await trainCommand(model, board, flags, boardOptions(opts));
    if (flags.json) console.log(JSON.stringify(trainJson(r), null, 1));
    else printTrainResult(r, flags.out);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  exitWithError(e);
}
