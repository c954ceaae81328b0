/**
 * What each zip entry may be. Every entry passes here before any of its bytes are
 * read, in the validation pass and again in the reading pass, so the rules hold even
 * for an archive that was never validated.
 *
 * yauzl is opened with `decodeStrings: false`: its own name check would fail the
 * whole archive with an untyped error, and its lenient mode turns backslashes into
 * slashes (hiding `..\..\x`). We decode the name ourselves, strictly, and refuse with
 * a Personium error that names the entry and the reason.
 */
import {
  CELL_DOCUMENT_ENTRY,
  ENTITY_TYPES,
  type EntityType,
  isSafeFileName,
  MANIFEST_ENTRY,
  pjsonEntry,
  WEBDAV_DIR,
} from "@cellport/shared";
import { type Entry, getFileNameLowLevel } from "yauzl";
import type { SnapshotLimits } from "./limits.ts";
import { entryTooLarge, invalidEntry } from "./snapshot-errors.ts";

/** The two files of a resource directory in the tree (Personium's DavMetadataFile / DavCmpFsImpl). */
export const META_FILE = ".pmeta";
export const CONTENT_FILE = "content";
export type TreeFileName = typeof META_FILE | typeof CONTENT_FILE;

export type EntryRole =
  | { kind: "manifest" }
  | { kind: "cell" }
  | { kind: "entities"; type: EntityType }
  /** `path` is relative to `20_webdav/`, e.g. `__/docs/a.txt/content`. */
  | { kind: "tree-file"; path: string; file: TreeFileName }
  | { kind: "directory" }
  /** A file this format does not define: counted and bounded, never read. */
  | { kind: "other" };

export interface CheckedEntry {
  name: string;
  /** Declared uncompressed size (verified while reading). */
  size: number;
  role: EntryRole;
  entry: Entry;
}

const ENTITY_BY_ENTRY: ReadonlyMap<string, EntityType> = new Map(
  ENTITY_TYPES.map((t) => [pjsonEntry(t.file), t.type]),
);

/** Unix file type bits in the high half of the external attributes (versionMadeBy = Unix). */
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

const MAX_SEGMENT_BYTES = 255;

/** Decodes, checks and classifies one entry; throws a PersoniumError for anything hostile. */
export function checkEntry(entry: Entry, limits: SnapshotLimits): CheckedEntry {
  const name = getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  checkName(name);
  const directory = name.endsWith("/");
  checkKind(entry, name, directory);
  const size = entry.uncompressedSize;
  if (directory) {
    if (size !== 0) throw invalidEntry(name, "a directory entry with data");
    return { name, size: 0, role: { kind: "directory" }, entry };
  }
  const role = roleOf(name);
  const bound = isDocument(role)
    ? Math.min(limits.maxDocumentBytes, limits.maxEntryBytes)
    : limits.maxEntryBytes;
  if (size > bound) throw entryTooLarge(name, size);
  return { name, size, role, entry };
}

/** Entries read whole into memory: their bound is `maxDocumentBytes`. */
export function isDocument(role: EntryRole): boolean {
  return (
    role.kind === "manifest" || role.kind === "cell" || (role.kind === "tree-file" && role.file === META_FILE)
  );
}

function checkName(name: string): void {
  if (name.length === 0) throw invalidEntry(name, "an empty name");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalidEntry(name, "a name with NUL or a control character");
  if (name.includes("\\")) throw invalidEntry(name, "a name with a backslash");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw invalidEntry(name, "an absolute path");
  const segments = (name.endsWith("/") ? name.slice(0, -1) : name).split("/");
  for (const segment of segments) {
    if (segment === ".." || segment === ".") throw invalidEntry(name, `a path with a "${segment}" segment`);
    if (segment.length === 0) throw invalidEntry(name, "a path with an empty segment");
    if (!isSafeFileName(segment) || Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw invalidEntry(name, `a path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
  }
}

function checkKind(entry: Entry, name: string, directory: boolean): void {
  // Java's ZipOutputStream (Personium) leaves the attributes 0; Unix zips put the mode in the high half.
  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (type === S_IFLNK) throw invalidEntry(name, "a symbolic link");
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR)
    throw invalidEntry(name, "not a regular file or directory");
  if (type === S_IFDIR && !directory) throw invalidEntry(name, "a directory without a trailing slash");
  if (entry.isEncrypted()) throw invalidEntry(name, "an encrypted entry");
  if (!directory && !entry.canDecodeFileData()) {
    throw invalidEntry(name, `an unsupported compression method ${entry.compressionMethod}`);
  }
  if (entry.compressionMethod === 0 && entry.compressedSize !== entry.uncompressedSize) {
    throw invalidEntry(name, "a stored entry whose compressed and uncompressed sizes differ");
  }
}

function roleOf(name: string): EntryRole {
  if (name === MANIFEST_ENTRY) return { kind: "manifest" };
  if (name === CELL_DOCUMENT_ENTRY) return { kind: "cell" };
  const type = ENTITY_BY_ENTRY.get(name);
  if (type) return { kind: "entities", type };
  if (!name.startsWith(WEBDAV_DIR)) return { kind: "other" };

  // Spec §7: the tree holds resource directories, each with `.pmeta` and, for a file, `content`.
  const path = name.slice(WEBDAV_DIR.length);
  const segments = path.split("/");
  const file = segments[segments.length - 1];
  if (file !== META_FILE && file !== CONTENT_FILE) {
    throw invalidEntry(name, `a file of the cell's tree that is neither ${META_FILE} nor ${CONTENT_FILE}`);
  }
  if (segments.length === 1 && file === CONTENT_FILE)
    throw invalidEntry(name, "content at the root of the tree");
  if (segments.slice(0, -1).includes(META_FILE)) throw invalidEntry(name, `a resource named ${META_FILE}`);
  return { kind: "tree-file", path, file };
}
