/**
 * `Range` for downloads (spec §6: cellport honours it so large snapshots resume).
 * One range only; anything we do not understand is ignored (→ full 200), as RFC 9110
 * allows; only a well-formed but unsatisfiable range is a 416.
 */
import { PersoniumError } from "@cellport/shared";

export type RangeDecision =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

export function parseRange(header: string | null | undefined, size: number): RangeDecision {
  if (!header) return { kind: "full" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: "full" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return { kind: "full" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end };
}

/** `If-Range` with another validator than the current ETag means "send it all". */
export function rangeDecision(request: Request, size: number, etag: string): RangeDecision {
  const ifRange = request.headers.get("if-range");
  if (ifRange !== null && ifRange.trim() !== etag) return { kind: "full" };
  return parseRange(request.headers.get("range"), size);
}

export function rangeNotSatisfiable(size: number): PersoniumError {
  return new PersoniumError("PR416-DV-0001", [], { "Content-Range": `bytes */${size}` });
}
