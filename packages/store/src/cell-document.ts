/**
 * The cell's own document, `10_odata/00_cell.json`. Personium's exporter writes the
 * cell's Elasticsearch hit (`{"_index","_type":"Cell","_id","_source":{…}}`, see
 * CellExportRunner#addCellToZip) and its importer reads `_id`, `_source.s.Name` and
 * `_source.h.Owner` back (CellImportRunner#modifyCellInfo), so we store the same
 * shape. Reading also accepts a flat `{"_id","Name","__published","__updated"}`.
 */
import type { CellDocument } from "./port.ts";
import { newNodeId } from "./resource-meta.ts";

/** Personium's default unit prefix `u0` + its unit-level admin index `_ad`. */
const UNIT_INDEX = "u0_ad";

export function newCellDocument(
  name: string,
  now: number,
  id: string = newNodeId(),
): Record<string, unknown> {
  return {
    _index: UNIT_INDEX,
    _type: "Cell",
    _id: id,
    _source: {
      c: null,
      b: null,
      n: null,
      s: { Name: name },
      d: {},
      h: { Owner: null },
      l: [],
      p: now,
      u: now,
    },
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asNumber(...values: unknown[]): number {
  for (const value of values) if (typeof value === "number" && Number.isFinite(value)) return value;
  return 0;
}

/** The name always comes from the store (the directory), whatever the raw document says. */
export function toCellDocument(name: string, raw: Record<string, unknown>): CellDocument {
  const source = asRecord(raw._source);
  const id = typeof raw._id === "string" ? raw._id : "";
  return {
    id,
    name,
    published: asNumber(source?.p, raw.__published),
    updated: asNumber(source?.u, raw.__updated),
    raw,
  };
}

export function parseCellDocument(name: string, text: string): CellDocument {
  const raw = asRecord(JSON.parse(text));
  if (!raw) throw new SyntaxError(`Expected the cell document of ${name} to be a JSON object`);
  return toCellDocument(name, raw);
}
