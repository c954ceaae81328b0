import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileSink } from "./file-sink.ts";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cellport-sink-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function chunks(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i % 251));
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

describe("FileSink", () => {
  it("holds a zip smaller than one batch instead of writing it, and counts and hashes it", async () => {
    const parts = chunks(300, 100);
    // A stopped clock: only the batch size decides.
    const sink = new FileSink(path.join(dir, "small"), { now: () => 0 });
    await pipeline(Readable.from(parts), sink);
    expect(sink.held?.equals(Buffer.concat(parts))).toBe(true);
    expect(sink.batchesWritten).toBe(0);
    // Not even created: the commit writes it.
    expect(existsSync(path.join(dir, "small"))).toBe(false);
    expect(sink.bytes).toBe(30_000);
    expect(sink.digest()).toBe(sha256(Buffer.concat(parts)));
  });

  it("writes one batch with one write, and holds nothing once it has written", async () => {
    const parts = chunks(300, 100);
    const sink = new FileSink(path.join(dir, "one"), { batchBytes: 30_000, now: () => 0 });
    await pipeline(Readable.from(parts), sink);
    const written = await readFile(path.join(dir, "one"));
    expect(written.equals(Buffer.concat(parts))).toBe(true);
    expect(sink.batchesWritten).toBe(1);
    expect(sink.held).toBeUndefined();
    expect(sink.digest()).toBe(sha256(written));
  });

  it("writes a big stream in batches of at least batchBytes", async () => {
    const parts = chunks(1000, 100);
    const sink = new FileSink(path.join(dir, "big"), { batchBytes: 8192, now: () => 0 });
    await pipeline(Readable.from(parts), sink);
    expect((await readFile(path.join(dir, "big"))).equals(Buffer.concat(parts))).toBe(true);
    // 100_000 bytes: twelve full batches of 8200 bytes, and the rest at the end.
    expect(sink.batchesWritten).toBe(13);
  });

  it("writes what it holds once it has waited maxDelayMs, full batch or not", async () => {
    let clock = 0;
    const sink = new FileSink(path.join(dir, "slow"), { maxDelayMs: 1000, now: () => clock });
    const write = (data: Buffer) =>
      new Promise<void>((resolve, reject) =>
        sink.write(data, (error) => (error ? reject(error) : resolve())),
      );
    for (const part of chunks(5, 100)) await write(part);
    expect(sink.batchesWritten).toBe(0);
    clock = 1000;
    await write(Buffer.alloc(100, 7));
    expect(sink.batchesWritten).toBe(1);
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(sink.batchesWritten).toBe(1);
    expect((await readFile(path.join(dir, "slow"))).length).toBe(600);
  });

  it("fails when its file cannot be opened", async () => {
    const sink = new FileSink(path.join(dir, "missing", "file"), { batchBytes: 10 });
    await expect(pipeline(Readable.from(chunks(3, 10)), sink)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it.skipIf(!existsSync("/proc/self/fd"))(
    "closes its file when destroyed, even with a write in flight",
    async () => {
      const before = (await readdir("/proc/self/fd")).length;
      const sink = new FileSink(path.join(dir, "cut"), { batchBytes: 1024 });
      const source = new Readable({ read() {} });
      const done = pipeline(source, sink);
      for (const part of chunks(50, 1000)) source.push(part);
      await new Promise((resolve) => setImmediate(resolve));
      source.destroy(new Error("cancelled"));
      await expect(done).rejects.toThrow("cancelled");
      if (!sink.closed) await new Promise((resolve) => sink.once("close", resolve));
      expect((await readdir("/proc/self/fd")).length).toBe(before);
    },
  );
});
