/**
 * `.pmeta` documents: creation, parsing and the ETag. Keys and defaults follow
 * Personium's DavMetadataFile (i node id, t type, a ACL, d props, p published,
 * u updated, ct content type, cl content length, et encryption type, v version,
 * cs cell status; a new node starts with an empty ACL and props). We always write
 * `et: "NONE"` (we never encrypt), so the files go into a snapshot unchanged (spec §7
 * wants `NONE` there). Key order is fixed: the JSON we write is stable.
 */
import type { ResourceMeta, ResourceType } from "@cellport/shared";

export const ENCRYPTION_NONE = "NONE";
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** A node id as Personium's PersoniumUUID makes them: 32 hex digits, no dashes. */
export function newNodeId(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, "");
}

export function isCollectionType(type: string): boolean {
  return type !== "dav.file";
}

export function newCollectionMeta(type: ResourceType, now: number, id: string = newNodeId()): ResourceMeta {
  const meta: ResourceMeta = { i: id, t: type, a: {}, d: {}, p: now, u: now, et: ENCRYPTION_NONE, v: 1 };
  if (type === "Cell") meta.cs = "normal";
  return meta;
}

/** The next version of a file resource's metadata (or its first). */
export function nextFileMeta(
  previous: ResourceMeta | null,
  size: number,
  contentType: string | undefined,
  now: number,
): ResourceMeta {
  // `u` strictly increases per resource: the ETag "{v}-{u}" and the content file's
  // mtime (set to `u`) then identify one version even for two writes in one ms.
  const updated = previous ? Math.max(now, previous.u + 1) : now;
  return {
    i: previous?.i ?? newNodeId(),
    t: "dav.file",
    a: previous?.a ?? {},
    d: previous?.d ?? {},
    p: previous?.p ?? now,
    u: updated,
    ct: contentType ?? previous?.ct ?? DEFAULT_CONTENT_TYPE,
    cl: size,
    et: ENCRYPTION_NONE,
    v: (previous?.v ?? 0) + 1,
  };
}

export function serializeMeta(meta: ResourceMeta): string {
  const { i, t, a, d, p, u, ct, cl, et, v, cs, ...rest } = meta;
  const ordered: Record<string, unknown> = { i, t, a: a ?? {}, d: d ?? {}, p, u };
  if (ct !== undefined) ordered.ct = ct;
  if (cl !== undefined) ordered.cl = cl;
  ordered.et = ENCRYPTION_NONE;
  ordered.v = v ?? 0;
  if (cs !== undefined) ordered.cs = cs;
  return JSON.stringify({ ...ordered, ...rest });
}

/** Parses a `.pmeta`; throws on anything that is not a JSON object with an id and a type. */
export function parseMeta(text: string): ResourceMeta {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError("Expected .pmeta to hold a JSON object");
  }
  const record = value as Record<string, unknown>;
  if (typeof record.t !== "string") throw new SyntaxError('Expected .pmeta to have a string "t"');
  return {
    ...record,
    i: typeof record.i === "string" ? record.i : "",
    t: record.t as ResourceType,
    p: toNumber(record.p),
    u: toNumber(record.u),
  } as ResourceMeta;
}

function toNumber(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Personium's DavCmpFsImpl#getEtag: `"{version}-{updated}"`, quotes included. */
export function etagOf(meta: Pick<ResourceMeta, "v" | "u">): string {
  return `"${meta.v ?? 0}-${meta.u}"`;
}

/** `If-Match` semantics: absent passes, `*` needs an existing resource, else the exact ETag. */
export function ifMatchPasses(ifMatch: string | undefined, currentEtag: string | null): boolean {
  if (ifMatch === undefined) return true;
  if (currentEtag === null) return false;
  const wanted = ifMatch.trim();
  if (wanted === "*") return true;
  return wanted
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .includes(currentEtag);
}
