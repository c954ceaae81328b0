/**
 * Entity documents for the seed, shaped as Personium stores them (one
 * Elasticsearch hit per pjson line, spec §7): `_source` keys c (cell id), b (box
 * id, box-level types only), n (node id of the box's OData collection), s (static
 * properties), d (dynamic properties), h (hidden), l (links), p / u (published /
 * updated ms). Links (`_type: "link"`) use Personium's link shape instead:
 * t1/k1 and t2/k2 name the two linked entities.
 */
import { ENTITY_TYPES, type EntityDocument, type EntityType } from "@cellport/shared";
import type { Prng } from "./seed-random.ts";

/** Personium's default unit prefix; cell-level control data lives in `{prefix}_{owner}`-style indices. */
const INDEX = "u0_anon";

export interface EntityContext {
  cellId: string;
  /** Box ids; the main box's id is the cell id. */
  boxIds: readonly string[];
  /** Node id of the OData collection box-level entities belong to. */
  odataNodeId: string;
  baseTime: number;
}

const BOX_LEVEL: ReadonlySet<EntityType> = new Set<EntityType>([
  "EntityType",
  "ComplexType",
  "Property",
  "ComplexTypeProperty",
  "AssociationEnd",
  "UserData",
  "link",
]);

function sentence(prng: Prng, words: number): string {
  const pool = ["personal", "data", "store", "cell", "box", "message", "note", "shared", "private", "event"];
  return Array.from({ length: words }, () => prng.pick(pool)).join(" ");
}

function staticProps(type: EntityType, i: number, prng: Prng): Record<string, unknown> {
  const name = `${type.toLowerCase()}-${String(i).padStart(5, "0")}`;
  switch (type) {
    case "Box":
      return {
        Name: `box-${String(i).padStart(3, "0")}`,
        Schema: prng.next() < 0.5 ? null : `https://app${i}.example/`,
      };
    case "Account":
      return { Name: name, Type: "basic", Status: "active" };
    case "ExtCell":
      return { Url: `https://unit${prng.int(1, 9)}.example/cell-${prng.hex(6)}/` };
    case "Role":
    case "Relation":
    case "EntityType":
    case "ComplexType":
      return { Name: name };
    case "Rule":
      return { Name: name, EventExternal: false, EventType: "cellctl.Account.create", Action: "log" };
    case "SentMessage":
      return {
        Type: "message",
        Title: sentence(prng, 3),
        Body: sentence(prng, 12),
        To: `https://unit.example/peer-${i}/`,
      };
    case "ReceivedMessage":
      return {
        Type: "message",
        Title: sentence(prng, 3),
        Body: sentence(prng, 12),
        From: `https://unit.example/peer-${i}/`,
        Status: "unread",
      };
    case "ExtRole":
      return { ExtRole: `https://unit.example/other/__role/__/${name}`, "_Relation.Name": "friend" };
    case "Property":
    case "ComplexTypeProperty":
      return {
        Name: `prop${i}`,
        Type: prng.pick(["Edm.String", "Edm.Int32", "Edm.Boolean"]),
        Nullable: true,
      };
    case "AssociationEnd":
      return { Name: name, Multiplicity: prng.pick(["0..1", "1", "*"]) };
    case "UserData":
      return { __id: `row-${String(i).padStart(6, "0")}` };
    case "link":
      return {};
  }
}

function entityDoc(type: EntityType, i: number, prng: Prng, ctx: EntityContext): EntityDocument {
  const id = prng.hex(32);
  const p = ctx.baseTime + i * 1000 + prng.int(0, 999);
  const u = p + prng.int(0, 86_400_000);
  const boxLevel = BOX_LEVEL.has(type);
  const b = boxLevel
    ? prng.pick(ctx.boxIds)
    : type === "Role" && prng.next() < 0.5
      ? prng.pick(ctx.boxIds)
      : null;
  const n = boxLevel ? ctx.odataNodeId : null;
  if (type === "link") {
    return {
      _index: INDEX,
      _type: type,
      _id: id,
      _source: { c: ctx.cellId, b, n, t1: "Account", k1: prng.hex(32), t2: "Role", k2: prng.hex(32), p, u },
    };
  }
  const d: Record<string, unknown> =
    type === "UserData"
      ? { title: sentence(prng, 4), note: sentence(prng, 20), count: prng.int(0, 1000) }
      : {};
  const h: Record<string, unknown> =
    type === "Account" ? { HashedCredential: prng.hex(64), LastAuthenticated: null, Owner: null } : {};
  return {
    _index: INDEX,
    _type: type,
    _id: id,
    _source: { c: ctx.cellId, b, n, s: staticProps(type, i, prng), d, h, l: [], p, u },
  };
}

/** `count` documents of `type`, one at a time (the store writes them in batches). */
export function* entityDocs(
  type: EntityType,
  count: number,
  prng: Prng,
  ctx: EntityContext,
): Generator<EntityDocument> {
  for (let i = 0; i < count; i++) yield entityDoc(type, i, prng, ctx);
}

/** Box documents carry the ids the tree uses for the boxes' directories. */
export function boxDocs(boxIds: readonly string[], prng: Prng, ctx: EntityContext): EntityDocument[] {
  return boxIds.map((id, i) => ({ ...entityDoc("Box", i, prng, ctx), _id: id }));
}

export const ALL_TYPES: readonly EntityType[] = ENTITY_TYPES.map((t) => t.type);
