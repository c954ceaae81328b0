/**
 * Test helpers for "nothing was written where it should not be": the state of every
 * path under a directory, and the paths whose state changed between two readings.
 */
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

/**
 * Every path under `root` (relative, `/`-separated) → what identifies its state:
 * files by size and mtime, links as links, directories only by existing (a
 * directory's own mtime changes with every temp file made and removed in it).
 * Entries that vanish while being read are skipped.
 */
export async function treeState(root: string): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const full = path.join(dir, name);
      const info = await lstat(full).catch(() => null);
      if (!info) continue;
      const key = path.relative(root, full).split(path.sep).join("/");
      if (info.isDirectory()) {
        state.set(key, "dir");
        await walk(full);
      } else {
        state.set(key, info.isSymbolicLink() ? "link" : `file ${info.size} ${info.mtimeMs}`);
      }
    }
  }
  await walk(root);
  return state;
}

/** Paths added, removed or changed between two `treeState` readings, sorted. */
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [key, state] of after) if (before.get(key) !== state) changed.add(key);
  for (const key of before.keys()) if (!after.has(key)) changed.add(key);
  return [...changed].sort();
}
