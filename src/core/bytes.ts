/**
 * Canonical binary encoding. Everything that is hashed or signed goes through these two
 * classes: big-endian integers, length-prefixed byte strings and arrays, no JSON (protocols.md
 * §3.2). A Reader never reads past its end: a short or over-long input throws
 * InvalidMessageError, so untrusted frames fail closed.
 */
import { InvalidMessageError } from './errors.js';

const U64_MAX = (1n << 64n) - 1n;
const TEXT = new TextEncoder();
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Appends canonical fields to a growing buffer. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** One unsigned byte. */
  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.len, checkUint(v, 0xff));
    this.len += 1;
    return this;
  }

  /** Unsigned 16-bit, big-endian. */
  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.len, checkUint(v, 0xffff));
    this.len += 2;
    return this;
  }

  /** Unsigned 32-bit, big-endian. */
  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.len, checkUint(v, 0xffffffff));
    this.len += 4;
    return this;
  }

  /** Unsigned 64-bit, big-endian, from a bigint in [0, 2^64). */
  u64(v: bigint): this {
    if (v < 0n || v > U64_MAX) throw new RangeError(`u64 out of range: ${v}`);
    this.ensure(8);
    this.view.setBigUint64(this.len, v);
    this.len += 8;
    return this;
  }

  /** Raw bytes, no length prefix (fixed-size fields such as hashes). */
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Bytes with a u32 length prefix. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** A UTF-8 string with a u32 byte-length prefix. */
  string(s: string): this {
    // Ids and tags are ASCII: write them directly instead of allocating an encoded copy.
    if (!isAscii(s)) return this.bytes(TEXT.encode(s));
    this.u32(s.length);
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len + i] = s.charCodeAt(i);
    this.len += s.length;
    return this;
  }

  /** The bytes written so far (a copy-free view). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** Reads canonical fields from untrusted bytes; every read is bounds-checked. */
export class Reader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'message',
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    this.need(1);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  /** Exactly n raw bytes (a view into the input). */
  raw(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Length-prefixed bytes; the prefix may not exceed `max` nor what is left. */
  bytes(max = this.remaining): Uint8Array {
    const n = this.u32();
    if (n > max) throw new InvalidMessageError(`${this.what}: field of ${n} bytes exceeds ${max}`);
    return this.raw(n);
  }

  /** A length-prefixed UTF-8 string; invalid UTF-8 is refused. */
  string(maxBytes = 1024): string {
    const b = this.bytes(maxBytes);
    if (b.length <= 256 && b.every((c) => c < 0x80)) return String.fromCharCode(...b);
    try {
      return UTF8.decode(b);
    } catch {
      throw new InvalidMessageError(`${this.what}: string field is not valid UTF-8`);
    }
  }

  /** Asserts that the whole input was consumed (no trailing garbage). */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new InvalidMessageError(`${this.what}: ${this.remaining} trailing bytes`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new InvalidMessageError(
        `${this.what}: truncated (needs ${n} more bytes at ${this.pos})`,
      );
    }
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function checkUint(v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`uint out of range: ${v}`);
  return v;
}

/** Byte-wise comparison, for canonical ordering. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** True when both byte strings are equal. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Concatenates byte strings. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return TEXT.encode(s);
}
