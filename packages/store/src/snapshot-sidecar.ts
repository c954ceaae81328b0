/**
 * A snapshot file's JSON sidecar (`snapshots/.meta/{name}`): what it records, how it
 * is read back, paired with its file, and what the next version of it is. Shared by
 * the store's readers (fs-snapshots.ts, on the main thread) and its writers
 * (snapshot-publish.ts, in the store thread).
 */
import type { Stats } from "node:fs";
import { PreconditionFailedError } from "./errors.ts";
import { sameVersion } from "./paired-read.ts";
import type { SnapshotStat } from "./port.ts";
import { etagOf, ifMatchPasses } from "./resource-meta.ts";

export interface Sidecar {
  contentType: string;
  version: number;
  created: number;
  updated: number;
  size: number;
  sha256?: string;
}

export const ZIP_SUFFIX = ".zip";
export const ERROR_SUFFIX = ".error";

/** What a file is served as when nothing recorded its type. */
export function guessContentType(name: string): string {
  if (name.endsWith(ZIP_SUFFIX)) return "application/zip";
  if (name.endsWith(ERROR_SUFFIX) || name.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

/** `Name` (no dot, spec §1) or a file name ending in `.zip`: the base both `.zip` and `.error` share. */
export function baseName(name: string): string {
  return name.endsWith(ZIP_SUFFIX) ? name.slice(0, -ZIP_SUFFIX.length) : name;
}

/** A sidecar's text, or null when it is not one (written by hand, cut short). */
export function parseSidecar(text: string): Sidecar | null {
  try {
    const value = JSON.parse(text) as Partial<Sidecar> | null;
    if (typeof value?.version !== "number" || typeof value.updated !== "number") return null;
    return value as Sidecar;
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
}

/**
 * Whether a sidecar describes this version of its file: the writer stamps the file's
 * mtime with `updated` (paired-read.ts).
 */
export function sidecarMatches(sidecar: Sidecar, stats: Stats): boolean {
  return sameVersion(stats, sidecar.size, sidecar.updated);
}

/** The sidecar if it matches the file, else a description of the file itself. */
export function describeFile(name: string, sidecar: Sidecar | null, stats: Stats): Sidecar {
  const updated = Math.round(stats.mtimeMs);
  if (sidecar && sidecar.size === stats.size && sidecar.updated === updated) return sidecar;
  return {
    contentType: sidecar?.contentType ?? guessContentType(name),
    version: sidecar?.version ?? 1,
    created: sidecar?.created ?? Math.round(stats.birthtimeMs || stats.mtimeMs),
    updated,
    size: stats.size,
  };
}

/**
 * True when the file itself says what this sidecar says but its sha256: a first version
 * of the type its name implies. If a power loss takes such a sidecar (written, not yet
 * synced), `describeFile` gives the same ETag, type and size from the file — only the
 * recorded sha256 is gone (and `created` becomes the temp file's birth, moments
 * earlier). So it need not cost two fsyncs of its own (see publishSnapshot).
 */
export function describedByFile(name: string, sidecar: Sidecar): boolean {
  return sidecar.version === 1 && sidecar.contentType === guessContentType(name);
}

export function checkIfMatch(ifMatch: string | undefined, current: Sidecar | null, name: string): void {
  if (!ifMatchPasses(ifMatch, current ? etagOf({ v: current.version, u: current.updated }) : null)) {
    throw new PreconditionFailedError(`ETag does not match for ${name}: If-Match ${ifMatch}`);
  }
}

/** The sidecar of the version a publish makes: `updated` strictly increases per name. */
export function nextSidecar(
  name: string,
  current: Sidecar | null,
  info: { size: number; sha256?: string; contentType?: string },
  now: number,
): Sidecar {
  const sidecar: Sidecar = {
    contentType: info.contentType ?? current?.contentType ?? guessContentType(name),
    version: (current?.version ?? 0) + 1,
    created: current?.created ?? now,
    updated: current ? Math.max(now, current.updated + 1) : now,
    size: info.size,
  };
  if (info.sha256) sidecar.sha256 = info.sha256;
  return sidecar;
}

export function toSnapshotStat(name: string, sidecar: Sidecar): SnapshotStat {
  const stat: SnapshotStat = {
    name,
    size: sidecar.size,
    contentType: sidecar.contentType,
    etag: etagOf({ v: sidecar.version, u: sidecar.updated }),
    created: new Date(sidecar.created),
    updated: new Date(sidecar.updated),
  };
  if (sidecar.sha256) stat.sha256 = sidecar.sha256;
  return stat;
}
