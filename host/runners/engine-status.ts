import { STATUS } from "../format/spec.ts";

const MEANING: Record<number, string> = {
  [STATUS.BAD_MAGIC]: "the blob is not a .tlm model (bad magic); compile it with `tinyloop compile`",
  [STATUS.BAD_VERSION]: "the .tlm was written for another engine version; recompile it with this tinyloop",
  [STATUS.READ_FAILED]: "the engine asked for bytes beyond the end of the model blob; the .tlm is truncated or corrupt",
  [STATUS.BAD_RECORD]: "an op record in the .tlm is malformed (unknown opcode or bad length); recompile the model",
  [STATUS.OUT_OF_ARENA]: "an op record names memory outside the planned arena; the .tlm is corrupt",
  [STATUS.NOT_LOADED]: "no model is loaded",
  [STATUS.MEMORY]: "the engine could not get enough memory for the planned arena",
  [STATUS.KERNEL]: "a kernel rejected its parameters",
  [STATUS.DONE]: "all ops have already run",
  [STATUS.NOT_TRAINABLE]: "the model is not a training .tlm (compile it for training: tinyloop train ... or compileTraining) or training was not initialized",
  [STATUS.BAD_LABEL]: "the label is not one of the model's classes",
  [STATUS.TRAP]: "the engine trapped (an out-of-bounds access or similar); the model blob is corrupt or this is an engine bug",
};

export class EngineError extends Error {
  constructor(public readonly status: number, public readonly where: string) {
    super(`engine ${where} failed with status ${status}: ${MEANING[status] ?? "unknown status"}`);
  }
}
