/**
 * Where an archive's bytes come from. A local path is read through yauzl's own file
 * reader. Anything else — in practice the store's snapshot area, whose port serves
 * byte ranges but (rightly) no file paths — is a `RangeSource`, read through a
 * yauzl RandomAccessReader.
 *
 * yauzl reads the zip's small structures (end record, central directory, each local
 * header) with many tiny `read()` calls, most of them close to the previous one. One
 * range request per call would mean one file open per call; so reads are served
 * from a few cached windows read ahead sequentially, and entry data that falls inside
 * a window (small files, the common case) costs no request at all.
 */
import { PassThrough, Readable } from "node:stream";
import {
  fromRandomAccessReaderPromise,
  type Options,
  openPromise,
  RandomAccessReader,
  type ZipFile,
} from "yauzl";

export interface RangeSource {
  /** The archive's size in bytes. */
  readonly size: number;
  /** The bytes `start` (inclusive) to `end` (exclusive). */
  openRange(start: number, end: number): Promise<Readable>;
}

/** A local file path, or a range source (see `snapshotAreaSource`). */
export type SnapshotSource = string | RangeSource;

/** The part of the store's `SnapshotArea` port this package reads through (structural: no store dependency). */
export interface SnapshotFiles {
  stat(cell: string, name: string): Promise<{ size: number } | null>;
  /** `range` is inclusive. */
  open(cell: string, name: string, range?: { start: number; end: number }): Promise<{ stream: Readable }>;
}

/** `{name}` of the cell's snapshot area as a range source, or null when there is no such file. */
export async function snapshotAreaSource(
  area: SnapshotFiles,
  cell: string,
  name: string,
): Promise<RangeSource | null> {
  const stat = await area.stat(cell, name);
  if (!stat) return null;
  return {
    size: stat.size,
    async openRange(start, end) {
      return (await area.open(cell, name, { start, end: end - 1 })).stream;
    },
  };
}

export function openZip(source: SnapshotSource, options: Options): Promise<ZipFile> {
  if (typeof source === "string") return openPromise(source, options);
  return fromRandomAccessReaderPromise(new WindowedReader(source), source.size, options);
}

const WINDOW_BYTES = 256 * 1024;
/** The central directory and the entry being read are far apart: keep a window for each, and some slack. */
const WINDOW_COUNT = 4;

interface Window {
  start: number;
  data: Buffer;
}

class WindowedReader extends RandomAccessReader {
  private windows: Window[] = [];

  constructor(private readonly source: RangeSource) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const cached = this.cached(start, end);
    if (cached) return Readable.from([cached], { objectMode: false });
    const out = new PassThrough();
    this.source.openRange(start, end).then(
      (stream) => {
        if (out.destroyed) {
          stream.destroy();
          return;
        }
        stream.once("error", (error) => out.destroy(error));
        out.once("close", () => stream.destroy());
        stream.pipe(out);
      },
      (error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return out;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    const cached = this.cached(position, position + length);
    if (cached) {
      cached.copy(buffer, offset);
      setImmediate(callback, null, length);
      return;
    }
    const end = Math.min(this.source.size, Math.max(position + length, position + WINDOW_BYTES));
    this.fetch(position, end).then(
      (data) => {
        this.windows.push({ start: position, data });
        if (this.windows.length > WINDOW_COUNT) this.windows.shift();
        const n = Math.max(0, Math.min(length, data.length));
        data.copy(buffer, offset, 0, n);
        // Fewer bytes than asked (a file that shrank) makes yauzl report "unexpected EOF".
        callback(null, n);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private cached(start: number, end: number): Buffer | null {
    for (const window of this.windows) {
      if (start >= window.start && end <= window.start + window.data.length) {
        return window.data.subarray(start - window.start, end - window.start);
      }
    }
    return null;
  }

  private async fetch(start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const chunk of await this.source.openRange(start, end)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}
