// Writes the fine-tuned model: the source .tflite with the trained layers' int8 weights and
// int32 biases replaced by the values in the training state (the arena overlays). Nothing
// else changes — same tensors, scales and layout — so TFLite, TFLM and `tinyloop run` load it.
import type { Graph } from "../graph/graph.ts";
import type { TrainingMeta } from "./compile-training.ts";
import { channelDataAt, weightsAt } from "./overlay-layout.ts";

/** Where a constant tensor's bytes sit inside the source file (the importer keeps views into it). */
function fileOffset(source: Uint8Array, data: Uint8Array): number {
  if (data.buffer !== source.buffer) throw new Error("tensor data is not a view into the source model; cannot locate it in the file");
  return data.byteOffset - source.byteOffset;
}

export function exportTrainedTflite(source: Uint8Array, g: Graph, training: TrainingMeta, state: Uint8Array): Uint8Array {
  if (state.length !== training.stateBytes) throw new Error(`training state has ${state.length} bytes, expected ${training.stateBytes}`);
  const out = new Uint8Array(source);
  const sv = new DataView(state.buffer, state.byteOffset, state.byteLength);
  const ov = new DataView(out.buffer);
  for (const l of training.layers) {
    const op = g.ops[l.source];
    const filter = g.tensors[op.inputs[1]];
    if (l.trainChannels > 0) {
      const at = fileOffset(source, filter.data!);
      for (let oc = 0; oc < l.trainChannels; oc++) {
        const w = weightsAt(l, oc);
        for (let k = 0; k < l.perChannel; k++) {
          // Depthwise filters are [1][kH][kW][outC] in TFLite; the .tlm keeps each channel's taps together.
          const idx = l.kind === "DEPTHWISE_CONV_2D" ? k * l.outC + oc : oc * l.perChannel + k;
          out[at + idx] = state[w + k];
        }
      }
    }
    if (l.trainBias) {
      const bias = g.tensors[op.inputs[2]];
      const at = fileOffset(source, bias.data!);
      for (let oc = 0; oc < l.outC; oc++) ov.setInt32(at + 4 * oc, sv.getInt32(channelDataAt(l, oc), true), true);
    }
  }
  return out;
}
