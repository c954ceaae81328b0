/**
 * Deterministic randomness for the seed: a small PRNG for decisions (names, sizes,
 * shapes) and fast byte sources for file content. Same seed ⇒ same bytes.
 *
 * - `Prng`: sfc32, seeded from SHA-256 of the seed; 2^128 state, fast, good enough
 *   for fixtures (not for secrets).
 * - incompressible bytes: AES-256-CTR over zeros, keyed per file from the seed —
 *   OpenSSL does GB/s where a JS loop per byte would do MB/s.
 * - compressible text: one block of pseudo-words built once per seed; files are
 *   windows into it (views, no copies), so text costs nothing to produce and
 *   deflates like real prose (the block is far larger than deflate's 32 KiB window).
 */
import { createCipheriv, createHash } from "node:crypto";

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string | number, stream = "") {
    const digest = createHash("sha256").update(`${seed}\u0000${stream}`).digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  hex(length: number): string {
    let out = "";
    while (out.length < length) out += this.nextUint32().toString(16).padStart(8, "0");
    return out.slice(0, length);
  }

  /** Standard normal (Box–Muller). */
  gaussian(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

export const CHUNK_BYTES = 256 * 1024;

/** `size` incompressible bytes in chunks, the same for the same (seed, fileKey). */
export function* randomBytes(seed: string | number, fileKey: string, size: number): Generator<Buffer> {
  const keyMaterial = createHash("sha256").update(`${seed}\u0000bytes\u0000${fileKey}`).digest();
  const cipher = createCipheriv("aes-256-ctr", keyMaterial, Buffer.alloc(16));
  // One zero chunk for every file and call: the cipher reads it, never writes it.
  const zeros = ZERO_CHUNK;
  for (let done = 0; done < size; ) {
    const n = Math.min(CHUNK_BYTES, size - done);
    yield cipher.update(n === CHUNK_BYTES ? zeros : zeros.subarray(0, n));
    done += n;
  }
}

const ZERO_CHUNK = Buffer.alloc(CHUNK_BYTES);

const SYLLABLES = [
  "per",
  "so",
  "ni",
  "um",
  "cell",
  "box",
  "da",
  "ta",
  "ex",
  "port",
  "im",
  "sna",
  "shot",
  "ro",
  "le",
  "ac",
  "count",
  "mes",
  "sage",
  "link",
  "fi",
  "le",
  "tree",
  "col",
  "lec",
  "tion",
  "pro",
  "pe",
  "rty",
  "na",
  "me",
  "va",
  "lue",
  "in",
  "to",
  "the",
  "and",
  "of",
  "for",
  "with",
  "on",
  "at",
  "by",
];

/** A block of text-like bytes: pseudo-words, punctuation, line breaks. */
export function textBlock(prng: Prng, size: number): Buffer {
  const parts: string[] = [];
  let length = 0;
  let wordsInLine = 0;
  while (length < size) {
    let word = "";
    const syllables = prng.int(1, 4);
    for (let i = 0; i < syllables; i++) word += prng.pick(SYLLABLES);
    wordsInLine++;
    const end = wordsInLine > prng.int(8, 16) ? ".\n" : prng.next() < 0.08 ? ", " : " ";
    if (end === ".\n") wordsInLine = 0;
    parts.push(word, end);
    length += word.length + end.length;
  }
  return Buffer.from(parts.join(""), "latin1").subarray(0, size);
}

/** `size` bytes of `block` starting at `offset`, wrapping around: views, never copies. */
export function* textBytes(block: Buffer, offset: number, size: number): Generator<Buffer> {
  let position = offset % block.length;
  for (let done = 0; done < size; ) {
    const n = Math.min(CHUNK_BYTES, size - done, block.length - position);
    yield block.subarray(position, position + n);
    done += n;
    position = (position + n) % block.length;
  }
}
