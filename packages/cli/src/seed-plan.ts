/**
 * The seed's plan: every decision (ids, times, tree shape, file names, sizes,
 * text or binary) made up front from the PRNG, so the same options always give the
 * same cell, whatever order the writes later finish in.
 */
import { MAIN_BOX_DIR } from "@cellport/shared";
import { Prng } from "./seed-random.ts";

export interface PlanOptions {
  cell: string;
  boxes: number;
  files: number;
  totalBytes: number;
  textRatio: number;
  seed: string | number;
}

export interface PlannedCollection {
  /** Tree path, e.g. `__/photos-3`; a box root is its box dir (`__` or the box id). */
  path: string;
  type: "col.box" | "col.webdav" | "col.odata";
  nodeId: string;
  time: number;
}

export interface PlannedFile {
  index: number;
  path: string;
  size: number;
  text: boolean;
  contentType: string;
  nodeId: string;
  time: number;
  /** Where this file's window into the shared text block starts. */
  textOffset: number;
}

export interface SeedPlan {
  cellId: string;
  baseTime: number;
  /** Ids of the boxes besides the main box (their directory names). */
  boxIds: string[];
  odataNodeId: string;
  /** Parents before children. */
  collections: PlannedCollection[];
  files: PlannedFile[];
  textBytes: number;
}

const DIR_WORDS = [
  "docs",
  "photos",
  "music",
  "notes",
  "archive",
  "2023",
  "2024",
  "shared",
  "inbox",
  "backup",
  "work",
];
const TEXT_KINDS = [
  { ext: "txt", type: "text/plain" },
  { ext: "json", type: "application/json" },
  { ext: "md", type: "text/markdown" },
  { ext: "csv", type: "text/csv" },
];
const BINARY_KINDS = [
  { ext: "jpg", type: "image/jpeg" },
  { ext: "png", type: "image/png" },
  { ext: "mp3", type: "audio/mpeg" },
  { ext: "bin", type: "application/octet-stream" },
];
const MAX_DEPTH = 4;

/** Sizes from a log-normal spread (a few big files, many small), summing to exactly `total`. */
function fileSizes(prng: Prng, count: number, total: number): number[] {
  if (count === 0) return [];
  const weights = Array.from({ length: count }, () => Math.exp(1.5 * prng.gaussian()));
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.floor((total * w) / sum));
  let remainder = total - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; remainder > 0; i = (i + 1) % count, remainder--) sizes[i] = (sizes[i] ?? 0) + 1;
  return sizes;
}

export function planSeed(options: PlanOptions): SeedPlan {
  const prng = new Prng(options.seed, "plan");
  const baseTime = 1_600_000_000_000 + prng.int(0, 100_000_000_000);
  const cellId = prng.hex(32);
  const boxIds = Array.from({ length: options.boxes }, () => prng.hex(32));
  const roots = [MAIN_BOX_DIR, ...boxIds];
  const time = () => baseTime + prng.int(0, 30 * 86_400_000);

  // Main box first (Personium: its id is the cell id), each box root, one OData collection.
  const collections: PlannedCollection[] = roots.map((root, i) => ({
    path: root,
    type: "col.box" as const,
    nodeId: i === 0 ? cellId : (boxIds[i - 1] as string),
    time: baseTime,
  }));
  const odataNodeId = prng.hex(32);
  collections.push({ path: `${MAIN_BOX_DIR}/odata`, type: "col.odata", nodeId: odataNodeId, time: baseTime });

  // About one collection per eight files; half the tree under the main box.
  const pickRoot = () => (prng.next() < 0.5 || roots.length === 1 ? MAIN_BOX_DIR : prng.pick(boxIds));
  const webdavCollections: string[] = [...roots];
  // Per root, the collections that may still get children (depth limit).
  const parents = new Map<string, string[]>(roots.map((root) => [root, [root]]));
  const collectionCount = Math.max(1, Math.ceil(options.files / 8));
  for (let i = 0; i < collectionCount; i++) {
    const root = pickRoot();
    const candidates = parents.get(root) as string[];
    const parent = prng.pick(candidates);
    const collectionPath = `${parent}/${prng.pick(DIR_WORDS)}-${i}`;
    webdavCollections.push(collectionPath);
    if (collectionPath.split("/").length < MAX_DEPTH) candidates.push(collectionPath);
    collections.push({ path: collectionPath, type: "col.webdav", nodeId: prng.hex(32), time: time() });
  }

  const sizes = fileSizes(prng, options.files, options.totalBytes);
  const textTarget = options.textRatio * options.totalBytes;
  let textBytes = 0;
  const files: PlannedFile[] = sizes.map((size, index) => {
    // Greedy: a file is text while that keeps the text share nearest the requested ratio.
    const text = textBytes + size / 2 <= textTarget;
    if (text) textBytes += size;
    const kind = prng.pick(text ? TEXT_KINDS : BINARY_KINDS);
    const parent = prng.pick(webdavCollections);
    return {
      index,
      path: `${parent}/file-${String(index).padStart(6, "0")}.${kind.ext}`,
      size,
      text,
      contentType: kind.type,
      nodeId: prng.hex(32),
      time: time(),
      textOffset: prng.int(0, 1 << 30),
    };
  });
  return { cellId, baseTime, boxIds, odataNodeId, collections, files, textBytes };
}
