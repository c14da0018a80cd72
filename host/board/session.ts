// A session with one board: start it (QEMU / native process, or a real board's serial
// port), then load a model, set inputs, invoke, read outputs and stats over the protocol.
// The CLI's build/flash/run/bench/hil commands sit on top of this API.
import { f32Bits, f32FromBits } from "../util/f32-bits.ts";
import { BoardError as BoardConfigError, loadBoard, type Board } from "./boards.ts";
import { buildFirmware, type BuildOptions, type BuildResult } from "./build.ts";
import { BoardLink, BoardError, type LinkOptions } from "./link.ts";
import { startNative } from "./native.ts";
import { crc32, packPayload, unpackPayload } from "./protocol.ts";
import { CHECKPOINT_MISSES, CLOCK_SOURCE_TEXT, REQUESTS, RESPONSES, type CommandName } from "./protocol-spec.ts";
import { startQemu, type BoardProcess } from "./qemu.ts";
import { SerialTransport } from "./transport.ts";
import { EngineError } from "../runners/engine-status.ts";
import { STATUS } from "../format/spec.ts";
import type { TlmMeta } from "../format/tlm.ts";

export { BoardError };

/** Per-attempt LOAD_CHUNK timeout on real boards: above the slowest sector erase in the parts' datasheets. */
const FLASH_CHUNK_TIMEOUT_MS = 10_000;

export interface OpenOptions extends LinkOptions {
  /** Firmware to run (QEMU/native); by default it is built (or reused) for the board. */
  elf?: string;
  build?: BuildOptions;
  /** Serial device of a real board, or of an already running emulator. */
  port?: string;
  /** Per-attempt timeout for INVOKE (inference can be long on an emulator). */
  invokeTimeoutMs?: number;
  /** How long to keep saying HELLO before giving up on a board that does not answer. */
  helloTimeoutMs?: number;
  log?: (line: string) => void;
  /** Extra QEMU arguments for a virtual board (for example `-d exec` for a profile). */
  qemuArgs?: string[];
}

export interface BoardInfo {
  board: string;
  protocolVersion: number;
  engineAbi: number;
  maxPayload: number;
  modelStoreBytes: number;
  wasmMemBytes: number;
  clockHz: number;
  timerHz: number;
  /** CLOCK_SOURCES value: on a real part, whether the PLL runs from the external clock. */
  clockSource: number;
}

export interface LoadedModel {
  numInputs: number;
  numOutputs: number;
  inputBytes: number[];
  outputBytes: number[];
  arenaBytes: number;
  opCount: number;
}

export interface InvokeResult {
  /** Board timer ticks for one tl_invoke (SysTick, DWT cycles, or ns on native). */
  cycles: number;
  /** QEMU -icount boards: instructions executed, from virtual time (±1 timer tick). */
  instructions?: number;
}

export interface BoardStats {
  peakBytes: number; arenaBytes: number; opCount: number;
  wasmMemBytes: number; wasmPages: number;
  stackUsed: number; stackBytes: number;
  invokes: number; badFrames: number; duplicates: number; traps: number;
  lastCycles: number;
}

export interface StepResult {
  /** Engine status: STATUS.OK (0) after an op ran, STATUS.DONE (9) once every op has run. */
  status: number;
  /** Index of the op that ran (the op count once DONE). */
  op: number;
  /** Board timer ticks for this one op (same unit as InvokeResult.cycles). */
  cycles: number;
}

export interface TrainInfo {
  /** The persistent training state (weights, f32 masters, momentum): arena bytes [stateOffset, stateOffset + stateBytes). */
  stateOffset: number;
  stateBytes: number;
}

export interface TrainStepResult {
  /** This step's loss (f32), and its exact bits for bit-for-bit comparisons. */
  loss: number;
  lossBits: number;
  /** Output 0 as this step's forward pass left it (for running accuracy). */
  output: Uint8Array;
  /** Board timer ticks for the whole step (same unit as InvokeResult.cycles). */
  cycles: number;
}

export interface CheckpointSaved {
  /** Bytes written to the model store (state and record). */
  written: number;
  /** CRC-32 of the saved state bytes. */
  stateCrc: number;
}

export interface TrainConfig { lr: number; momentum?: number }

const u64 = (lo: number, hi: number) => hi * 2 ** 32 + lo;

export { f32Bits, f32FromBits };

const CHECKPOINT_MISS_TEXT: Record<number, string> = {
  [CHECKPOINT_MISSES.NONE]: "none was saved (or a save was interrupted)",
  [CHECKPOINT_MISSES.OTHER_MODEL]: "the saved one belongs to another model (blob CRC differs)",
  [CHECKPOINT_MISSES.SIZE]: "the saved one has another training-state size",
  [CHECKPOINT_MISSES.DAMAGED]: "the saved state fails its CRC (overwritten, e.g. by a larger model upload)",
};

export class BoardSession {
  private model?: LoadedModel;
  private hello?: BoardInfo;
  /** Set by trainInit(); gone with the model (load, reset, trap). */
  private training?: TrainInfo;

  constructor(
    readonly board: Board,
    private readonly link: BoardLink,
    private readonly transport: SerialTransport,
    private readonly proc: BoardProcess | undefined,
    private readonly opts: OpenOptions,
    readonly firmware?: BuildResult,
  ) {}

  /** Link-level counters (resends, timeouts...), for tests and diagnostics. */
  get linkCounters() { return this.link.counters; }

  private async call(cmd: CommandName, values: Record<string, number> = {}, tail?: Uint8Array, timeoutMs?: number) {
    try {
      const payload = await this.link.request(cmd, packPayload(REQUESTS[cmd], values, tail), timeoutMs);
      return unpackPayload(RESPONSES[cmd], payload, `${cmd} response`);
    } catch (e) {
      if (this.proc?.exited()) {
        throw new Error(`${this.board.name}: the board process died during ${cmd}: ${(e as Error).message}\n${this.proc.output().trim()}`);
      }
      throw e;
    }
  }

  /** One command exactly as given, without the session's own checks: for tests and diagnostics. */
  async rawCall(cmd: CommandName, values: Record<string, number> = {}, tail?: Uint8Array) {
    return this.call(cmd, values, tail);
  }

  private get chunkBytes(): number {
    return (this.hello?.maxPayload ?? 256) - 8; // room for the offset/index words
  }

  async info(): Promise<BoardInfo> {
    const { values, tail } = await this.call("HELLO");
    this.hello = {
      board: new TextDecoder().decode(tail),
      protocolVersion: values.protocolVersion, engineAbi: values.engineAbi, maxPayload: values.maxPayload,
      modelStoreBytes: values.modelStoreBytes, wasmMemBytes: values.wasmMemBytes, clockHz: values.clockHz, timerHz: values.timerHz,
      clockSource: values.clockSource,
    };
    return this.hello;
  }

  /** Uploads the blob in chunks into the model store, then has the engine load it. */
  async loadModel(blob: Uint8Array): Promise<LoadedModel> {
    this.model = undefined;
    this.training = undefined;
    const info = this.hello ?? (await this.info());
    if (blob.length > info.modelStoreBytes) {
      throw new BoardConfigError(`${this.board.name}: model of ${blob.length} bytes does not fit the model store (${info.modelStoreBytes} bytes)`);
    }
    await this.call("LOAD_BEGIN", { totalBytes: blob.length, crc32: crc32(blob) });
    for (let off = 0; off < blob.length; off += this.chunkBytes) {
      // On a real part a chunk may start a flash sector erase (up to seconds for a 256 KB F7 sector).
      const timeoutMs = this.board.kind === "real" ? FLASH_CHUNK_TIMEOUT_MS : undefined;
      const { values } = await this.call("LOAD_CHUNK", { offset: off }, blob.subarray(off, off + this.chunkBytes), timeoutMs);
      const want = Math.min(blob.length, off + this.chunkBytes);
      if (values.received !== want) throw new Error(`${this.board.name}: upload out of step (board holds ${values.received} bytes, expected ${want})`);
    }
    const { values, tail } = await this.call("LOAD_END");
    if (values.status !== 0) throw new EngineError(values.status, `load on ${this.board.name}`);
    const sizes = [...new Uint32Array(tail.slice().buffer)];
    this.model = {
      numInputs: values.numInputs, numOutputs: values.numOutputs,
      inputBytes: sizes.slice(0, values.numInputs), outputBytes: sizes.slice(values.numInputs),
      arenaBytes: values.arenaBytes, opCount: values.opCount,
    };
    return this.model;
  }

  /** After a trap the board has re-created its engine: the model (and any training) is gone. */
  private forgetModelOnTrap(e: unknown): void {
    if (e instanceof BoardError && e.errorName === "TRAP") {
      this.model = undefined;
      this.training = undefined;
    }
  }

  private loaded(): LoadedModel {
    if (!this.model) throw new Error(`${this.board.name}: no model loaded; call loadModel() first`);
    return this.model;
  }

  async setInput(bytes: Uint8Array, i = 0): Promise<void> {
    const want = this.loaded().inputBytes[i];
    if (want === undefined) throw new Error(`input ${i} does not exist (the model has ${this.loaded().numInputs})`);
    if (bytes.length !== want) throw new Error(`input ${i} has ${bytes.length} bytes but the model expects ${want}`);
    for (let off = 0; off < bytes.length; off += this.chunkBytes) {
      await this.call("SET_INPUT", { index: i, offset: off }, bytes.subarray(off, off + this.chunkBytes));
    }
  }

  async invoke(): Promise<InvokeResult> {
    this.loaded();
    let values: Record<string, number>;
    try {
      ({ values } = await this.call("INVOKE", {}, undefined, this.opts.invokeTimeoutMs ?? 120_000));
    } catch (e) {
      this.forgetModelOnTrap(e);
      throw e;
    }
    if (values.status !== 0) throw new EngineError(values.status, `invoke on ${this.board.name}`);
    const cycles = u64(values.cyclesLo, values.cyclesHi);
    const t = this.board.timing;
    const instructions = t.kind === "systick-icount" ? Math.round((cycles * 1e9) / t.timerHz / 2 ** (t.icountShift ?? 0)) : undefined;
    return { cycles, instructions };
  }

  /** Rewinds the engine to its first op (tl_begin); inputs already set stay in place. */
  async begin(): Promise<void> {
    this.loaded();
    await this.call("BEGIN");
  }

  /**
   * Runs exactly one op (tl_step). Returns status OK with the op that ran, or DONE (and the
   * op count) once every op has run; any other engine status is thrown as an EngineError.
   */
  async step(): Promise<StepResult> {
    this.loaded();
    let values: Record<string, number>;
    try {
      ({ values } = await this.call("STEP", {}, undefined, this.opts.invokeTimeoutMs ?? 120_000));
    } catch (e) {
      this.forgetModelOnTrap(e);
      throw e;
    }
    if (values.status !== STATUS.OK && values.status !== STATUS.DONE) {
      throw new EngineError(values.status, `op ${values.op} on ${this.board.name}`);
    }
    return { status: values.status, op: values.op, cycles: u64(values.cyclesLo, values.cyclesHi) };
  }

  /** Bytes [offset, offset+length) of the engine's arena, read in MAX_PAYLOAD pieces. */
  async readArena(offset: number, length: number): Promise<Uint8Array> {
    const model = this.loaded();
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`readArena(${offset}, ${length}): offset and length must be non-negative integers`);
    }
    const out = new Uint8Array(length);
    const piece = this.hello!.maxPayload;
    for (let off = 0; off < length; off += piece) {
      const n = Math.min(piece, length - off);
      let tail: Uint8Array;
      try {
        ({ tail } = await this.call("READ_ARENA", { offset: offset + off, length: n }));
      } catch (e) {
        if (e instanceof BoardError && e.errorName === "BAD_OFFSET") {
          throw new BoardError(e.command, e.error, e.detail,
            `${this.board.name}: arena bytes [${offset}, ${offset + length}) are outside the arena of ${e.detail} bytes (model arena ${model.arenaBytes}): ${e.message}`);
        }
        throw e;
      }
      if (tail.length !== n) throw new Error(`${this.board.name}: READ_ARENA returned ${tail.length} bytes, expected ${n}`);
      out.set(tail, off);
    }
    return out;
  }

  /**
   * Runs the model op by op (BEGIN, then STEP until DONE), awaiting `after(opIndex)` once
   * each op has finished: the board-side NodeEngine.invokeStepwise. Returns each op's cycles.
   */
  async invokeStepwise(after: (op: number) => Promise<void> | void = () => {}): Promise<{ cyclesPerOp: number[] }> {
    const opCount = this.loaded().opCount;
    await this.begin();
    const cyclesPerOp: number[] = [];
    for (;;) {
      const r = await this.step();
      if (r.status === STATUS.DONE) break;
      if (r.op !== cyclesPerOp.length) throw new Error(`${this.board.name}: STEP ran op ${r.op}, expected op ${cyclesPerOp.length}`);
      cyclesPerOp.push(r.cycles);
      await after(r.op);
    }
    if (cyclesPerOp.length !== opCount) throw new Error(`${this.board.name}: DONE after ${cyclesPerOp.length} ops, the model has ${opCount}`);
    return { cyclesPerOp };
  }

  /**
   * Sets the inputs, runs op by op and reads every activation tensor from the board's arena
   * as soon as it is final (meta.readyBeforeOps, then meta.ops[i].readyAfter): the board-side
   * equivalent of `tinyloop run --dump`. Keys are tensor indices.
   */
  async dumpTensors(meta: TlmMeta, input: Uint8Array[]): Promise<Map<number, Uint8Array>> {
    const model = this.loaded();
    if (input.length !== model.numInputs) throw new Error(`the model has ${model.numInputs} input(s) but ${input.length} were given`);
    if (meta.ops.length !== model.opCount) {
      throw new Error(`metadata describes ${meta.ops.length} ops but the loaded model has ${model.opCount}; is it the same model?`);
    }
    for (let i = 0; i < input.length; i++) await this.setInput(input[i], i);
    const byIndex = new Map(meta.tensors.map((t) => [t.index, t]));
    const out = new Map<number, Uint8Array>();
    const dump = async (ts: number[]) => {
      for (const t of ts) {
        const m = byIndex.get(t);
        if (!m) throw new Error(`tensor ${t} is not in the model's metadata`);
        out.set(t, await this.readArena(m.offset, m.bytes));
      }
    };
    await dump(meta.readyBeforeOps);
    await this.invokeStepwise((op) => dump(meta.ops[op].readyAfter));
    return out;
  }

  // ---- training (a training .tlm; docs/protocol.md "Training") ----

  /**
   * Starts training the loaded model (TRAIN_INIT): the training state is filled from the blob's
   * parameters, momentum zeroed. Send trainConfig() afterwards; the engine's defaults apply until then.
   * An inference-only model is a BoardError NOT_TRAINABLE and stays loaded for inference.
   */
  async trainInit(): Promise<TrainInfo> {
    this.loaded();
    this.training = undefined;
    const { values } = await this.trainCall("TRAIN_INIT", {}, undefined, this.opts.invokeTimeoutMs ?? 120_000);
    this.training = { stateOffset: values.stateOffset, stateBytes: values.stateBytes };
    return this.training;
  }

  /** Learning rate and momentum (sent as f32, so rounded to f32). Not saved in checkpoints. */
  async trainConfig(lr: number, momentum = 0): Promise<void> {
    this.trainingState();
    if (!Number.isFinite(lr) || !Number.isFinite(momentum)) throw new RangeError(`trainConfig(${lr}, ${momentum}): lr and momentum must be finite numbers`);
    await this.trainCall("TRAIN_CONFIG", { lrBits: f32Bits(lr), momentumBits: f32Bits(momentum) });
  }

  /**
   * One SGD step on one sample: input 0 and its class label. The input travels in the
   * TRAIN_STEP frame when it fits, else by SET_INPUT first; the output likewise comes back in
   * the response or by GET_OUTPUT. An engine status other than OK (e.g. BAD_LABEL) is an EngineError.
   */
  async trainStep(input: Uint8Array, label: number): Promise<TrainStepResult> {
    const model = this.loaded();
    this.trainingState();
    if (!Number.isInteger(label) || label < 0 || label > 0x7fffffff) throw new RangeError(`label ${label} must be a non-negative integer (a class index)`);
    if (input.length !== model.inputBytes[0]) throw new Error(`input 0 has ${input.length} bytes but the model expects ${model.inputBytes[0]}`);
    const inFrame = REQUESTS.TRAIN_STEP.fields.length * 4 + input.length <= this.hello!.maxPayload;
    if (!inFrame) await this.setInput(input, 0);
    const { values, tail } = await this.trainCall("TRAIN_STEP", { label }, inFrame ? input : undefined, this.opts.invokeTimeoutMs ?? 120_000);
    if (values.status !== STATUS.OK) throw new EngineError(values.status, `train step (label ${label}) on ${this.board.name}`);
    const output = tail.length === model.outputBytes[0] ? tail : await this.getOutput(0);
    return { loss: f32FromBits(values.lossBits), lossBits: values.lossBits, output, cycles: u64(values.cyclesLo, values.cyclesHi) };
  }

  /** The training state's bytes as they are on the board now (READ_ARENA). */
  async readTrainState(): Promise<Uint8Array> {
    const t = this.trainingState();
    return this.readArena(t.stateOffset, t.stateBytes);
  }

  /** Saves the training state with `step` (the host's counter) in the board's model store. */
  async checkpointSave(step: number): Promise<CheckpointSaved> {
    const t = this.trainingState();
    if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) throw new RangeError(`checkpoint step ${step} must be an integer in [0, 2^32)`);
    try {
      // invokeTimeoutMs: on a real part this is a flash erase and write.
      const { values } = await this.trainCall("CHECKPOINT_SAVE", { step }, undefined, this.opts.invokeTimeoutMs ?? 120_000);
      return { written: values.written, stateCrc: values.stateCrc };
    } catch (e) {
      if (e instanceof BoardError && e.errorName === "TOO_LARGE") {
        throw new BoardError(e.command, e.error, e.detail,
          `${this.board.name}: a checkpoint of ${t.stateBytes} state bytes does not fit in the model store above this model (room for ${e.detail})`);
      }
      throw e;
    }
  }

  /**
   * Writes the board's saved training state for this model back (after trainInit) and returns
   * the step it was saved at. No usable checkpoint is a BoardError NO_CHECKPOINT saying why.
   */
  async checkpointRestore(): Promise<number> {
    this.trainingState();
    try {
      return (await this.trainCall("CHECKPOINT_RESTORE")).values.step;
    } catch (e) {
      if (e instanceof BoardError && e.errorName === "NO_CHECKPOINT") {
        throw new BoardError(e.command, e.error, e.detail,
          `${this.board.name}: no checkpoint to restore for this model: ${CHECKPOINT_MISS_TEXT[e.detail] ?? `reason ${e.detail}`}`);
      }
      throw e;
    }
  }

  /**
   * After a reset (or a new session): uploads and loads `blob`, starts training, applies
   * `config`, and restores the board's checkpoint for this model. Returns the step to continue
   * from, or undefined when there is no usable checkpoint (training starts from the blob).
   */
  async resumeTraining(blob: Uint8Array, config?: TrainConfig): Promise<number | undefined> {
    await this.loadModel(blob);
    await this.trainInit();
    if (config) await this.trainConfig(config.lr, config.momentum ?? 0);
    try {
      return await this.checkpointRestore();
    } catch (e) {
      if (e instanceof BoardError && e.errorName === "NO_CHECKPOINT") return undefined;
      throw e;
    }
  }

  private trainingState(): TrainInfo {
    this.loaded();
    if (!this.training) throw new Error(`${this.board.name}: training not started for the loaded model; call trainInit() first`);
    return this.training;
  }

  /** A training command; the board's training errors get messages that say what to do. */
  private async trainCall(cmd: CommandName, values: Record<string, number> = {}, tail?: Uint8Array, timeoutMs?: number) {
    try {
      return await this.call(cmd, values, tail, timeoutMs);
    } catch (e) {
      this.forgetModelOnTrap(e);
      if (!(e instanceof BoardError)) throw e;
      const why: Record<string, string> = {
        NOT_TRAINABLE: "the loaded model is inference-only (no training program); compile it for training",
        NOT_TRAINING: "the board is not training this model (reset or reloaded?); call trainInit() again",
        ENGINE: new EngineError(e.detail, "tl_train_init").message,
        UNKNOWN_COMMAND: "the firmware has no training commands; rebuild it",
      };
      if (e.errorName === "NOT_TRAINING") this.training = undefined;
      const text = why[e.errorName];
      throw text ? new BoardError(e.command, e.error, e.detail, `${this.board.name}: ${cmd}: ${text} (${e.message})`) : e;
    }
  }

  async getOutput(i = 0): Promise<Uint8Array> {
    const bytes = this.loaded().outputBytes[i];
    if (bytes === undefined) throw new Error(`output ${i} does not exist (the model has ${this.loaded().numOutputs})`);
    const out = new Uint8Array(bytes);
    const step = this.hello!.maxPayload;
    for (let off = 0; off < bytes; off += step) {
      const n = Math.min(step, bytes - off);
      const { tail } = await this.call("GET_OUTPUT", { index: i, offset: off, length: n });
      if (tail.length !== n) throw new Error(`${this.board.name}: GET_OUTPUT returned ${tail.length} bytes, expected ${n}`);
      out.set(tail, off);
    }
    return out;
  }

  async stats(): Promise<BoardStats> {
    const { values: v } = await this.call("GET_STATS");
    return {
      peakBytes: v.peakBytes, arenaBytes: v.arenaBytes, opCount: v.opCount, wasmMemBytes: v.wasmMemBytes, wasmPages: v.wasmPages,
      stackUsed: v.stackUsed, stackBytes: v.stackBytes, invokes: v.invokes, badFrames: v.badFrames, duplicates: v.duplicates,
      traps: v.traps, lastCycles: u64(v.lastCyclesLo, v.lastCyclesHi),
    };
  }

  /** Soft reset: the board forgets its model and re-creates the engine. */
  async reset(): Promise<void> {
    this.model = undefined;
    this.training = undefined;
    await this.call("RESET");
  }

  async close(): Promise<void> {
    this.link.close();
    await this.transport.close();
    await this.proc?.stop();
  }
}

/** Starts (or connects to) a board and checks it answers HELLO. Cleans up on any failure. */
export async function openBoard(boardName: string, opts: OpenOptions = {}): Promise<BoardSession> {
  const board = loadBoard(boardName);
  const log = opts.log ?? (() => {});
  let proc: BoardProcess | undefined;
  let transport: SerialTransport | undefined;
  let link: BoardLink | undefined;
  try {
    let firmware: BuildResult | undefined;
    let path = opts.port;
    if (!path) {
      if (board.kind === "real") {
        throw new BoardConfigError(`board "${board.name}" is a real board: pass its serial port with --port (e.g. /dev/ttyACM0) after flashing it`);
      }
      let elf = opts.elf;
      if (!elf) {
        firmware = buildFirmware(board.name, { log, ...opts.build });
        elf = firmware.elf;
      }
      proc = board.kind === "qemu" ? await startQemu(board, elf, { args: opts.qemuArgs }) : await startNative(elf);
      path = proc.ptyPath;
      log(`${board.name}: serial on ${path}`);
    }
    transport = await SerialTransport.open(path, { baudRate: board.uart.baud ?? 115200 });
    await proc?.start();
    link = new BoardLink(transport, opts);
    const session = new BoardSession(board, link, transport, proc, opts, firmware);
    await helloUntilAnswered(session, board, opts.helloTimeoutMs ?? 15_000);
    return session;
  } catch (e) {
    link?.close();
    await transport?.close();
    await proc?.stop();
    throw e;
  }
}

async function helloUntilAnswered(session: BoardSession, board: Board, timeoutMs: number): Promise<void> {
  const info = await Promise.race([
    session.info(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(
      `${board.name}: no answer to HELLO within ${timeoutMs} ms; is the right firmware running on this port?`)), timeoutMs).unref()),
  ]);
  if (info.board !== board.name) {
    throw new Error(`the firmware on this port was built for "${info.board}", not "${board.name}"; rebuild/flash it for ${board.name}`);
  }
  if (info.clockHz !== board.clockHz) {
    // Timings stay right (they use the board's reported clock), but they are not the part's best.
    process.stderr.write(`warning: ${board.name} runs at ${info.clockHz} Hz, not ${board.clockHz} Hz (clock: ${CLOCK_SOURCE_TEXT[info.clockSource] ?? info.clockSource}); check the board's power and clock\n`);
  }
}
