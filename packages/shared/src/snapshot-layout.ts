/** The snapshot zip layout, export_version 2 (spec §7). One place for every entry name. */

export const EXPORT_VERSION = 2;
export const MANIFEST_ENTRY = "00_manifest.json";
export const ODATA_DIR = "10_odata/";
export const CELL_DOCUMENT_ENTRY = "10_odata/00_cell.json";
export const WEBDAV_DIR = "20_webdav/";
/** The main box's directory inside `20_webdav/`. */
export const MAIN_BOX_DIR = "__";

/** Entity types in export order: the pjson file that holds each, and its `_type`. */
export const ENTITY_TYPES = [
  { type: "Box", file: "10_box.pjson" },
  { type: "Account", file: "11_account.pjson" },
  { type: "ExtCell", file: "12_extcell.pjson" },
  { type: "Role", file: "20_role.pjson" },
  { type: "Rule", file: "21_rule.pjson" },
  { type: "Relation", file: "22_relation.pjson" },
  { type: "SentMessage", file: "23_sentmessage.pjson" },
  { type: "ReceivedMessage", file: "24_receivedmessage.pjson" },
  { type: "ExtRole", file: "30_extrole.pjson" },
  { type: "EntityType", file: "40_entitytype.pjson" },
  { type: "ComplexType", file: "41_complextype.pjson" },
  { type: "Property", file: "50_property.pjson" },
  { type: "ComplexTypeProperty", file: "51_complextypeproperty.pjson" },
  { type: "AssociationEnd", file: "60_associationend.pjson" },
  { type: "UserData", file: "70_userdata.pjson" },
  { type: "link", file: "80_link.pjson" },
] as const;

export type EntityType = (typeof ENTITY_TYPES)[number]["type"];

export const ENTITY_TYPE_NAMES: readonly EntityType[] = ENTITY_TYPES.map((t) => t.type);

export function pjsonEntry(file: string): string {
  return `${ODATA_DIR}${file}`;
}

/** Entries an importable snapshot must contain (PR400-MC-0001 otherwise). */
export const REQUIRED_ENTRIES: readonly string[] = [
  MANIFEST_ENTRY,
  CELL_DOCUMENT_ENTRY,
  ...ENTITY_TYPES.map((t) => pjsonEntry(t.file)),
];

/** Names in the cell's file tree that never go into a snapshot. */
export const EXCLUDED_TREE_NAMES: ReadonlySet<string> = new Set([".pkeys", ".pauthhistory"]);

export interface SnapshotManifest {
  export_version: number;
  unit_url: string;
  create_date: number;
}

/** One line of a pjson file. */
export interface EntityDocument {
  _index?: string;
  _type: string;
  _id: string;
  _source: Record<string, unknown>;
}

/** `.pmeta` resource types. */
export type ResourceType =
  | "Cell"
  | "col.box"
  | "col.webdav"
  | "col.odata"
  | "col.svc"
  | "col.stream"
  | "dav.file";

/** `.pmeta` document (keys as Personium writes them). */
export interface ResourceMeta {
  i: string;
  t: ResourceType;
  a?: unknown;
  d?: Record<string, unknown>;
  p: number;
  u: number;
  ct?: string;
  cl?: number;
  et?: string;
  v?: number;
  cs?: string;
  [key: string]: unknown;
}
