// Where a trained layer's parameters sit in its arena overlay (spec.ts "Training"): the first
// overlayTiles weight tiles as stored, then — when its biases train — the 12-byte channel records
// of every later channel. The training compiler lays overlays out with these functions and the
// .tflite export reads them back with the same ones; the engine's training.ts mirrors them.
import { CHANNEL_DATA_BYTES } from "../format/spec.ts";

export interface OverlayLayout {
  outC: number;
  perChannel: number;
  tileCh: number;
  overlayTiles: number;
  trainBias: boolean;
  /** Arena offset of the overlay. */
  overlay: number;
}

/** Tiles a layer's overlay must copy whole: those holding its trained channels. */
export const tilesFor = (trainChannels: number, tileCh: number) => Math.ceil(trainChannels / tileCh);

const tiledChannels = (l: OverlayLayout) => Math.min(l.outC, l.overlayTiles * l.tileCh);
const tiledBytes = (l: OverlayLayout) => tiledChannels(l) * (CHANNEL_DATA_BYTES + l.perChannel);

export function overlayBytes(l: OverlayLayout): number {
  return tiledBytes(l) + (l.trainBias ? (l.outC - tiledChannels(l)) * CHANNEL_DATA_BYTES : 0);
}

/** Arena offset of channel oc's [bias, multiplier, shift]. */
export function channelDataAt(l: OverlayLayout, oc: number): number {
  const tiled = tiledChannels(l);
  if (oc >= tiled) return l.overlay + tiledBytes(l) + (oc - tiled) * CHANNEL_DATA_BYTES;
  const t = Math.floor(oc / l.tileCh), j = oc - t * l.tileCh;
  return l.overlay + t * l.tileCh * (CHANNEL_DATA_BYTES + l.perChannel) + j * CHANNEL_DATA_BYTES;
}

/** Arena offset of channel oc's weights (a channel inside the overlay's whole tiles). */
export function weightsAt(l: OverlayLayout, oc: number): number {
  const t = Math.floor(oc / l.tileCh), j = oc - t * l.tileCh;
  const n = Math.min(l.tileCh, l.outC - t * l.tileCh);
  return l.overlay + t * l.tileCh * (CHANNEL_DATA_BYTES + l.perChannel) + n * CHANNEL_DATA_BYTES + j * l.perChannel;
}

/** The byte ranges of the layer's stored tiles the overlay copies (start within its weight section), and where to. */
export function overlayRanges(l: OverlayLayout): { start: number; bytes: number; arenaOffset: number }[] {
  const tileBytes = l.tileCh * (CHANNEL_DATA_BYTES + l.perChannel);
  const out = tiledBytes(l) ? [{ start: 0, bytes: tiledBytes(l), arenaOffset: l.overlay }] : [];
  if (!l.trainBias) return out;
  for (let t = l.overlayTiles, c0 = tiledChannels(l); c0 < l.outC; t++, c0 += l.tileCh) {
    const n = Math.min(l.tileCh, l.outC - c0);
    out.push({ start: t * tileBytes, bytes: n * CHANNEL_DATA_BYTES, arenaOffset: channelDataAt(l, c0) });
  }
  return out;
}
