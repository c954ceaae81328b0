/**
 * Request path → main-box tree path (`/c1/__/docs/a%20b.txt` → `__/docs/a b.txt`).
 * Works on the raw, still-encoded path and decodes each segment itself, so an
 * encoded `/` (`%2F`), backslash (`%5C`), NUL (`%00`) or dot segment (`%2e%2e`)
 * can never become a separator or a traversal; double slashes are refused too.
 * The store validates the result again (defence in depth).
 */
import { isSafeFileName, MAIN_BOX_DIR, PersoniumError } from "@cellport/shared";

export interface BoxPath {
  /** Store path, e.g. `__` or `__/docs/a.txt`. */
  treePath: string;
  /** Decoded names below the box root. */
  segments: string[];
  isRoot: boolean;
}

const MAX_SEGMENT_BYTES = 255;

export function decodeSegment(raw: string): string | null {
  try {
    const decoded = decodeURIComponent(raw);
    return isSafeFileName(decoded) && Buffer.byteLength(decoded) <= MAX_SEGMENT_BYTES ? decoded : null;
  } catch {
    return null;
  }
}

/** Throws 400 PR400-DV-9001 naming the raw path for anything but clean segments. */
export function boxPathOf(rawPath: string, cell: string): BoxPath {
  const prefix = `/${cell}/${MAIN_BOX_DIR}`;
  const invalid = () => new PersoniumError("PR400-DV-9001", [rawPath]);
  if (!rawPath.startsWith(prefix)) throw invalid();
  const rest = rawPath.slice(prefix.length);
  if (rest !== "" && !rest.startsWith("/")) throw invalid();
  const parts = rest === "" ? [] : rest.slice(1).split("/");
  // One trailing slash names the same resource (`__/docs/` is the collection `__/docs`).
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  const segments: string[] = [];
  for (const part of parts) {
    const decoded = part === "" ? null : decodeSegment(part);
    if (decoded === null) throw invalid();
    segments.push(decoded);
  }
  return { treePath: treePathOf(segments), segments, isRoot: segments.length === 0 };
}

/** The store path of the collection holding `path` (the box root holds the top level). */
export function parentTreePath(path: BoxPath): string {
  return treePathOf(path.segments.slice(0, -1));
}

function treePathOf(segments: readonly string[]): string {
  return [MAIN_BOX_DIR, ...segments].join("/");
}
