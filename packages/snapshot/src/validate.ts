/**
 * `validateSnapshot`: everything that can be known about an archive without reading
 * its bulk, in Personium's order of checks (spec §4.1) — a zip at all, the manifest
 * JSON, its `export_version`, the required entries — plus cellport's defences (spec
 * §4.3): every entry's name, kind and declared size, the entry count and the declared
 * total. Only the central directory, the manifest and the cell document are read, so
 * the api can run it before answering 202.
 */
import {
  CELL_DOCUMENT_ENTRY,
  EXPORT_VERSION,
  MANIFEST_ENTRY,
  REQUIRED_ENTRIES,
  type SnapshotManifest,
} from "@cellport/shared";
import type { CheckedEntry } from "./entry-rules.ts";
import { isRecord } from "./json-lines.ts";
import { resolveLimits, type SnapshotLimits } from "./limits.ts";
import {
  archiveTooLarge,
  badVersion,
  formatError,
  invalidEntry,
  manifestNotJson,
  missingEntry,
} from "./snapshot-errors.ts";
import type { SnapshotSource } from "./source.ts";
import { type EntryReadOptions, openSnapshotArchive, type SnapshotArchive } from "./zip-archive.ts";

export interface ValidateOptions {
  limits?: Partial<SnapshotLimits>;
  signal?: AbortSignal;
}

export interface SnapshotSummary {
  /** The manifest as written (Personium's may carry more keys); `export_version` is 2. */
  manifest: SnapshotManifest & Record<string, unknown>;
  /** `10_odata/00_cell.json`, parsed. */
  cellDocument: Record<string, unknown>;
  /** Entries in the central directory, directories included. */
  entryCount: number;
  /** Declared uncompressed bytes of every entry `readSnapshot` reads: the weight for progress. */
  totalBytes: number;
}

export async function validateSnapshot(
  source: SnapshotSource,
  options: ValidateOptions = {},
): Promise<SnapshotSummary> {
  const limits = resolveLimits(options.limits);
  const archive = await openSnapshotArchive(source, limits);
  try {
    return await validateArchive(archive, limits, options.signal);
  } finally {
    archive.close();
  }
}

async function validateArchive(
  archive: SnapshotArchive,
  limits: SnapshotLimits,
  signal: AbortSignal | undefined,
): Promise<SnapshotSummary> {
  const seen = new Set<string>();
  let declaredTotal = 0;
  let readTotal = 0;
  let manifestText: string | undefined;
  let cellText: string | undefined;

  for await (const checked of archive.entries()) {
    signal?.throwIfAborted();
    // Two entries of one name: which one wins depends on the extractor — refuse the ambiguity.
    if (seen.has(checked.name)) throw invalidEntry(checked.name, "a duplicate entry");
    seen.add(checked.name);
    declaredTotal += checked.size;
    if (declaredTotal > limits.maxTotalBytes) throw archiveTooLarge(declaredTotal);
    const { kind } = checked.role;
    if (kind !== "directory" && kind !== "other") readTotal += checked.size;
    if (kind === "manifest") manifestText = await readText(archive, checked, { signal });
    if (kind === "cell") cellText = await readText(archive, checked, { signal });
  }

  if (manifestText === undefined) throw missingEntry(MANIFEST_ENTRY);
  const manifest = parseManifest(manifestText);
  for (const required of REQUIRED_ENTRIES) if (!seen.has(required)) throw missingEntry(required);
  const cellDocument = parseCellDocument(cellText ?? "");
  return { manifest, cellDocument, entryCount: archive.entryCount, totalBytes: readTotal };
}

/** Reads a small entry whole (its declared size is already bounded by `maxDocumentBytes`). */
export async function readText(
  archive: SnapshotArchive,
  checked: CheckedEntry,
  options: EntryReadOptions,
): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await archive.openEntry(checked, options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseManifest(text: string): SnapshotManifest & Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw manifestNotJson(text);
  }
  const manifest = isRecord(value) ? value : {};
  if (manifest.export_version !== EXPORT_VERSION) throw badVersion(EXPORT_VERSION, manifest.export_version);
  if (manifest.unit_url !== undefined && typeof manifest.unit_url !== "string") {
    throw formatError(MANIFEST_ENTRY, "unit_url is not a string");
  }
  return manifest as SnapshotManifest & Record<string, unknown>;
}

function parseCellDocument(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw formatError(CELL_DOCUMENT_ENTRY, "not JSON");
  }
  if (!isRecord(value)) throw formatError(CELL_DOCUMENT_ENTRY, "not a JSON object");
  return value;
}
