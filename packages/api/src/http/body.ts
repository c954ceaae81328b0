/**
 * Request bodies: small ones (JSON, XML) read whole under a byte limit; uploads
 * passed on as a Node stream, never buffered. An oversized body is a 413, an
 * unparsable one the documented 400 — never a 500.
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { PersoniumError } from "@cellport/shared";

/** 413 at once when `Content-Length` already says the body is too big. */
export function assertDeclaredLengthWithin(request: Request, maxBytes: number): void {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw new PersoniumError("PR413-DV-0001");
  }
}

/** The whole body as UTF-8 text, refusing (413) past `maxBytes` while reading. */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  assertDeclaredLengthWithin(request, maxBytes);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new PersoniumError("PR413-DV-0001");
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8").decode(Buffer.concat(chunks));
}

export type JsonBody = { present: false } | { present: true; value: unknown };

/**
 * A JSON body whatever its Content-Type (clients send `text/plain;charset=UTF-8`,
 * spec §6). Empty or blank → not present. Not JSON → 400 PR400-CM-0004 quoting the
 * raw body, as Personium does.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<JsonBody> {
  const text = await readBodyText(request, maxBytes);
  if (text.trim() === "") return { present: false };
  try {
    return { present: true, value: JSON.parse(text) };
  } catch {
    throw new PersoniumError("PR400-CM-0004", [text]);
  }
}

/** The body as a Node stream for the store (empty when there is none). */
export function bodyAsNodeStream(request: Request): Readable {
  if (!request.body) return Readable.from([]);
  return Readable.fromWeb(request.body as unknown as NodeReadableStream<Uint8Array>);
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
