// What the training benchmarks share (host/bench/training.ts and training-precision.ts), so
// both train on the same samples: the model, the data, the split and the schedule, and the
// short run on qemu-m4 that measures a training program's memory on the device.
import { readFileSync } from "node:fs";
import { modelPath } from "../util/shared-models.ts";
import { importTflite } from "../import/tflite.ts";
import { loadDataset, planTrain, sampleAt, fitToInput, type Dataset } from "../train/dataset.ts";
import { DEFAULT_SCHEDULE } from "../train/schedule.ts";
import { openBoard } from "../board/session.ts";
import { NodeEngine } from "../runners/node-engine.ts";

export const SAMPLES = Number(process.env.TINYLOOP_TRAIN_SAMPLES ?? 5000);
export const TEST = Number(process.env.TINYLOOP_TRAIN_TEST ?? 1000);
/** The held-out slice of the train split the trials are scored on (never the test split). */
export const HELD_OUT = 1000;
export const SEED = 1;
export const SCHEDULE = DEFAULT_SCHEDULE;

export const QUANT = modelPath("pretrainedResnet_quant"), FLOAT = modelPath("pretrainedResnet_float");

export async function trainingSetup() {
  const qBytes = new Uint8Array(readFileSync(QUANT));
  const qGraph = importTflite(qBytes, QUANT);
  const ds = await loadDataset("fashion-mnist", { classes: 10 });
  const plan = planTrain(ds.train.count, { seed: SEED, limit: SAMPLES, heldOut: HELD_OUT });
  return { qBytes, qGraph, ds, plan };
}

export interface DeviceMemory { measuredPeakBytes: number; stackBytes: number; staticRamBytes: number; engineDataBytes: number; totalSramBytes: number }

/** A training .tlm on qemu-m4 for `steps` samples at `lr`: the device's own memory figures. */
export async function deviceMemory(blob: Uint8Array, ds: Dataset, indices: Uint32Array, input: Parameters<typeof fitToInput>[1], lr: number, steps = 10): Promise<DeviceMemory> {
  const board = await openBoard("qemu-m4");
  try {
    await board.loadModel(blob);
    await board.trainInit();
    await board.trainConfig(lr, 0);
    for (let i = 0; i < steps; i++) {
      const s = sampleAt(ds, ds.train, indices[i]);
      await board.trainStep(fitToInput(s, input), s.label);
    }
    const stats = await board.stats();
    const staticRamBytes = board.firmware?.staticRamBytes ?? 0;
    const engineDataBytes = NodeEngine.load(blob).arenaPtr; // the engine's own static data, below the arena
    return {
      measuredPeakBytes: stats.peakBytes, stackBytes: stats.stackUsed, staticRamBytes, engineDataBytes,
      totalSramBytes: staticRamBytes + engineDataBytes + stats.peakBytes + stats.stackUsed,
    };
  } finally {
    await board.close();
  }
}
