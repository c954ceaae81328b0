/** Conditional GET (spec §6). */

function opaque(tag: string): string {
  const trimmed = tag.trim();
  return trimmed.startsWith("W/") ? trimmed.slice(2) : trimmed;
}

/**
 * True when `If-None-Match` names this ETag (weak comparison, RFC 9110 §13.1.2).
 * `*` is deliberately NOT a match: Personium ignores it and its clients send it on
 * every request, so honouring it would turn every GET into a 304.
 */
export function ifNoneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  const wanted = opaque(etag);
  return header.split(",").some((tag) => {
    const candidate = tag.trim();
    return candidate !== "*" && candidate !== "" && opaque(candidate) === wanted;
  });
}
