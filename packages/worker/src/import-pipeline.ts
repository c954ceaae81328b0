/**
 * One import attempt: reads `__snapshot/{name}.zip` with the snapshot reader and
 * writes it, rewritten for the target cell, into a staged replacement of the cell
 * (`store.beginReplace`). `commit()` — one swap of the cell's content — is the only
 * commit point; any failure, cancel or shutdown before it aborts the replacement, so
 * the cell stays exactly as it was (spec §4.3: cellport has what Personium lacks, a
 * rollback). Nothing is held in memory beyond one pjson line or one `.pmeta`.
 */
import { Readable } from "node:stream";
import { type ImportResult, PersoniumError } from "@cellport/shared";
import {
  createCellRewriter,
  readSnapshot,
  type SnapshotLimits,
  snapshotAreaSource,
  sourceIdentity,
} from "@cellport/snapshot";
import {
  CellNotFoundError,
  type CellReplacement,
  type CellStore,
  ConflictError,
  InvalidNameError,
  InvalidPathError,
} from "@cellport/store";
import type { ImportRunner } from "./processor.ts";
import { createProgressThrottle, type ProgressThrottle } from "./progress-throttle.ts";

export interface ImportPipelineOptions {
  store: CellStore;
  /** The target cell: it keeps its name, id and owner, and takes everything else from the snapshot. */
  cell: string;
  /** Snapshot `Name`, without `.zip`. */
  name: string;
  /** The unit URL the target cell lives under: replaces the manifest's `unit_url` in the data. */
  targetUnitUrl: string;
  signal?: AbortSignal;
  /** Whole percent of the archive's bytes, throttled, non-decreasing; 100 once committed. */
  onProgress?: (percent: number) => void | Promise<void>;
  onProgressError?: (error: unknown) => void;
  progressIntervalMs?: number;
  limits?: Partial<SnapshotLimits>;
  now?: () => number;
}

export async function runImport(options: ImportPipelineOptions): Promise<ImportResult> {
  const { store, cell, name, signal } = options;
  signal?.throwIfAborted();
  const target = await store.getCell(cell);
  if (!target) throw new CellNotFoundError(`Cell not found: ${cell}`);
  const fileName = `${name}.zip`;
  const source = await snapshotAreaSource(store.snapshots, cell, fileName);
  // The api checked it before the 202; it can only have gone if deleted since (a lock bypass) or by hand.
  if (!source) throw new PersoniumError("PR404-DV-0001", [fileName]);

  let progress: ProgressThrottle | undefined;
  const replacement = await store.beginReplace(cell);
  try {
    let rewriter = createCellRewriter({}, { unitUrl: options.targetUnitUrl, name: cell, id: target.id });
    let sourceManifest: Parameters<typeof sourceIdentity>[0] = {};
    let entities = 0;
    let files = 0;

    const items = readSnapshot(source, {
      ...(options.limits ? { limits: options.limits } : {}),
      ...(signal ? { signal } : {}),
      onBytes: (bytes) => progress?.add(bytes),
    });
    for await (const item of items) {
      switch (item.kind) {
        case "manifest":
          sourceManifest = item.manifest;
          progress = createProgressThrottle({
            totalBytes: item.totalBytes,
            report: options.onProgress ?? (() => {}),
            ...(options.onProgressError ? { onReportError: options.onProgressError } : {}),
            ...(options.progressIntervalMs !== undefined
              ? { minIntervalMs: options.progressIntervalMs }
              : {}),
          });
          break;
        case "cell":
          // The reader yields the cell document second: every later item can be rewritten.
          rewriter = createCellRewriter(sourceIdentity(sourceManifest, item.document), {
            unitUrl: options.targetUnitUrl,
            name: cell,
            id: target.id,
          });
          await replacement.writeCellDocument(
            rewriter.cellDocument(item.document, target.raw, (options.now ?? Date.now)()),
          );
          break;
        case "entities": {
          const rewrite = rewriter;
          await replacement.writeEntities(
            item.type,
            (async function* () {
              for await (const doc of item.documents) {
                entities++;
                yield rewrite.entity(doc);
              }
            })(),
          );
          break;
        }
        case "tree-meta":
          await writeTreeFile(
            replacement,
            item.path,
            Readable.from([JSON.stringify(rewriter.meta(item.meta))]),
          );
          break;
        case "tree-content":
          await writeTreeFile(replacement, item.path, item.body);
          files++;
          break;
      }
    }
    // A cancel that arrives before the swap wins; after it, the import is done.
    signal?.throwIfAborted();
    await replacement.commit();
    await progress?.finish();
    return { kind: "import", entities, files };
  } catch (error) {
    await replacement.abort().catch(() => {});
    await progress?.flush();
    throw error;
  }
}

/**
 * The store refuses a tree path it cannot hold, or a file written twice; that is the
 * archive's fault, so it becomes a 400-style error naming the entry (permanent, not
 * retried) rather than an unexpected one.
 */
async function writeTreeFile(replacement: CellReplacement, path: string, body: Readable): Promise<void> {
  try {
    await replacement.writeTreeFile(path, body);
  } catch (error) {
    if (
      error instanceof InvalidPathError ||
      error instanceof InvalidNameError ||
      error instanceof ConflictError
    ) {
      body.destroy();
      throw new PersoniumError("PR400-MC-9001", [`20_webdav/${path}`, error.message]);
    }
    throw error;
  }
}

/** `runImport` in the processor's shape (`ProcessorDeps.runImport`), with the archive bounds to enforce. */
export function createImportRunner(limits?: Partial<SnapshotLimits>): ImportRunner {
  return (input) =>
    runImport({
      store: input.store,
      cell: input.cell,
      name: input.name,
      targetUnitUrl: input.unitUrl,
      signal: input.signal,
      onProgress: input.onProgress,
      onProgressError: (error) => input.logger.warn({ err: error }, "progress update failed"),
      ...(limits ? { limits } : {}),
    });
}

/** The import runner with the snapshot package's default bounds. */
export const importRunner: ImportRunner = createImportRunner();
