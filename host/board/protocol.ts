// Host codec for the serial protocol: CRC-32, COBS, frames and payload layouts.
// Pure functions, no I/O, so it is unit-testable byte for byte.
import {
  PROTOCOL_VERSION, HEADER_BYTES, CRC_BYTES, MAX_PAYLOAD, type Layout,
} from "./protocol-spec.ts";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32/ISO-HDLC (the zlib one); `crc32(new TextEncoder().encode("123456789")) === 0xcbf43926`. */
export function crc32(data: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** COBS: rewrites `data` so it contains no 0x00; the frame delimiter is appended by the caller. */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 254) + 1);
  let codeAt = 0, o = 1, code = 1;
  for (const b of data) {
    if (b === 0) {
      out[codeAt] = code; codeAt = o++; code = 1;
    } else {
      out[o++] = b; code++;
      if (code === 0xff) { out[codeAt] = code; codeAt = o++; code = 1; }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

export class FrameError extends Error {}

/** Inverse of cobsEncode; throws FrameError on a 0x00 inside or a code running past the end. */
export function cobsDecode(enc: Uint8Array): Uint8Array {
  const out = new Uint8Array(enc.length);
  let i = 0, o = 0;
  while (i < enc.length) {
    const code = enc[i++];
    if (code === 0) throw new FrameError("COBS: zero byte inside a frame");
    if (i + code - 1 > enc.length) throw new FrameError("COBS: truncated block");
    for (let k = 1; k < code; k++) out[o++] = enc[i++];
    if (code !== 0xff && i < enc.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

export interface Frame { version: number; code: number; seq: number; payload: Uint8Array }

/** Frame bytes before COBS: header, payload, CRC. */
export function rawFrame(code: number, seq: number, payload: Uint8Array, version = PROTOCOL_VERSION): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new Error(`payload of ${payload.length} bytes exceeds the protocol maximum ${MAX_PAYLOAD}`);
  const raw = new Uint8Array(HEADER_BYTES + payload.length + CRC_BYTES);
  const dv = new DataView(raw.buffer);
  raw[0] = version; raw[1] = code;
  dv.setUint16(2, seq, true);
  dv.setUint16(4, payload.length, true);
  raw.set(payload, HEADER_BYTES);
  dv.setUint32(HEADER_BYTES + payload.length, crc32(raw.subarray(0, HEADER_BYTES + payload.length)), true);
  return raw;
}

/** Wire bytes of one frame: a leading 0x00 (flushes any partial frame on the far side), COBS, 0x00. */
export function encodeFrame(code: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const enc = cobsEncode(rawFrame(code, seq, payload));
  const wire = new Uint8Array(enc.length + 2);
  wire.set(enc, 1);
  return wire;
}

/** Decodes one COBS block (delimiters removed); throws FrameError if it is not a whole, intact frame. */
export function decodeFrame(enc: Uint8Array): Frame {
  const raw = cobsDecode(enc);
  if (raw.length < HEADER_BYTES + CRC_BYTES) throw new FrameError(`frame of ${raw.length} bytes is shorter than a header and CRC`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const len = dv.getUint16(4, true);
  if (raw.length !== HEADER_BYTES + len + CRC_BYTES) {
    throw new FrameError(`frame says ${len} payload bytes but carries ${raw.length - HEADER_BYTES - CRC_BYTES} (truncated or merged)`);
  }
  const want = dv.getUint32(HEADER_BYTES + len, true);
  const got = crc32(raw.subarray(0, HEADER_BYTES + len));
  if (want !== got) throw new FrameError(`CRC mismatch (frame ${want.toString(16)}, computed ${got.toString(16)})`);
  return { version: raw[0], code: raw[1], seq: dv.getUint16(2, true), payload: raw.slice(HEADER_BYTES, HEADER_BYTES + len) };
}

/** Splits a byte stream at 0x00 delimiters; empty blocks (back-to-back delimiters) are skipped. */
export class FrameSplitter {
  private buf: number[] = [];
  /** Beyond this many bytes without a delimiter the block is garbage: drop it. */
  constructor(private readonly maxBlock = 2 * (MAX_PAYLOAD + HEADER_BYTES + CRC_BYTES)) {}

  push(chunk: Uint8Array): Uint8Array[] {
    const blocks: Uint8Array[] = [];
    for (const b of chunk) {
      if (b === 0) {
        if (this.buf.length) blocks.push(Uint8Array.from(this.buf));
        this.buf = [];
      } else if (this.buf.length < this.maxBlock) {
        this.buf.push(b);
      }
    }
    return blocks;
  }
}

/** Payload bytes for a layout: its u32 fields in order, then the tail. */
export function packPayload(layout: Layout, values: Record<string, number>, tail?: Uint8Array): Uint8Array {
  const fixed = layout.fields.length * 4;
  const out = new Uint8Array(fixed + (tail?.length ?? 0));
  const dv = new DataView(out.buffer);
  layout.fields.forEach((f, i) => {
    const v = values[f];
    if (v === undefined || !Number.isInteger(v)) throw new Error(`payload field ${f} has no integer value`);
    dv.setUint32(4 * i, v >>> 0, true);
  });
  if (tail) out.set(tail, fixed);
  return out;
}

export function unpackPayload(layout: Layout, payload: Uint8Array, what: string): { values: Record<string, number>; tail: Uint8Array } {
  const fixed = layout.fields.length * 4;
  if (payload.length < fixed || (!layout.tail && payload.length !== fixed)) {
    throw new FrameError(`${what}: payload of ${payload.length} bytes does not fit its layout (${fixed} fixed bytes${layout.tail ? " + tail" : ""})`);
  }
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const values: Record<string, number> = {};
  layout.fields.forEach((f, i) => { values[f] = dv.getUint32(4 * i, true); });
  return { values, tail: payload.slice(fixed) };
}
