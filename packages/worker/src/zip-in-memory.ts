/**
 * A small zip built in one synchronous call, byte for byte the zip yazl makes when
 * every entry is given as a buffer (`addBuffer` / `addEmptyDirectory`, sizes and
 * CRC known up front: no data descriptors) — the test compares the two.
 *
 * For a cell whose whole content came with the store's listing, yazl's stream
 * machinery (a ZipFile, its output stream and the pipeline to the file, a zlib
 * context in the thread pool per deflated entry, a turn of the event loop per entry)
 * was most of what exporting it cost; this builds the same bytes with none of it.
 * Only for small zips (the caller bounds the bytes and the entry count): the work is
 * done on the caller's thread, in one go.
 */
import { crc32, deflateRawSync } from "node:zlib";

export interface InMemoryZipEntry {
  /** Zip entry name; a directory's ends with "/" (added when missing). */
  name: string;
  mtime: Date;
  directory: boolean;
  /** A file's content (ignored for a directory). */
  data?: Buffer;
  /** 0 stores the data; 1–9 deflates it at that level. */
  compressionLevel?: number;
}

const LOCAL_HEADER_BYTES = 30;
const CENTRAL_RECORD_BYTES = 46;
/** Info-ZIP universal timestamp extra field (mtime), as yazl writes it in the central directory. */
const TIMESTAMP_FIELD_BYTES = 9;
const END_RECORD_BYTES = 22;
const VERSION_NEEDED = 20;
const VERSION_MADE_BY = (3 << 8) | 63;
const FLAG_UTF8_NAME = 1 << 11;
const FILE_MODE = 0o100664;
const DIRECTORY_MODE = 0o40775;

/** The most entries a zip without zip64's records holds (as yazl counts: zip64 from 0xffff on). */
const MAX_ENTRIES = 0xfffe;

interface Prepared {
  name: Buffer;
  crc: number;
  size: number;
  body: Buffer;
  method: number;
  mode: number;
  dosTime: number;
  dosDate: number;
  unixSeconds: number;
  offset: number;
}

/** The zip of `entries`, in order, with an optional archive comment (printable ASCII). */
export function zipInMemory(entries: readonly InMemoryZipEntry[], comment = ""): Buffer {
  if (entries.length > MAX_ENTRIES) throw new Error(`too many entries: ${entries.length}`);
  if (!isPlainAsciiComment(comment)) throw new Error("the comment must be printable ASCII");
  let offset = 0;
  const prepared = entries.map((entry): Prepared => {
    const name = Buffer.from(entry.directory && !entry.name.endsWith("/") ? `${entry.name}/` : entry.name);
    const data = entry.directory ? EMPTY : (entry.data ?? EMPTY);
    const level = entry.directory ? 0 : (entry.compressionLevel ?? 6);
    const body = level === 0 ? data : deflateRawSync(data, { level });
    const { time, date } = dosDateTime(entry.mtime);
    const item: Prepared = {
      name,
      crc: data.length === 0 ? 0 : crc32(data),
      size: data.length,
      body,
      method: level === 0 ? 0 : 8,
      mode: entry.directory ? DIRECTORY_MODE : FILE_MODE,
      dosTime: time,
      dosDate: date,
      unixSeconds: clampToInt32(Math.floor(entry.mtime.getTime() / 1000)),
      offset,
    };
    offset += LOCAL_HEADER_BYTES + name.length + body.length;
    return item;
  });
  const centralStart = offset;
  const centralBytes = prepared.reduce(
    (sum, item) => sum + CENTRAL_RECORD_BYTES + item.name.length + TIMESTAMP_FIELD_BYTES,
    0,
  );
  if (centralStart + centralBytes > 0xfffffffe) throw new Error("too big for a zip without zip64");
  const zip = Buffer.alloc(centralStart + centralBytes + END_RECORD_BYTES + comment.length);

  for (const item of prepared) {
    let at = zip.writeUInt32LE(0x04034b50, item.offset);
    at = writeSharedFields(zip, at, item);
    at = zip.writeUInt16LE(0, at); // extra field length
    at += item.name.copy(zip, at);
    item.body.copy(zip, at);
  }

  let at = centralStart;
  for (const item of prepared) {
    at = zip.writeUInt32LE(0x02014b50, at);
    at = zip.writeUInt16LE(VERSION_MADE_BY, at);
    at = writeSharedFields(zip, at, item);
    at = zip.writeUInt16LE(TIMESTAMP_FIELD_BYTES, at);
    at = zip.writeUInt16LE(0, at); // comment length
    at = zip.writeUInt16LE(0, at); // disk number
    at = zip.writeUInt16LE(0, at); // internal attributes
    at = zip.writeUInt32LE((item.mode << 16) >>> 0, at);
    at = zip.writeUInt32LE(item.offset, at);
    at += item.name.copy(zip, at);
    // Universal timestamp: tag, data size, flags (mtime and atime set, only mtime given), mtime.
    at = zip.writeUInt16LE(0x5455, at);
    at = zip.writeUInt16LE(TIMESTAMP_FIELD_BYTES - 4, at);
    at = zip.writeUInt8(0b11, at);
    at = zip.writeInt32LE(item.unixSeconds, at);
  }

  at = zip.writeUInt32LE(0x06054b50, at);
  at = zip.writeUInt16LE(0, at);
  at = zip.writeUInt16LE(0, at);
  at = zip.writeUInt16LE(prepared.length, at);
  at = zip.writeUInt16LE(prepared.length, at);
  at = zip.writeUInt32LE(centralBytes, at);
  at = zip.writeUInt32LE(centralStart, at);
  at = zip.writeUInt16LE(comment.length, at);
  zip.write(comment, at, "latin1");
  return zip;
}

/**
 * The fields a local header and a central-directory record share, in the same order:
 * version needed, flags, method, time, date, CRC-32, sizes, name length.
 */
function writeSharedFields(zip: Buffer, at: number, item: Prepared): number {
  let next = zip.writeUInt16LE(VERSION_NEEDED, at);
  next = zip.writeUInt16LE(FLAG_UTF8_NAME, next);
  next = zip.writeUInt16LE(item.method, next);
  next = zip.writeUInt16LE(item.dosTime, next);
  next = zip.writeUInt16LE(item.dosDate, next);
  next = zip.writeUInt32LE(item.crc, next);
  next = zip.writeUInt32LE(item.body.length, next);
  next = zip.writeUInt32LE(item.size, next);
  return zip.writeUInt16LE(item.name.length, next);
}

/** A comment yazl would write as it is (it encodes any other in CP437). */
export function isPlainAsciiComment(comment: string): boolean {
  return /^[\x20-\x7e]*$/.test(comment);
}

const EMPTY = Buffer.alloc(0);

const MIN_DOS_DATE = new Date(1980, 0, 1);
const MAX_DOS_DATE = new Date(2107, 11, 31, 23, 59, 58);

/** MS-DOS date and time fields, in local time, two-second resolution (as yazl computes them). */
function dosDateTime(mtime: Date): { time: number; date: number } {
  const at = mtime < MIN_DOS_DATE ? MIN_DOS_DATE : mtime > MAX_DOS_DATE ? MAX_DOS_DATE : mtime;
  return {
    date:
      (at.getDate() & 0x1f) | (((at.getMonth() + 1) & 0xf) << 5) | (((at.getFullYear() - 1980) & 0x7f) << 9),
    time: Math.floor(at.getSeconds() / 2) | ((at.getMinutes() & 0x3f) << 5) | ((at.getHours() & 0x1f) << 11),
  };
}

/** yazl's range for the universal timestamp (1901-12-13 … 2038-01-19). */
function clampToInt32(seconds: number): number {
  return Math.min(0x7fffffff, Math.max(-0x80000000, seconds));
}
