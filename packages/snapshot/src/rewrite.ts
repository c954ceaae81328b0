/**
 * Makes a snapshot of cell A the content of cell B (spec §4.3): wherever the source
 * cell's identity appears — its id, its name in its URLs, its unit's URL — the target
 * cell's is put instead. Pure functions over parsed JSON, no I/O.
 *
 * What Personium's importer does, and what we do:
 * - the cell document keeps the target's id, name and owner (CellImportRunner#
 *   modifyCellInfo); everything else comes from the snapshot, `u` becomes now;
 * - every entity's `_source.c` is the target cell id (it sets `c` unconditionally);
 * - the main box's id *is* the cell id (its directory `__` stands for it), so the
 *   source cell id also appears as box ids (`b`), `.pmeta` `i` of the cell and the
 *   main box, and in ACLs. Personium replaces ids as substrings of whole lines; ids
 *   are 32 hex digits, so a substring replace cannot hit anything else, and we do
 *   the same in every string (and key) of a document;
 * - URLs: the source cell's URL (`{unit_url}{name}/`, also with the
 *   `personium-localunit:` schemes) becomes the target's, and any other URL under the
 *   source `unit_url` moves to the target unit, as a `personium-localunit:` URL would.
 */
import type { EntityDocument } from "@cellport/shared";

export interface CellIdentity {
  /** Unit base URL with a trailing slash, e.g. `https://unit.example/`. */
  unitUrl: string;
  name: string;
  id: string;
}

export interface CellRewriter {
  /** The cell document for the target: the snapshot's, with the target's identity and owner. */
  cellDocument(
    source: Record<string, unknown>,
    target: Record<string, unknown>,
    now: number,
  ): Record<string, unknown>;
  entity(doc: EntityDocument): EntityDocument;
  meta(meta: Record<string, unknown>): Record<string, unknown>;
  /** Any JSON value, deeply (strings and object keys). */
  value<T>(value: T): T;
  string(text: string): string;
}

/** The source cell as the snapshot describes it; parts may be missing in a hand-made archive. */
export function sourceIdentity(
  manifest: { unit_url?: unknown },
  cellDocument: Record<string, unknown>,
): Partial<CellIdentity> {
  const identity: Partial<CellIdentity> = {};
  if (typeof manifest.unit_url === "string" && manifest.unit_url !== "") {
    identity.unitUrl = withSlash(manifest.unit_url);
  }
  if (typeof cellDocument._id === "string" && cellDocument._id !== "") identity.id = cellDocument._id;
  const source = record(cellDocument._source);
  const name = record(source?.s)?.Name ?? cellDocument.Name;
  if (typeof name === "string" && name !== "") identity.name = name;
  return identity;
}

export function createCellRewriter(source: Partial<CellIdentity>, target: CellIdentity): CellRewriter {
  const to = { ...target, unitUrl: withSlash(target.unitUrl) };
  const rules = rulesOf(source, to);
  // One pass with every rule as an alternative: replaced text is never matched again
  // (a target unit URL under the source unit URL must not be rewritten twice).
  const pattern = rules.length === 0 ? null : new RegExp(rules.map((r) => `(${r.pattern})`).join("|"), "g");

  function string(text: string): string {
    if (pattern === null) return text;
    return text.replace(pattern, (...groups: unknown[]) => {
      const index = groups.slice(1, rules.length + 1).findIndex((g) => g !== undefined);
      return rules[index]?.replacement ?? String(groups[0]);
    });
  }

  function value<T>(input: T): T {
    return pattern === null ? input : (deepMap(input, string) as T);
  }

  return {
    string,
    value,
    cellDocument(sourceDoc, targetDoc, now) {
      const doc = { ...value(sourceDoc) };
      doc._id = to.id;
      if (typeof targetDoc._index === "string") doc._index = targetDoc._index;
      doc._type = "Cell";
      const src = { ...(record(doc._source) ?? {}) };
      const targetSource = record(targetDoc._source) ?? {};
      src.s = { ...(record(src.s) ?? {}), Name: to.name };
      // The owner belongs to the target cell, not to whoever owned the source (Personium does the same).
      src.h = { ...(record(src.h) ?? {}), Owner: record(targetSource.h)?.Owner ?? null };
      src.u = now;
      doc._source = src;
      if ("Name" in doc) doc.Name = to.name;
      return doc;
    },
    entity(doc) {
      const out = value(doc);
      return { ...out, _source: { ...out._source, c: to.id } };
    },
    meta(meta) {
      return value(meta);
    },
  };
}

interface Rule {
  /** Regular expression source, without capturing groups of its own. */
  pattern: string;
  replacement: string;
}

/** In priority order: the cell URL before the unit URL it starts with. */
function rulesOf(source: Partial<CellIdentity>, to: CellIdentity): Rule[] {
  const rules: Rule[] = [];
  const boundary = "(?=[/?#]|$)";
  if (source.name !== undefined) {
    const cellUrl = `${source.unitUrl ?? to.unitUrl}${source.name}`;
    if (cellUrl !== `${to.unitUrl}${to.name}`) {
      rules.push({ pattern: `${escapeRegExp(cellUrl)}${boundary}`, replacement: `${to.unitUrl}${to.name}` });
    }
    if (source.name !== to.name) {
      rules.push({
        pattern: `personium-localunit:/${escapeRegExp(source.name)}${boundary}`,
        replacement: `personium-localunit:/${to.name}`,
      });
      rules.push({
        pattern: `personium-localunit:${escapeRegExp(source.name)}:`,
        replacement: `personium-localunit:${to.name}:`,
      });
    }
  }
  // The rest of the source unit moves along to the target unit.
  if (source.unitUrl !== undefined && source.unitUrl !== to.unitUrl) {
    rules.push({ pattern: escapeRegExp(source.unitUrl), replacement: to.unitUrl });
  }
  if (source.id !== undefined && source.id !== to.id)
    rules.push({ pattern: escapeRegExp(source.id), replacement: to.id });
  return rules;
}

function deepMap(input: unknown, map: (text: string) => string): unknown {
  if (typeof input === "string") return map(input);
  if (Array.isArray(input)) return input.map((item) => deepMap(item, map));
  if (typeof input === "object" && input !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(input)) out[map(key)] = deepMap(item, map);
    return out;
  }
  return input;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
