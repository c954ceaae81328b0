/** Cell and snapshot name rules (spec §1) and the default export name (spec §3.1). */

/** Personium's cell name rule. */
export const CELL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,127}$/;
/** The rule as Personium prints it in error messages. */
export const CELL_NAME_RULE_TEXT = "^[a-z0-9][a-z0-9-]{0,127}$";

/**
 * Snapshot `Name` rule. Personium spells the class `[a-zA-Z0-9-_]`, which is a syntax
 * error under the `u` flag; this spelling (with `-` last, no `u`) means the same.
 */
export const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9_-]{1,192}$/;
/** The rule exactly as Personium's message prints it (PR400-CM-0002). */
export const SNAPSHOT_NAME_RULE_TEXT = "^[a-zA-Z0-9-_]{1,192}$";

export function isValidCellName(name: string): boolean {
  return CELL_NAME_PATTERN.test(name);
}

export function isValidSnapshotName(name: string): boolean {
  return SNAPSHOT_NAME_PATTERN.test(name);
}

/**
 * A file name in the snapshot area: one path segment, printable, no traversal.
 * Anything else is refused before it gets near the file system.
 */
export function isSafeFileName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  if (name === "." || name === "..") return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return !/[/\\\u0000-\u001f\u007f]/.test(name);
}

/**
 * Personium's rule for the name of a box resource being created by PUT or MKCOL
 * (personium-core's `DavCommon.isValidResourceName`): 1–256 characters, none of
 * `\ / : * ? " < > |` nor a space, no control character.
 */
export function isValidResourceName(name: string): boolean {
  if (name.length === 0 || name.length > 256) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return !/[\\/:*?"<>| \u0000-\u001f\u007f]/.test(name);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/** `{cell}_yyyyMMdd_HHmmss` in UTC at the moment of acceptance. */
export function defaultExportName(cell: string, acceptedAt: Date): string {
  const d = acceptedAt;
  const date = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${cell}_${date}_${time}`;
}
