// Where a training run executes: the engine in Node (`--board host`) or a board over serial.
// Both run the same engine.wasm on the same training .tlm, so they answer identically.
import { NodeEngine } from "../runners/node-engine.ts";
import { invokeOnBoard } from "../runners/board-runner.ts";
import { BoardError, openBoard, type BoardSession, type OpenOptions } from "../board/session.ts";

export interface TrainTarget {
  readonly name: string;
  /** Loads the training .tlm and starts training (state from the blob). */
  start(lr: number, momentum: number): Promise<void>;
  /** Sets the rate (and momentum) for the following steps: the schedule's rate changes mid-run. */
  configure(lr: number, momentum: number): Promise<void>;
  step(input: Uint8Array, label: number): Promise<{ loss: number; output: Uint8Array }>;
  /** Inference with the current (trained) parameters. */
  infer(input: Uint8Array): Promise<Uint8Array>;
  /** The persistent training state's bytes (trained parameters): what --out and checkpoints are made of. */
  state(): Promise<Uint8Array>;
  /** Arena high-water mark measured by the engine. */
  peakBytes(): Promise<number>;
  /** Saves a checkpoint holding the state after `step` steps (boards; a no-op on the host). */
  checkpoint(step: number): Promise<void>;
  close(): Promise<void>;
}

export class HostTarget implements TrainTarget {
  readonly name = "host";
  private engine?: NodeEngine;
  constructor(private readonly blob: Uint8Array) {}
  private get e(): NodeEngine {
    if (!this.engine) throw new Error("host training target used before start()");
    return this.engine;
  }
  async start(lr: number, momentum: number): Promise<void> {
    this.engine = NodeEngine.load(this.blob);
    this.engine.trainInit();
    this.engine.trainConfig(lr, momentum);
  }
  async configure(lr: number, momentum: number): Promise<void> { this.e.trainConfig(lr, momentum); }
  async step(input: Uint8Array, label: number) { return this.e.trainStep(input, label); }
  async infer(input: Uint8Array): Promise<Uint8Array> {
    this.e.setInput(input);
    this.e.invoke();
    return this.e.output();
  }
  async state(): Promise<Uint8Array> { return this.e.trainState(); }
  async peakBytes(): Promise<number> { return this.e.peakBytes; }
  async checkpoint(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Thrown by step() when the board had reset and training was resumed from its checkpoint after `step` steps. */
export class TrainingResumed extends Error {
  constructor(readonly step: number) { super(`training resumed from the checkpoint after step ${step}`); }
}

/**
 * A board over serial. A board that resets mid-run (it forgets its model) is resumed from its
 * last checkpoint: the model is uploaded again, training restarted and the saved state restored,
 * and step() throws TrainingResumed so the caller continues after the checkpoint's step.
 */
export class BoardTarget implements TrainTarget {
  private session?: BoardSession;
  private config = { lr: 0, momentum: 0 };
  constructor(readonly name: string, private readonly blob: Uint8Array, private readonly open: OpenOptions) {}
  private get s(): BoardSession {
    if (!this.session) throw new Error(`${this.name}: training target used before start()`);
    return this.session;
  }
  /** The open session (after start()). */
  get board(): BoardSession { return this.s; }
  async start(lr: number, momentum: number): Promise<void> {
    this.config = { lr, momentum };
    this.session = await openBoard(this.name, this.open);
    await this.session.loadModel(this.blob);
    await this.session.trainInit();
    await this.session.trainConfig(lr, momentum);
  }
  async configure(lr: number, momentum: number): Promise<void> {
    // Kept for a resume; the caller sends the resumed step's scheduled rate after it anyway.
    this.config = { lr, momentum };
    await this.s.trainConfig(lr, momentum);
  }
  /** True for the errors a board gives after it lost its model or its training (a reset). */
  private static lostTraining(e: unknown): boolean {
    return e instanceof BoardError && (e.errorName === "NOT_TRAINING" || e.errorName === "BAD_STATE");
  }
  async step(input: Uint8Array, label: number) {
    try {
      return await this.s.trainStep(input, label);
    } catch (e) {
      if (!BoardTarget.lostTraining(e)) throw e;
      throw new TrainingResumed((await this.s.resumeTraining(this.blob, this.config)) ?? 0);
    }
  }
  async infer(input: Uint8Array): Promise<Uint8Array> {
    return (await invokeOnBoard(this.s, [input], 1)).outputs[0];
  }
  async state(): Promise<Uint8Array> { return this.s.readTrainState(); }
  async peakBytes(): Promise<number> { return (await this.s.stats()).peakBytes; }
  async checkpoint(step: number): Promise<void> { await this.s.checkpointSave(step); }
  async close(): Promise<void> { await this.session?.close(); }
}
