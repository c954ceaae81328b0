/** The PROPFIND `Depth` header (spec §6): only 0 and 1 are served. */
import { PersoniumError } from "@cellport/shared";

export type Depth = 0 | 1;

export function parseDepth(header: string | null | undefined): Depth {
  // Personium prints the Java null of a missing header: "Invalid depth header value:[null]."
  if (header === null || header === undefined) throw new PersoniumError("PR400-DV-0003", ["null"]);
  const value = header.trim();
  if (value === "0") return 0;
  if (value === "1") return 1;
  if (value.toLowerCase() === "infinity") throw new PersoniumError("PR403-DV-0001");
  throw new PersoniumError("PR400-DV-0003", [header]);
}
