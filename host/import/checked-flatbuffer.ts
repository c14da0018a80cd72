// Bounds-checked access to flatbuffer tables on top of the `flatbuffers` library.
// The library trusts its input; a model file is untrusted, so every offset is
// checked against the buffer before it is followed, and a bad one becomes a
// FormatError that says where in the model it was found.
import * as flatbuffers from "flatbuffers";

export class FormatError extends Error {}

export class Table {
  constructor(readonly bb: flatbuffers.ByteBuffer, readonly pos: number, readonly where: string) {}

  private fail(msg: string): never {
    throw new FormatError(`${this.where}: ${msg}`);
  }

  private check(offset: number, bytes: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + bytes > this.bb.capacity()) {
      this.fail(`${what} points outside the file (offset ${offset}, ${bytes} bytes, file has ${this.bb.capacity()})`);
    }
  }

  /** Absolute offset of field `slot`'s value, or 0 when absent. */
  field(slot: number): number {
    this.check(this.pos, 4, "table");
    const vtable = this.pos - this.bb.readInt32(this.pos);
    this.check(vtable, 4, "vtable");
    const vtableBytes = this.bb.readUint16(vtable);
    this.check(vtable, vtableBytes, "vtable");
    const entry = 4 + 2 * slot;
    if (entry >= vtableBytes) return 0;
    const rel = this.bb.readUint16(vtable + entry);
    return rel === 0 ? 0 : this.pos + rel;
  }

  int8(slot: number, dflt = 0): number {
    const o = this.field(slot);
    if (!o) return dflt;
    this.check(o, 1, `field ${slot}`);
    return this.bb.readInt8(o);
  }
  uint8(slot: number, dflt = 0): number {
    const o = this.field(slot);
    if (!o) return dflt;
    this.check(o, 1, `field ${slot}`);
    return this.bb.readUint8(o);
  }
  int32(slot: number, dflt = 0): number {
    const o = this.field(slot);
    if (!o) return dflt;
    this.check(o, 4, `field ${slot}`);
    return this.bb.readInt32(o);
  }
  uint32(slot: number, dflt = 0): number {
    const o = this.field(slot);
    if (!o) return dflt;
    this.check(o, 4, `field ${slot}`);
    return this.bb.readUint32(o);
  }
  float32(slot: number, dflt = 0): number {
    const o = this.field(slot);
    if (!o) return dflt;
    this.check(o, 4, `field ${slot}`);
    return this.bb.readFloat32(o);
  }
  bool(slot: number, dflt = false): boolean {
    return this.uint8(slot, dflt ? 1 : 0) !== 0;
  }

  private indirect(o: number, what: string): number {
    this.check(o, 4, what);
    const target = o + this.bb.readUint32(o);
    this.check(target, 4, what);
    return target;
  }

  table(slot: number, where: string): Table | null {
    const o = this.field(slot);
    return o ? new Table(this.bb, this.indirect(o, where), where) : null;
  }

  string(slot: number): string {
    const o = this.field(slot);
    if (!o) return "";
    const start = this.indirect(o, `string field ${slot}`);
    const len = this.bb.readUint32(start);
    this.check(start + 4, len, `string field ${slot}`);
    return new TextDecoder().decode(this.bb.bytes().subarray(start + 4, start + 4 + len));
  }

  /** [start of elements, element count] of a vector field; [0, 0] when absent. */
  private vector(slot: number, elemBytes: number, what: string): [number, number] {
    const o = this.field(slot);
    if (!o) return [0, 0];
    const start = this.indirect(o, what);
    const len = this.bb.readUint32(start);
    this.check(start + 4, len * elemBytes, what);
    return [start + 4, len];
  }

  int32s(slot: number, what = `int vector ${slot}`): number[] {
    const [s, n] = this.vector(slot, 4, `${this.where} ${what}`);
    return Array.from({ length: n }, (_, i) => this.bb.readInt32(s + 4 * i));
  }
  float32s(slot: number, what = `float vector ${slot}`): number[] {
    const [s, n] = this.vector(slot, 4, `${this.where} ${what}`);
    return Array.from({ length: n }, (_, i) => this.bb.readFloat32(s + 4 * i));
  }
  int64s(slot: number, what = `long vector ${slot}`): number[] {
    const [s, n] = this.vector(slot, 8, `${this.where} ${what}`);
    return Array.from({ length: n }, (_, i) => Number(this.bb.readInt64(s + 8 * i)));
  }
  bytes(slot: number, what = `byte vector ${slot}`): Uint8Array {
    const [s, n] = this.vector(slot, 1, `${this.where} ${what}`);
    return this.bb.bytes().subarray(s, s + n);
  }
  tables(slot: number, where: (i: number) => string): Table[] {
    const [s, n] = this.vector(slot, 4, `${this.where} table vector ${slot}`);
    return Array.from({ length: n }, (_, i) => new Table(this.bb, this.indirect(s + 4 * i, where(i)), where(i)));
  }
}

/** The root table of a flatbuffer, after checking the file identifier if one is given. */
export function rootTable(bytes: Uint8Array, identifier: string, what: string): Table {
  if (bytes.length < 8) throw new FormatError(`${what}: file is ${bytes.length} bytes, too short to be a flatbuffer`);
  const bb = new flatbuffers.ByteBuffer(bytes);
  const id = new TextDecoder().decode(bytes.subarray(4, 8));
  if (id !== identifier) {
    throw new FormatError(`${what}: file identifier is "${id.replace(/[^\x20-\x7e]/g, "?")}", expected "${identifier}"`);
  }
  const root = bb.readUint32(0);
  if (root + 4 > bytes.length) throw new FormatError(`${what}: root table offset ${root} is outside the file`);
  return new Table(bb, root, what);
}
