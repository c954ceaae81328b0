/**
 * The Personium errors a snapshot archive can earn, in one place. Codes MC-0001/3/4
 * and CM-0004 are Personium's own (spec §4.1); MC-9001..9005 are cellport's (the 9xxx
 * range is never a Personium code) for the hostile-archive defences Personium lacks,
 * worded like its bar-file errors.
 */
import { PersoniumError } from "@cellport/shared";

/** Longest entry name or raw text quoted in a message: a response must stay small. */
const MAX_QUOTED_CHARS = 1_000;

/**
 * Makes a name or text safe to quote: control characters (NUL among them) are shown
 * as `\uXXXX` escapes, and very long texts are cut.
 */
export function quote(text: string): string {
  const visible = text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: showing control characters is the point
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return visible.length > MAX_QUOTED_CHARS ? `${visible.slice(0, MAX_QUOTED_CHARS)}…` : visible;
}

export function notZip(cause?: unknown): PersoniumError {
  const error = new PersoniumError("PR400-MC-0004");
  if (cause !== undefined) error.cause = cause;
  return error;
}

export function missingEntry(name: string): PersoniumError {
  return new PersoniumError("PR400-MC-0001", [name]);
}

export function manifestNotJson(raw: string): PersoniumError {
  return new PersoniumError("PR400-CM-0004", [quote(raw)]);
}

export function badVersion(expected: number, actual: unknown): PersoniumError {
  return new PersoniumError("PR400-MC-0003", [expected, describeValue(actual)]);
}

export function invalidEntry(name: string, reason: string): PersoniumError {
  return new PersoniumError("PR400-MC-9001", [quote(name), reason]);
}

export function entryTooLarge(name: string, bytes: number): PersoniumError {
  return new PersoniumError("PR400-MC-9002", [quote(name), bytes]);
}

export function archiveTooLarge(bytes: number): PersoniumError {
  return new PersoniumError("PR400-MC-9003", [bytes]);
}

export function tooManyEntries(count: number): PersoniumError {
  return new PersoniumError("PR400-MC-9004", [count]);
}

export function formatError(name: string, reason: string): PersoniumError {
  return new PersoniumError("PR400-MC-9005", [quote(name), reason]);
}

/**
 * How Personium's Java prints a manifest value: a number as is, a missing key as
 * `null`; other JSON (a string `"2"`) keeps its quotes so it cannot pass for a number.
 */
function describeValue(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (typeof value === "number") return String(value);
  return quote(JSON.stringify(value));
}
