/**
 * Name and path validation: every cell name, tree path and snapshot file name passes
 * here before it touches the file system. `resolveInside` is the second line of
 * defence: whatever slipped through, the final path must stay under its root.
 */
import path from "node:path";
import { EXCLUDED_TREE_NAMES, isSafeFileName, isValidCellName } from "@cellport/shared";
import { InvalidNameError, InvalidPathError } from "./errors.ts";
import { CONTENT_FILE, META_FILE, SNAPSHOT_META_DIR, SNAPSHOT_TMP_DIR } from "./fs-layout.ts";

/** Most file systems cap one name at 255 bytes, not 255 characters. */
const MAX_NAME_BYTES = 255;

export function assertCellName(name: string): void {
  if (typeof name !== "string" || !isValidCellName(name)) {
    throw new InvalidNameError(
      `Expected a cell name matching ^[a-z0-9][a-z0-9-]{0,127}$, got ${describe(name)}`,
    );
  }
}

function isSafeSegment(segment: string): boolean {
  return isSafeFileName(segment) && Buffer.byteLength(segment) <= MAX_NAME_BYTES;
}

/**
 * Splits a tree path (`__/docs/a.txt`) into resource names. Refused: empty paths,
 * absolute paths, backslashes, NUL and control characters, empty / `.` / `..`
 * segments, `.pmeta` anywhere (it is each resource's metadata file, as in
 * Personium's DavMetadataFile), and `.pkeys` / `.pauthhistory` as the first segment
 * (the cell's keys and auth history live there, never a box).
 *
 * `content` is allowed as a resource name: in this layout (Personium's) a child is
 * always a sub-*directory* and only a file resource holds a regular file `content`;
 * a file resource cannot have children, so the two never meet in one directory.
 *
 * One trailing slash is tolerated (`__/docs/` names the collection `__/docs`).
 */
export function parseTreePath(treePath: string): string[] {
  if (typeof treePath !== "string" || treePath.length === 0) {
    throw new InvalidPathError(`Expected a tree path like "__/docs/a.txt", got ${describe(treePath)}`);
  }
  if (treePath.startsWith("/") || path.isAbsolute(treePath)) {
    throw new InvalidPathError(`Expected a relative tree path, got the absolute path ${describe(treePath)}`);
  }
  const trimmed = treePath.endsWith("/") ? treePath.slice(0, -1) : treePath;
  const segments = trimmed.split("/");
  for (const segment of segments) {
    if (!isSafeSegment(segment)) {
      throw new InvalidPathError(
        `Expected path segments without "..", ".", backslash, NUL or control characters, got ${describe(treePath)}`,
      );
    }
    if (segment === META_FILE) {
      throw new InvalidPathError(
        `"${META_FILE}" is reserved for resource metadata, got ${describe(treePath)}`,
      );
    }
  }
  const first = segments[0] ?? "";
  if (EXCLUDED_TREE_NAMES.has(first)) {
    throw new InvalidPathError(
      `"${first}" is reserved for the cell's internal data, got ${describe(treePath)}`,
    );
  }
  return segments;
}

/**
 * A file of a staged import tree, by its path inside `20_webdav/`: resource
 * directories followed by `.pmeta` or `content`. Returns the resource segments (may
 * be empty: the cell's own `.pmeta` at the tree root) and the file name.
 */
export function parseTreeFilePath(relativePath: string): { resource: string[]; file: string } {
  if (typeof relativePath !== "string" || relativePath.length === 0) {
    throw new InvalidPathError(
      `Expected a tree file path like "__/docs/.pmeta", got ${describe(relativePath)}`,
    );
  }
  const slash = relativePath.lastIndexOf("/");
  const file = relativePath.slice(slash + 1);
  if (file !== META_FILE && file !== CONTENT_FILE) {
    throw new InvalidPathError(
      `Expected a tree file named "${META_FILE}" or "${CONTENT_FILE}", got ${describe(relativePath)}`,
    );
  }
  if (slash === -1) {
    if (file === CONTENT_FILE)
      throw new InvalidPathError(`The tree root holds no content, got "${relativePath}"`);
    return { resource: [], file };
  }
  const resourcePath = relativePath.slice(0, slash);
  if (resourcePath.endsWith("/"))
    throw new InvalidPathError(`Empty path segment in ${describe(relativePath)}`);
  return { resource: parseTreePath(resourcePath), file };
}

/**
 * A file name in the snapshot area. The two hidden directories that hold sidecar
 * metadata and temp files are the only names refused beyond `isSafeFileName`.
 */
export function assertSnapshotFileName(name: string): void {
  if (typeof name !== "string" || !isSafeSegment(name)) {
    throw new InvalidNameError(
      `Expected a snapshot file name (one segment, no "..", "/", "\\", NUL or control characters), got ${describe(name)}`,
    );
  }
  if (name === SNAPSHOT_META_DIR || name === SNAPSHOT_TMP_DIR) {
    throw new InvalidNameError(`"${name}" is reserved in the snapshot area`);
  }
}

/** Joins validated segments under `root` and asserts the result is still inside it. */
export function resolveInside(root: string, segments: readonly string[]): string {
  const resolvedRoot = path.resolve(root);
  const target = path.resolve(resolvedRoot, ...segments);
  if (target !== resolvedRoot && !target.startsWith(resolvedRoot + path.sep)) {
    throw new InvalidPathError(`Path escapes its root: ${describe(segments.join("/"))}`);
  }
  return target;
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : `a ${typeof value}`;
}
