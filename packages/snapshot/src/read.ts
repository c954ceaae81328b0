/**
 * `readSnapshot`: the archive as typed items, for the import. It validates first
 * (the same checks as before the 202: the file is read again by the worker, maybe on
 * another machine), yields the manifest and the cell document (so a consumer knows
 * the source cell before it meets a line that names it), then walks the entries in
 * archive order, streaming each one: the archive is never held in memory, only one
 * pjson line or one `.pmeta` at a time.
 *
 * Each item's data must be consumed before asking for the next item; whatever the
 * consumer left is drained (and so still verified) when it asks.
 */
import type { Readable } from "node:stream";
import type { EntityDocument, EntityType, SnapshotManifest } from "@cellport/shared";
import { META_FILE } from "./entry-rules.ts";
import { entityDocuments, isRecord } from "./json-lines.ts";
import { resolveLimits, type SnapshotLimits } from "./limits.ts";
import { archiveTooLarge, formatError, invalidEntry } from "./snapshot-errors.ts";
import type { SnapshotSource } from "./source.ts";
import { readText, validateSnapshot } from "./validate.ts";
import { openSnapshotArchive } from "./zip-archive.ts";

export type SnapshotItem =
  | {
      kind: "manifest";
      manifest: SnapshotManifest & Record<string, unknown>;
      /** Declared uncompressed bytes of everything this reader yields (manifest and cell document included). */
      totalBytes: number;
      entryCount: number;
    }
  | { kind: "cell"; document: Record<string, unknown> }
  | { kind: "entities"; type: EntityType; entry: string; documents: AsyncIterable<EntityDocument> }
  /** A resource's `.pmeta`, parsed. `path` is relative to `20_webdav/`, e.g. `__/docs/.pmeta`. */
  | { kind: "tree-meta"; path: string; meta: Record<string, unknown> }
  /** A file resource's bytes. `path` is relative to `20_webdav/`, e.g. `__/docs/a.txt/content`. */
  | { kind: "tree-content"; path: string; size: number; body: Readable };

export interface ReadSnapshotOptions {
  limits?: Partial<SnapshotLimits>;
  signal?: AbortSignal;
  /** Uncompressed bytes as they are read: progress, weighted by bytes. */
  onBytes?: (bytes: number) => void;
}

export async function* readSnapshot(
  source: SnapshotSource,
  options: ReadSnapshotOptions = {},
): AsyncGenerator<SnapshotItem> {
  const limits = resolveLimits(options.limits);
  const { signal, onBytes } = options;
  const summary = await validateSnapshot(source, { limits, signal });

  yield {
    kind: "manifest",
    manifest: summary.manifest,
    totalBytes: summary.totalBytes,
    entryCount: summary.entryCount,
  };
  yield { kind: "cell", document: summary.cellDocument };

  const archive = await openSnapshotArchive(source, limits);
  let current: Readable | undefined;
  try {
    let declaredTotal = 0;
    for await (const checked of archive.entries()) {
      signal?.throwIfAborted();
      // Checked again: the file may have been replaced since it was validated.
      declaredTotal += checked.size;
      if (declaredTotal > limits.maxTotalBytes) throw archiveTooLarge(declaredTotal);
      const { role } = checked;
      if (role.kind === "manifest" || role.kind === "cell") {
        onBytes?.(checked.size);
        continue;
      }
      if (role.kind === "directory" || role.kind === "other") continue;

      if (role.kind === "tree-file" && role.file === META_FILE) {
        const text = await readText(archive, checked, { signal, onBytes });
        yield { kind: "tree-meta", path: role.path, meta: parseMeta(checked.name, text) };
        continue;
      }

      current = await archive.openEntry(checked, { signal, onBytes });
      if (role.kind === "entities") {
        const documents = entityDocuments(current, checked.name, role.type, limits.maxDocumentBytes);
        yield { kind: "entities", type: role.type, entry: checked.name, documents };
      } else if (role.kind === "tree-file") {
        yield { kind: "tree-content", path: role.path, size: checked.size, body: current };
      } else {
        throw invalidEntry(checked.name, "an entry of unknown role");
      }
      await drain(current);
      current = undefined;
    }
  } finally {
    current?.destroy();
    archive.close();
  }
}

/** Reads what the consumer left of an entry, so its size and CRC are still verified. */
async function drain(stream: Readable): Promise<void> {
  if (stream.readableEnded) return;
  if (stream.destroyed) {
    // The consumer stopped early: nothing left to verify unless the stream failed.
    if (stream.errored) throw stream.errored;
    return;
  }
  for await (const _ of stream) {
    // discard
  }
}

function parseMeta(entryName: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw formatError(entryName, "not JSON");
  }
  if (!isRecord(value)) throw formatError(entryName, "not a JSON object");
  if (typeof value.t !== "string") throw formatError(entryName, 'no string "t" (resource type)');
  return value;
}
