// Tiny .tlm blobs built by hand from host/format/spec.ts, so the board tests do not depend
// on the model compiler: a two-op model (REQUANTIZE then COPY), a blob the engine rejects,
// and one whose arena ends past the board's real linear memory (its op traps).
import {
  HEADER_BYTES, HEADER_FIELDS, OPCODES, OP_RECORD, RECORDS, TLM_MAGIC, TLM_VERSION, type OpName,
} from "../format/spec.ts";

interface Op { kind: OpName; params: Record<string, number> }

export function handBlob(ops: Op[], arenaBytes: number, inputs: [number, number][], outputs: [number, number][]): Uint8Array {
  const records = ops.map((op) => {
    const fields = RECORDS[OP_RECORD[op.kind]];
    const words = [OPCODES[op.kind], 8 + 4 * fields.length, ...fields.map((f) => {
      if (op.params[f] === undefined) throw new Error(`hand blob: ${op.kind} needs ${f}`);
      return op.params[f];
    })];
    return words;
  });
  const opsBytes = records.reduce((s, r) => s + 4 * r.length, 0);
  const blob = new Uint8Array(HEADER_BYTES + opsBytes);
  const dv = new DataView(blob.buffer);
  const header: Record<string, number> = {
    magic: TLM_MAGIC, version: TLM_VERSION, blobBytes: blob.length, arenaBytes, opCount: ops.length,
    opsOffset: HEADER_BYTES, opsBytes, metaOffset: blob.length, metaBytes: 0,
    maxRecordBytes: Math.max(...records.map((r) => 4 * r.length)),
    numInputs: inputs.length, numOutputs: outputs.length,
  };
  HEADER_FIELDS.forEach((f, i) => dv.setUint32(4 * i, header[f] >>> 0, true));
  [...inputs, ...outputs].forEach(([off, n], i) => {
    dv.setUint32(4 * HEADER_FIELDS.length + 8 * i, off, true);
    dv.setUint32(4 * HEADER_FIELDS.length + 8 * i + 4, n, true);
  });
  let at = HEADER_BYTES;
  for (const r of records) for (const w of r) { dv.setInt32(at, w | 0, true); at += 4; }
  return blob;
}

/** input[n] -> requantize (x0.75, zero points 3 -> -5) -> copy -> output[n]; n > one frame, to exercise chunking. */
export function requantizeCopyBlob(n = 3000): Uint8Array {
  const a = 0, b = n, c = 2 * n;
  return handBlob([
    { kind: "REQUANTIZE", params: { input: a, output: b, count: n, inputZeroPoint: 3, outputZeroPoint: -5, multiplier: 0x60000000, shift: 0 } },
    { kind: "COPY", params: { input: b, output: c, bytes: n } },
  ], 3 * n, [[a, n]], [[c, n]]);
}

/** A blob with a bad magic: tl_load returns BAD_MAGIC. */
export function badMagicBlob(): Uint8Array {
  const blob = requantizeCopyBlob(16);
  blob[0] ^= 0xff;
  return blob;
}

/** Above the engine's static data: its arena starts at __heap_base, about 10.2 KiB into linear memory. */
export const ENGINE_DATA_BOUND = 12 * 1024;

/**
 * An arena size that, starting at __heap_base, ends inside the last, partial 64 KiB page of a board
 * with `wasmMemBytes` of linear memory: memory.grow succeeds and an access near the arena's end traps.
 */
export function partialPageArena(wasmMemBytes: number, who: string): number {
  const pagesEnd = Math.ceil(wasmMemBytes / 65536) * 65536;
  const arena = pagesEnd - ENGINE_DATA_BOUND;
  if (arena <= wasmMemBytes) throw new Error(`${who}: ${wasmMemBytes} bytes of linear memory leave no partial page to trap in`);
  return arena;
}

/**
 * Arena planned to end inside the last, partial 64 KiB page of a board with `wasmMemBytes`
 * of linear memory: memory.grow succeeds, then the COPY into the arena's end traps (OOB).
 */
export function trapBlob(wasmMemBytes: number): Uint8Array {
  const arena = partialPageArena(wasmMemBytes, "trapBlob");
  return handBlob([{ kind: "COPY", params: { input: 0, output: arena - 16, bytes: 16 } }], arena, [[0, 16]], [[arena - 16, 16]]);
}
