/**
 * `seedCell`: builds a realistic, deterministic cell straight in the store — for
 * tests, demos and load tests (`cellport seed`). Everything is decided up front by
 * `seed-plan.ts`; the bytes come from `seed-random.ts`; the entities from
 * `seed-entities.ts`.
 *
 * The cell is written through the store's import staging (`beginReplace`): all
 * files and entities land in a new generation that goes live with one commit, so a
 * failed or interrupted seed never leaves a half-seeded cell, `replace` swaps a
 * whole new content into an existing cell (its snapshots stay), and the cell
 * document and every `.pmeta` are deterministic too (same seed ⇒ same export bytes,
 * manifest date aside).
 */
import { Readable } from "node:stream";
import type { EntityType } from "@cellport/shared";
import { CellExistsError, type CellReplacement, type CellStore } from "@cellport/store";
import { UsageError } from "./errors.ts";
import { ALL_TYPES, boxDocs, type EntityContext, entityDocs } from "./seed-entities.ts";
import { type PlannedFile, planSeed, type SeedPlan } from "./seed-plan.ts";
import { Prng, randomBytes, textBlock, textBytes } from "./seed-random.ts";

export interface SeedOptions {
  cell: string;
  /** Boxes besides the main box: Box entities, each with its own file tree. */
  boxes: number;
  /** Documents of every entity type except Box (whose count is `boxes`). */
  entitiesPerType: number;
  files: number;
  /** Total bytes of file content, spread over `files` (log-normal sizes, exact sum). */
  totalBytes: number;
  /** 0..1: share of `totalBytes` that is compressible text; the rest is random bytes. */
  textRatio: number;
  seed: string | number;
  /** Replace an existing cell's content instead of failing with CellExistsError. */
  replace?: boolean;
  /** Files written at once (default 4). */
  concurrency?: number;
  /** Also write cell keys and auth history (never exported) when the store can (default true). */
  internalData?: boolean;
  /** Called as content bytes are written; `bytesTotal` is `totalBytes`. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface SeedResult {
  cell: string;
  cellId: string;
  boxes: number;
  collections: number;
  files: number;
  bytes: number;
  textBytes: number;
  entities: Record<EntityType, number>;
  durationMs: number;
}

/**
 * The shared text block: up to 4 MiB, far beyond deflate's window, so text compresses
 * like text and not better. A cell with less text gets a block just big enough (but
 * never under 64 KiB, still twice the window): building 4 MiB of words per cell was
 * most of the cost of seeding a thousand tiny cells, and 256 KiB still half of it.
 */
const TEXT_BLOCK_BYTES = 4 * 1024 * 1024;
const MIN_TEXT_BLOCK_BYTES = 64 * 1024;

function textBlockBytes(plan: SeedPlan): number {
  const text = plan.files.reduce((sum, file) => sum + (file.text ? file.size : 0), 0);
  return Math.min(TEXT_BLOCK_BYTES, Math.max(MIN_TEXT_BLOCK_BYTES, text));
}

function validate(options: SeedOptions): void {
  const counts: [string, number][] = [
    ["boxes", options.boxes],
    ["entitiesPerType", options.entitiesPerType],
    ["files", options.files],
    ["totalBytes", options.totalBytes],
  ];
  for (const [name, value] of counts) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`Expected \`${name}\` to be a whole number ≥ 0, got \`${value}\``);
    }
  }
  if (!(options.textRatio >= 0 && options.textRatio <= 1)) {
    throw new UsageError(`Expected \`textRatio\` between 0 and 1, got \`${options.textRatio}\``);
  }
  if (options.files === 0 && options.totalBytes > 0) {
    throw new UsageError(`Expected \`files\` ≥ 1 to hold ${options.totalBytes} bytes, got 0`);
  }
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`Expected \`concurrency\` ≥ 1, got \`${concurrency}\``);
  }
}

function json(value: unknown): Readable {
  return Readable.from([Buffer.from(JSON.stringify(value))]);
}

function pmeta(type: string, nodeId: string, time: number, file?: PlannedFile): Record<string, unknown> {
  // Key order and defaults as Personium's DavMetadataFile; v 1 = written once.
  const meta: Record<string, unknown> = { i: nodeId, t: type, a: {}, d: {}, p: time, u: time };
  if (file) {
    meta.ct = file.contentType;
    meta.cl = file.size;
  }
  meta.et = "NONE";
  meta.v = 1;
  if (type === "Cell") meta.cs = "normal";
  return meta;
}

async function runLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function writeContent(
  replacement: CellReplacement,
  plan: SeedPlan,
  options: SeedOptions,
  onBytes: (n: number) => void,
): Promise<void> {
  const block = textBlock(new Prng(options.seed, "text"), textBlockBytes(plan));
  await replacement.writeTreeFile(".pmeta", json(pmeta("Cell", plan.cellId, plan.baseTime)));
  for (const collection of plan.collections) {
    await replacement.writeTreeFile(
      `${collection.path}/.pmeta`,
      json(pmeta(collection.type, collection.nodeId, collection.time)),
    );
  }
  await runLimited(plan.files, options.concurrency ?? 4, async (file) => {
    await replacement.writeTreeFile(
      `${file.path}/.pmeta`,
      json(pmeta("dav.file", file.nodeId, file.time, file)),
    );
    const chunks = file.text
      ? textBytes(block, file.textOffset, file.size)
      : randomBytes(options.seed, String(file.index), file.size);
    const counted = (function* () {
      for (const chunk of chunks) {
        yield chunk;
        onBytes(chunk.length);
      }
    })();
    await replacement.writeTreeFile(`${file.path}/content`, Readable.from(counted, { objectMode: false }));
  });
}

async function writeEntities(
  replacement: CellReplacement,
  plan: SeedPlan,
  options: SeedOptions,
): Promise<Record<EntityType, number>> {
  const ctx: EntityContext = {
    cellId: plan.cellId,
    boxIds: [plan.cellId, ...plan.boxIds],
    odataNodeId: plan.odataNodeId,
    baseTime: plan.baseTime,
  };
  const counts = {} as Record<EntityType, number>;
  for (const type of ALL_TYPES) {
    // One PRNG stream per type: adding a type never shifts another type's documents.
    const prng = new Prng(options.seed, `entities:${type}`);
    if (type === "Box") {
      await replacement.writeEntities(type, boxDocs(plan.boxIds, prng, ctx));
      counts[type] = plan.boxIds.length;
    } else {
      await replacement.writeEntities(type, entityDocs(type, options.entitiesPerType, prng, ctx));
      counts[type] = options.entitiesPerType;
    }
  }
  return counts;
}

export async function seedCell(store: CellStore, options: SeedOptions): Promise<SeedResult> {
  validate(options);
  const started = Date.now();
  const plan = planSeed(options);

  if (!options.replace) {
    await store.createCell(options.cell);
  } else if (!(await store.getCell(options.cell))) {
    await store.createCell(options.cell).catch((error: unknown) => {
      // Someone else created it meanwhile: replacing it is what was asked.
      if (!(error instanceof CellExistsError)) throw error;
    });
  }

  let done = 0;
  const report = (n: number) => {
    done += n;
    options.onProgress?.(done, options.totalBytes);
  };
  options.onProgress?.(0, options.totalBytes);

  const replacement = await store.beginReplace(options.cell);
  let entities: Record<EntityType, number>;
  try {
    // Personium's cell document shape (see the store's cell-document.ts).
    await replacement.writeCellDocument({
      _index: "u0_ad",
      _type: "Cell",
      _id: plan.cellId,
      _source: {
        c: null,
        b: null,
        n: null,
        s: { Name: options.cell },
        d: {},
        h: { Owner: null },
        l: [],
        p: plan.baseTime,
        u: plan.baseTime,
      },
    });
    entities = await writeEntities(replacement, plan, options);
    await writeContent(replacement, plan, options, report);
    await replacement.commit();
  } catch (error) {
    await replacement.abort().catch(() => undefined);
    throw error;
  }

  if (options.internalData ?? true) {
    const keyPrng = new Prng(options.seed, "keys");
    await store.writeInternalFile?.(
      options.cell,
      ".pkeys",
      "cell.key",
      `{"kid":"${keyPrng.hex(16)}","k":"${keyPrng.hex(64)}"}`,
    );
    await store.writeInternalFile?.(options.cell, ".pauthhistory", "last", `{"me":${plan.baseTime}}`);
  }

  return {
    cell: options.cell,
    cellId: plan.cellId,
    boxes: plan.boxIds.length,
    collections: plan.collections.length,
    files: plan.files.length,
    bytes: options.totalBytes,
    textBytes: plan.textBytes,
    entities,
    durationMs: Date.now() - started,
  };
}
