// The reference runner: engine.wasm in Node, the model blob held in a Buffer and
// handed to the engine through its tl_read import, as a board hands it from flash.
import { readFileSync } from "node:fs";
import * as loader from "@assemblyscript/loader";
import { fileURLToPath } from "node:url";
import { STATUS } from "../format/spec.ts";
import { EngineError } from "./engine-status.ts";
import { f32Bits, f32FromBits } from "../util/f32-bits.ts";

export const ENGINE_WASM = fileURLToPath(new URL("../../build/engine.wasm", import.meta.url));

interface EngineExports {
  memory: WebAssembly.Memory;
  tl_abi_version(): number;
  tl_load(): number;
  tl_num_inputs(): number;
  tl_num_outputs(): number;
  tl_input_ptr(i: number): number;
  tl_input_bytes(i: number): number;
  tl_output_ptr(i: number): number;
  tl_output_bytes(i: number): number;
  tl_arena_ptr(): number;
  tl_arena_bytes(): number;
  tl_op_count(): number;
  tl_peak_bytes(): number;
  tl_op_index(): number;
  tl_begin(): void;
  tl_step(): number;
  tl_invoke(): number;
  tl_train_init(): number;
  tl_train_set_lr(bits: number): void;
  tl_train_set_momentum(bits: number): void;
  tl_train_step(label: number): number;
  tl_train_loss_bits(): number;
  tl_train_state_offset(): number;
  tl_train_state_bytes(): number;
}



let compiled: WebAssembly.Module | undefined;
function engineModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(ENGINE_WASM));
    } catch {
      throw new Error(`engine not built: ${ENGINE_WASM} is missing; run \`npm run build\``);
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** One engine instance with one model loaded. */
export class NodeEngine {
  private constructor(private readonly e: EngineExports) {}

  static load(blob: Uint8Array): NodeEngine {
    let exports: EngineExports | undefined;
    const tl_read = (src: number, dst: number, len: number): number => {
      src >>>= 0; dst >>>= 0; len >>>= 0;
      const mem = new Uint8Array(exports!.memory.buffer);
      if (src + len > blob.length || dst + len > mem.length) return 1;
      mem.set(blob.subarray(src, src + len), dst);
      return 0;
    };
    const { exports: raw } = loader.instantiateSync(engineModule(), { env: { tl_read } } as unknown as loader.Imports);
    exports = raw as unknown as EngineExports;
    // Run the module's start code as the firmware ports do, so both see the same initial memory.
    (exports as unknown as { _initialize?: () => void })._initialize?.();
    const engine = new NodeEngine(exports);
    engine.check(engine.guarded("load", () => exports!.tl_load()), "load");
    return engine;
  }

  private check(status: number, where: string): void {
    if (status !== STATUS.OK) throw new EngineError(status, where);
  }

  /** Runs an engine call; a wasm trap (which a checked .tlm never causes) becomes an EngineError too. */
  private guarded<T>(where: string, call: () => T): T {
    try {
      return call();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) throw new EngineError(STATUS.TRAP, `${where} (${e.message})`);
      throw e;
    }
  }

  private view(ptr: number, bytes: number): Uint8Array {
    return new Uint8Array(this.e.memory.buffer, ptr >>> 0, bytes);
  }

  get numInputs(): number { return this.e.tl_num_inputs(); }
  get numOutputs(): number { return this.e.tl_num_outputs(); }
  get opCount(): number { return this.e.tl_op_count(); }
  get arenaBytes(): number { return this.e.tl_arena_bytes() >>> 0; }
  /** Linear-memory address of the arena: the engine's own static data lies below it. */
  get arenaPtr(): number { return this.e.tl_arena_ptr() >>> 0; }
  /** Measured high-water mark of the arena since load. */
  get peakBytes(): number { return this.e.tl_peak_bytes() >>> 0; }
  inputBytes(i = 0): number { return this.e.tl_input_bytes(i); }
  outputBytes(i = 0): number { return this.e.tl_output_bytes(i); }

  setInput(data: Uint8Array, i = 0): void {
    const want = this.e.tl_input_bytes(i);
    if (data.length !== want) {
      throw new Error(`input ${i} has ${data.length} bytes but the model expects ${want}`);
    }
    this.view(this.e.tl_input_ptr(i), want).set(data);
  }

  output(i = 0): Uint8Array {
    return this.view(this.e.tl_output_ptr(i), this.e.tl_output_bytes(i)).slice();
  }

  /** Bytes of the arena at [offset, offset+bytes), copied. */
  arenaSlice(offset: number, bytes: number): Uint8Array {
    return this.view(this.e.tl_arena_ptr() + offset, bytes).slice();
  }

  invoke(): void {
    this.check(this.guarded("invoke", () => this.e.tl_invoke()), "invoke");
  }

  // ---- training (a training .tlm) ----

  /** Copies the trained parameters into the arena state; later forward passes use them. */
  trainInit(): void {
    this.check(this.guarded("train init", () => this.e.tl_train_init()), "train init");
  }

  trainConfig(lr: number, momentum = 0): void {
    this.e.tl_train_set_lr(f32Bits(lr));
    this.e.tl_train_set_momentum(f32Bits(momentum));
  }

  /** One SGD step on one labeled sample; returns the loss and this sample's forward output. */
  trainStep(input: Uint8Array, label: number): { loss: number; output: Uint8Array } {
    this.setInput(input);
    this.check(this.guarded("train step", () => this.e.tl_train_step(label)), "train step");
    return { loss: f32FromBits(this.e.tl_train_loss_bits()), output: this.output() };
  }

  /** The persistent training state (what a checkpoint holds), copied. */
  trainState(): Uint8Array {
    return this.arenaSlice(this.e.tl_train_state_offset() >>> 0, this.e.tl_train_state_bytes() >>> 0);
  }

  /** Writes a saved training state back (after trainInit). */
  restoreTrainState(state: Uint8Array): void {
    const want = this.e.tl_train_state_bytes() >>> 0;
    if (state.length !== want) throw new Error(`training state has ${state.length} bytes but this model's is ${want}; it belongs to another model or scheme`);
    this.view(this.e.tl_arena_ptr() + (this.e.tl_train_state_offset() >>> 0), want).set(state);
  }

  /** Runs op by op, calling `after(opIndex)` once each op has finished. */
  invokeStepwise(after: (op: number) => void): void {
    this.e.tl_begin();
    for (let op = 0; ; op++) {
      const s = this.guarded(`op ${op}`, () => this.e.tl_step());
      if (s === STATUS.DONE) return;
      this.check(s, `op ${op}`);
      after(op);
    }
  }
}
