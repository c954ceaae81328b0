import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { StoreThread } from "./store-thread.ts";
import {
  decodeTreeChunk,
  encodeTreeChunk,
  type TreeEntry,
  type WalkRequest,
} from "./store-thread-protocol.ts";

let root: string;
const thread = new StoreThread();
const limits = { maxFileBytes: 16, budgetBytes: 20 };

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "listing-"));
  await mkdir(path.join(root, "tree", "b", "c"), { recursive: true });
  await mkdir(path.join(root, "tree", "skip"));
  await writeFile(path.join(root, "tree", "z.txt"), "zzzzzzzzzz");
  await writeFile(path.join(root, "tree", "a.txt"), "aaaaaaaaaa");
  await writeFile(path.join(root, "tree", "b", "big.bin"), "x".repeat(100));
  await writeFile(path.join(root, "tree", "b", "c", "d.txt"), "dddddddddd");
  await writeFile(path.join(root, "one.txt"), "1");
});

afterAll(async () => {
  thread.close();
  await rm(root, { recursive: true, force: true });
});

it("lists depth first, files before subdirectories, and brings small files' content within the budget", async () => {
  const { stats, tree } = await walkAll({
    stat: [path.join(root, "one.txt"), path.join(root, "nothing"), path.join(root, "tree")],
    walk: { root: path.join(root, "tree"), excludeAtRoot: ["skip"] },
    prefetch: limits,
  });
  expect(
    stats.map((s) => s && { size: s.size, directory: s.directory, data: s.data && text(s.data) }),
  ).toEqual([{ size: 1, directory: false, data: "1" }, null, { size: 0, directory: true, data: undefined }]);
  expect(tree.map((e) => [e.relative, e.size, e.data && text(e.data)])).toEqual([
    // 1 byte spent on one.txt, 10 on a.txt: z.txt (10) no longer fits in 20.
    ["a.txt", 10, "aaaaaaaaaa"],
    ["z.txt", 10, undefined],
    ["b/", 0, undefined],
    ["b/big.bin", 100, undefined],
    ["b/c/", 0, undefined],
    ["b/c/d.txt", 10, undefined],
  ]);
});

it("lists several directories at once: names, or null for one that does not exist", async () => {
  const names = await thread.list([
    path.join(root, "tree", "b"),
    path.join(root, "nothing"),
    path.join(root, "one.txt"),
  ]);
  expect(names.map((n) => n?.sort() ?? null)).toEqual([["big.bin", "c"], null, null]);
});

it("rejects with the file system's error code, and keeps serving", async () => {
  await expect(
    walkAll({ stat: [], walk: { root: path.join(root, "gone"), excludeAtRoot: [] }, prefetch: limits }),
  ).rejects.toMatchObject({ code: "ENOENT" });
  const { tree } = await walkAll({
    stat: [],
    walk: { root: path.join(root, "tree", "b", "c"), excludeAtRoot: [] },
    prefetch: limits,
  });
  expect(tree.map((e) => e.relative)).toEqual(["d.txt"]);
});

it("fails a waiting request when its thread stops, and starts another for the next", async () => {
  // Stopped before the thread can answer (close() fails what waits, synchronously).
  const waiting = walkAll({
    stat: [],
    walk: { root: path.join(root, "tree"), excludeAtRoot: [] },
    prefetch: limits,
  });
  thread.close();
  await expect(waiting).rejects.toThrow(/thread was stopped/);
  const { tree } = await walkAll({
    stat: [],
    walk: { root: path.join(root, "tree", "b", "c"), excludeAtRoot: [] },
    prefetch: limits,
  });
  expect(tree.map((e) => e.relative)).toEqual(["d.txt"]);
});

/** The whole listing at once. */
async function walkAll(request: Omit<WalkRequest, "id" | "kind">) {
  const tree: TreeEntry[] = [];
  const { stats } = await thread.walk(request, (entry) => tree.push(entry));
  return { stats, tree };
}

it("encodes a listing's part column by column and decodes it back, content included", () => {
  const entries: TreeEntry[] = [
    {
      relative: "a b\nc.txt",
      size: 3,
      mtimeMs: 1.5,
      directory: false,
      data: new Uint8Array([1, 2, 3]).buffer,
    },
    { relative: "d/", size: 0, mtimeMs: 2, directory: true },
    { relative: "d/big", size: 1e12, mtimeMs: 3, directory: false },
    { relative: "d/e", size: 1, mtimeMs: 4, directory: false, data: new Uint8Array([9]).buffer },
  ];
  const decoded: TreeEntry[] = [];
  decodeTreeChunk(encodeTreeChunk(entries), (entry) => decoded.push(entry));
  expect(decoded).toEqual(entries);
  decodeTreeChunk(encodeTreeChunk([]), (entry) => decoded.push(entry));
  expect(decoded).toHaveLength(4);
});

function text(data: ArrayBuffer): string {
  return Buffer.from(data).toString();
}
