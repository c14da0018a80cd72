// Coded weight tiles (weightCoding != 0, see "Weight codings" in host/format/spec.ts): the
// weight bytes of a tile are stored run-length, zero-value or Huffman coded and decoded here
// into the tile buffer, the channel data ahead of them stays raw. The coded bytes are streamed
// from the blob through a small static buffer, so a coded layer needs no more arena than a raw
// one. Every decoder checks its input: a stream that ends early, a run past the tile, or a
// Huffman code that is not in the table is a refused record, never a write outside `dst`.
import { CODING_RLE, CODING_ZVC, CODING_HUFFMAN, HUFFMAN_MAX_BITS } from "./format";
import { tl_read } from "./io";

/** Blob bytes read per tl_read call. */
const STAGING_BYTES: u32 = 128;
const STAGING: usize = memory.data(<i32>STAGING_BYTES, 16);

let next: u32 = 0; // blob offset of the next chunk to fetch
let left: u32 = 0; // stream bytes not yet fetched

function openStream(src: u32, len: u32): void {
  next = src; left = len;
}

/**
 * Fetches the stream's next chunk into STAGING and returns its length: 0 past the stream's end or
 * when the blob refuses the read. The decoders keep their position in STAGING in locals and
 * call this only when it runs out (a byte then costs a compare, a load and an add).
 */
function refill(): u32 {
  if (left == 0) return 0;
  const n = min(left, STAGING_BYTES);
  if (tl_read(next, STAGING, n) != 0) { left = 0; return 0; }
  next += n; left -= n;
  return n;
}

// ---- Huffman (canonical, codes of 1..HUFFMAN_MAX_BITS bits, most significant bit first) ----

/** count[L]: codes of L bits; first[L]: the first code of length L; base[L]: its index in SYMBOLS. */
const COUNT: usize = memory.data((HUFFMAN_MAX_BITS + 1) * 4, 16);
const FIRST: usize = memory.data((HUFFMAN_MAX_BITS + 1) * 4, 16);
const BASE: usize = memory.data((HUFFMAN_MAX_BITS + 1) * 4, 16);
const SYMBOLS: usize = memory.data(256, 16);
/** Bits the first lookup takes. */
const FAST_BITS: i32 = 9;
/** By the next FAST_BITS bits: (length << 8) | symbol for codes of at most FAST_BITS bits, 0 for longer ones. */
const FAST: usize = memory.data((1 << FAST_BITS) * 2, 16);

/**
 * Reads a code table at blob offset `table`: HUFFMAN_MAX_BITS code counts (u16, lengths 1..),
 * then the symbols in code order. Builds the decoding tables; false if the table is malformed
 * (no codes, more codes than a prefix code of those lengths can have, or unreadable).
 */
export function loadHuffman(table: u32): bool {
  // The table is small: read it whole into STAGING (counts, then up to 256 symbols in two reads).
  openStream(table, HUFFMAN_MAX_BITS * 2);
  if (refill() != <u32>(HUFFMAN_MAX_BITS * 2)) return false;
  let total = 0, code = 0;
  store<i32>(COUNT, 0);
  for (let L = 1; L <= HUFFMAN_MAX_BITS; L++) {
    const c = <i32>load<u16>(STAGING + <usize>((L - 1) << 1));
    code = (code + (L > 1 ? load<i32>(COUNT + <usize>((L - 1) << 2)) : 0)) << (L > 1 ? 1 : 0);
    store<i32>(COUNT + <usize>(L << 2), c);
    store<i32>(FIRST + <usize>(L << 2), code);
    store<i32>(BASE + <usize>(L << 2), total);
    total += c;
    if (code + c > (1 << L)) return false; // over-full: not a prefix code
  }
  if (total < 1 || total > 256) return false;
  openStream(table + <u32>(HUFFMAN_MAX_BITS * 2), <u32>total);
  for (let i = 0; i < total;) {
    const n = refill();
    if (n == 0) return false;
    memory.copy(SYMBOLS + <usize>i, STAGING, <usize>n);
    i += <i32>n;
  }
  memory.fill(FAST, 0, (1 << FAST_BITS) * 2);
  for (let L = 1; L <= FAST_BITS; L++) {
    const first = load<i32>(FIRST + <usize>(L << 2)), count = load<i32>(COUNT + <usize>(L << 2)), base = load<i32>(BASE + <usize>(L << 2));
    for (let k = 0; k < count; k++) {
      const entry = <u16>((L << 8) | <i32>load<u8>(SYMBOLS + <usize>(base + k)));
      const lo = (first + k) << (FAST_BITS - L), n = 1 << (FAST_BITS - L);
      for (let j = 0; j < n; j++) store<u16>(FAST + (<usize>(lo + j) << 1), entry);
    }
  }
  return true;
}

/** Decodes `n` bytes of a Huffman stream of `len` bytes at blob offset `src` into dst. */
function decodeHuffman(src: u32, len: u32, dst: usize, n: i32): bool {
  openStream(src, len);
  let p: u32 = 0, end: u32 = 0; // position and end in STAGING
  let bits: u32 = 0, count = 0, pad = 0; // bits left-aligned; zero bytes appended past the stream's end
  for (let i = 0; i < n; i++) {
    while (count <= 24) {
      if (p == end) { end = refill(); p = 0; }
      let b: u32 = 0;
      if (p < end) { b = <u32>load<u8>(STAGING + <usize>p); p++; } else pad++;
      bits |= b << <u32>(24 - count);
      count += 8;
    }
    const fast = <i32>load<u16>(FAST + (<usize>(bits >>> <u32>(32 - FAST_BITS)) << 1));
    let L = fast >> 8, sym = fast & 0xff;
    if (L == 0) { // a code longer than FAST_BITS bits
      L = FAST_BITS + 1;
      for (; L <= HUFFMAN_MAX_BITS; L++) {
        const k = <i32>(bits >>> <u32>(32 - L)) - load<i32>(FIRST + <usize>(L << 2));
        if (k >= 0 && k < load<i32>(COUNT + <usize>(L << 2))) { sym = <i32>load<u8>(SYMBOLS + <usize>(load<i32>(BASE + <usize>(L << 2)) + k)); break; }
      }
      if (L > HUFFMAN_MAX_BITS) return false;
    }
    bits <<= <u32>L;
    count -= L;
    store<u8>(dst + <usize>i, <u8>sym);
  }
  // Every code must lie inside the stream: the zero bytes appended may not have been consumed.
  return count >= pad * 8;
}

// ---- zero-value coding: per 8 weights a bitmap byte (bit i: weight i is not zero), then those weights ----
function decodeZvc(src: u32, len: u32, dst: usize, n: i32): bool {
  openStream(src, len);
  let p: u32 = 0, end: u32 = 0;
  for (let i = 0; i < n; i += 8) {
    if (p == end) { end = refill(); p = 0; if (end == 0) return false; }
    const map = <i32>load<u8>(STAGING + <usize>p);
    p++;
    const last = min(n, i + 8);
    for (let j = i; j < last; j++) {
      let v = 0;
      if ((map >> (j - i)) & 1) {
        if (p == end) { end = refill(); p = 0; if (end == 0) return false; }
        v = <i32>load<u8>(STAGING + <usize>p);
        p++;
      }
      store<u8>(dst + <usize>j, <u8>v);
    }
  }
  return true;
}

// ---- run-length: [zeros u8][literals u8][literal bytes] tokens ----

function decodeRle(src: u32, len: u32, dst: usize, n: i32): bool {
  openStream(src, len);
  let p: u32 = 0, end: u32 = 0;
  let i = 0;
  while (i < n) {
    // The token's two header bytes may straddle two chunks.
    if (p == end) { end = refill(); p = 0; if (end == 0) return false; }
    const zeros = <i32>load<u8>(STAGING + <usize>p);
    p++;
    if (p == end) { end = refill(); p = 0; if (end == 0) return false; }
    let literals = <i32>load<u8>(STAGING + <usize>p);
    p++;
    if (zeros + literals == 0 || i + zeros + literals > n) return false;
    memory.fill(dst + <usize>i, 0, <usize>zeros);
    i += zeros;
    while (literals > 0) { // copied a chunk at a time
      if (p == end) { end = refill(); p = 0; if (end == 0) return false; }
      const k = min(<u32>literals, end - p);
      memory.copy(dst + <usize>i, STAGING + <usize>p, <usize>k);
      p += k; i += <i32>k; literals -= <i32>k;
    }
  }
  return true;
}

/** Decodes `n` weight bytes coded with `coding` (a `len`-byte stream at blob offset src) into dst. */
export function decodeWeights(coding: i32, src: u32, len: u32, dst: usize, n: i32): bool {
  if (coding == CODING_HUFFMAN) return decodeHuffman(src, len, dst, n);
  if (coding == CODING_ZVC) return decodeZvc(src, len, dst, n);
  if (coding == CODING_RLE) return decodeRle(src, len, dst, n);
  return false;
}
