/**
 * Reads the 207 multistatus of PROPFIND `__snapshot` (spec §6). Personium writes the
 * default DAV namespace unprefixed, other servers use `D:`; both are accepted. A
 * regular-expression reader is enough for this flat, server-generated document and
 * keeps the CLI free of an XML dependency.
 */

export interface SnapshotInfo {
  /** File name inside the snapshot area, e.g. `c1_20240101_000000.zip`. */
  name: string;
  href: string;
  size: number;
  contentType: string;
  created: string | undefined;
  modified: string | undefined;
  etag: string | undefined;
}

function element(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<(?:[\\w-]+:)?${tag}\\b[^>]*>([\\s\\S]*?)</(?:[\\w-]+:)?${tag}>`).exec(xml);
  return match ? decodeXml((match[1] ?? "").trim()) : undefined;
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (whole, entity: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    const lower = entity.toLowerCase();
    if (named[lower]) return named[lower];
    const code = lower.startsWith("#x") ? Number.parseInt(lower.slice(2), 16) : Number(lower.slice(1));
    return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
  });
}

/** The files of a multistatus; collections (the area itself) are left out. */
export function parseMultistatus(xml: string): SnapshotInfo[] {
  const files: SnapshotInfo[] = [];
  for (const match of xml.matchAll(/<(?:[\w-]+:)?response\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?response>/g)) {
    const body = match[1] ?? "";
    const href = element(body, "href");
    if (!href || href.endsWith("/") || /<(?:[\w-]+:)?collection\b/.test(body)) continue;
    const lastSegment = href.split("/").pop() ?? "";
    files.push({
      name: safeDecode(lastSegment),
      href,
      size: Number(element(body, "getcontentlength") ?? 0),
      contentType: element(body, "getcontenttype") ?? "",
      created: element(body, "creationdate"),
      modified: element(body, "getlastmodified"),
      etag: element(body, "getetag"),
    });
  }
  return files;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
