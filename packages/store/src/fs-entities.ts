/**
 * Entities: one JSON-lines file per type (the snapshot's pjson files, spec §7), one
 * document per line, `\n` line ends. Appends are for the seed and tests; imports
 * write whole files through a CellReplacement.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { ENTITY_TYPES, type EntityDocument, type EntityType } from "@cellport/shared";
import { InvalidNameError } from "./errors.ts";
import { type FsContext, resolveGeneration } from "./fs-context.ts";
import { odataDir } from "./fs-layout.ts";
import { isNotFound } from "./fs-util.ts";

/** Lines are gathered into writes of about this size: few syscalls, bounded memory. */
const WRITE_BATCH_BYTES = 256 * 1024;

export function pjsonFileOf(type: EntityType): string {
  const entry = ENTITY_TYPES.find((t) => t.type === type);
  if (!entry) throw new InvalidNameError(`Expected an entity type of spec §7, got ${JSON.stringify(type)}`);
  return entry.file;
}

export function serializeEntity(type: EntityType, doc: EntityDocument): string {
  if (doc._type !== type) {
    throw new InvalidNameError(`Expected an entity of _type ${type}, got ${JSON.stringify(doc._type)}`);
  }
  return `${JSON.stringify(doc)}\n`;
}

/** Writes documents as lines to an open file, in batches. Returns the number written. */
export async function writeEntityLines(
  filePath: string,
  flags: "a" | "wx",
  type: EntityType,
  docs: Iterable<EntityDocument> | AsyncIterable<EntityDocument>,
): Promise<number> {
  const handle = await open(filePath, flags);
  let count = 0;
  try {
    let batch: string[] = [];
    let batchBytes = 0;
    for await (const doc of docs) {
      const line = serializeEntity(type, doc);
      batch.push(line);
      batchBytes += line.length;
      count++;
      if (batchBytes >= WRITE_BATCH_BYTES) {
        await handle.write(batch.join(""));
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) await handle.write(batch.join(""));
  } finally {
    await handle.close();
  }
  return count;
}

export async function appendEntities(
  ctx: FsContext,
  cell: string,
  type: EntityType,
  docs: Iterable<EntityDocument> | AsyncIterable<EntityDocument>,
): Promise<void> {
  const file = pjsonFileOf(type);
  const generation = await resolveGeneration(ctx, cell);
  await writeEntityLines(path.join(odataDir(generation), file), "a", type, docs);
}

export async function* readEntities(
  ctx: FsContext,
  cell: string,
  type: EntityType,
): AsyncIterable<EntityDocument> {
  const file = pjsonFileOf(type);
  const generation = await resolveGeneration(ctx, cell);
  const input = createReadStream(path.join(odataDir(generation), file), { encoding: "utf8" });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.trim().length === 0) continue;
      yield JSON.parse(line) as EntityDocument;
    }
  } catch (error) {
    // A generation always holds every pjson file; a missing one reads as empty.
    if (!isNotFound(error)) throw error;
  } finally {
    lines.close();
    input.destroy();
  }
}
