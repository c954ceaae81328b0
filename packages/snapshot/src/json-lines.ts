/**
 * pjson files (spec §7): one JSON document per line. Lines are cut from the byte
 * stream (so a multi-byte character split across chunks is never broken) and each is
 * bounded, so a file of one endless line cannot exhaust memory.
 */
import type { Readable } from "node:stream";
import type { EntityDocument, EntityType } from "@cellport/shared";
import { formatError } from "./snapshot-errors.ts";

const NEWLINE = 0x0a;

/** Parsed lines of `body`, with their 1-based line numbers; blank lines are skipped. */
export async function* jsonLines(
  body: Readable,
  entryName: string,
  maxLineBytes: number,
): AsyncGenerator<{ line: number; value: unknown }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;

  function* complete(buffer: Buffer): Generator<{ line: number; value: unknown }> {
    line++;
    const text = buffer.toString("utf8").replace(/\r$/, "");
    if (text.trim().length === 0) return;
    try {
      yield { line, value: JSON.parse(text) };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw formatError(entryName, `line ${line} is not JSON`);
    }
  }

  for await (const chunk of body as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (pendingBytes + (end - start) > maxLineBytes) throw lineTooLong(entryName, line + 1, maxLineBytes);
      const piece = chunk.subarray(start, end);
      const whole = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      yield* complete(whole);
      start = end + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) throw lineTooLong(entryName, line + 1, maxLineBytes);
      pending.push(chunk.subarray(start));
    }
  }
  if (pendingBytes > 0) yield* complete(Buffer.concat(pending));
}

/** The lines of one pjson file as entity documents of `type`, checked for the shape spec §7 gives. */
export async function* entityDocuments(
  body: Readable,
  entryName: string,
  type: EntityType,
  maxLineBytes: number,
): AsyncGenerator<EntityDocument> {
  for await (const { line, value } of jsonLines(body, entryName, maxLineBytes)) {
    if (!isRecord(value)) throw formatError(entryName, `line ${line} is not a JSON object`);
    if (value._type !== type) {
      throw formatError(
        entryName,
        `line ${line} has _type ${JSON.stringify(value._type)}, expected "${type}"`,
      );
    }
    if (typeof value._id !== "string" || value._id.length === 0) {
      throw formatError(entryName, `line ${line} has no string _id`);
    }
    if (!isRecord(value._source)) throw formatError(entryName, `line ${line} has no _source object`);
    yield value as unknown as EntityDocument;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function lineTooLong(entryName: string, line: number, max: number) {
  return formatError(entryName, `line ${line} is longer than ${max} bytes`);
}
