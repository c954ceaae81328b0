/**
 * Test helpers (not used by production code): hand-built zips with yazl, byte-level
 * patches that make them hostile (yazl itself refuses to write `..` or absolute
 * names), and a snapshot laid out as Personium writes one.
 */
import { writeFile } from "node:fs/promises";
import { ENTITY_TYPES, pjsonEntry } from "@cellport/shared";
import { ZipFile } from "yazl";

export interface ZipEntrySpec {
  name: string;
  /** File data; omitted for directories. */
  data?: string | Buffer;
  directory?: boolean;
  /** Unix mode (type bits included), stored in the external attributes. */
  mode?: number;
  /** Deflate (default) or store. */
  compress?: boolean;
}

const FIXED_MTIME = new Date("2017-02-13T09:00:00.000Z");

export async function buildZip(entries: readonly ZipEntrySpec[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const spec of entries) {
    const options = { mtime: FIXED_MTIME, ...(spec.mode === undefined ? {} : { mode: spec.mode }) };
    if (spec.directory) zip.addEmptyDirectory(spec.name, options);
    else
      zip.addBuffer(Buffer.from(spec.data ?? ""), spec.name, { ...options, compress: spec.compress ?? true });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function writeZip(path: string, entries: readonly ZipEntrySpec[]): Promise<Buffer> {
  const zip = await buildZip(entries);
  await writeFile(path, zip);
  return zip;
}

/**
 * Replaces every occurrence of `from` with `to` (same byte length) in the zip's bytes:
 * with a unique placeholder as the entry name, this renames the entry in both its
 * local and its central header, to names no zip writer would produce.
 */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  const a = Buffer.from(from);
  const b = Buffer.from(to);
  if (a.length !== b.length) throw new Error(`Expected names of equal byte length: ${from} / ${to}`);
  const out = Buffer.from(zip);
  let found = 0;
  for (let at = out.indexOf(a); at !== -1; at = out.indexOf(a, at + a.length)) {
    b.copy(out, at);
    found++;
  }
  if (found === 0) throw new Error(`${from} does not occur in the zip`);
  return out;
}

export interface CentralPatch {
  compressedSize?: number;
  uncompressedSize?: number;
  crc32?: number;
  externalFileAttributes?: number;
  versionMadeBy?: number;
  generalPurposeBitFlag?: number;
  compressionMethod?: number;
}

/** Rewrites fields of one entry's central directory header (where readers take them from). */
export function patchCentralEntry(zip: Buffer, name: string, patch: CentralPatch): Buffer {
  const out = Buffer.from(zip);
  const eocd = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd === -1) throw new Error("No end of central directory record");
  const count = out.readUInt16LE(eocd + 10);
  let at = out.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (out.readUInt32LE(at) !== 0x02014b50) throw new Error("Bad central directory header");
    const nameLength = out.readUInt16LE(at + 28);
    const extraLength = out.readUInt16LE(at + 30);
    const commentLength = out.readUInt16LE(at + 32);
    if (out.toString("utf8", at + 46, at + 46 + nameLength) === name) {
      if (patch.versionMadeBy !== undefined) out.writeUInt16LE(patch.versionMadeBy, at + 4);
      if (patch.generalPurposeBitFlag !== undefined) out.writeUInt16LE(patch.generalPurposeBitFlag, at + 8);
      if (patch.compressionMethod !== undefined) out.writeUInt16LE(patch.compressionMethod, at + 10);
      if (patch.crc32 !== undefined) out.writeUInt32LE(patch.crc32 >>> 0, at + 16);
      if (patch.compressedSize !== undefined) out.writeUInt32LE(patch.compressedSize, at + 20);
      if (patch.uncompressedSize !== undefined) out.writeUInt32LE(patch.uncompressedSize, at + 24);
      if (patch.externalFileAttributes !== undefined)
        out.writeUInt32LE(patch.externalFileAttributes >>> 0, at + 38);
      return out;
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`No entry ${name} in the central directory`);
}

// --- snapshots -------------------------------------------------------------------

/** The smallest valid snapshot: manifest, cell document, every pjson file empty. */
export function minimalSnapshotEntries(
  options: { unitUrl?: string; cellName?: string; cellId?: string; manifest?: string } = {},
): ZipEntrySpec[] {
  const unitUrl = options.unitUrl ?? "http://localhost:8080/";
  const cellName = options.cellName ?? "src";
  const cellId = options.cellId ?? "0123456789abcdef0123456789abcdef";
  return [
    {
      name: "00_manifest.json",
      data:
        options.manifest ??
        JSON.stringify({ export_version: 2, unit_url: unitUrl, create_date: 1486976400000 }),
    },
    {
      name: "10_odata/00_cell.json",
      data: JSON.stringify({
        _index: "u0_ad",
        _type: "Cell",
        _id: cellId,
        _source: { s: { Name: cellName }, h: { Owner: null }, p: 1486976400000, u: 1486976400000 },
      }),
    },
    ...ENTITY_TYPES.map((t) => ({ name: pjsonEntry(t.file), data: "" })),
  ];
}

/** What json-simple (Personium's JSON writer) does to every `/`. */
function personiumJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, "\\/");
}

export interface PersoniumSnapshot {
  entries: ZipEntrySpec[];
  unitUrl: string;
  cellName: string;
  cellId: string;
  boxId: string;
  /** The main box's file `docs/hello.txt` and its bytes. */
  fileText: string;
}

/**
 * A snapshot as Personium 1.7 writes it (SnapshotFileExportRunner): explicit directory
 * entries, `\/` escapes, keys in no particular order, the main box as `__/`, another
 * box by its id, ACLs whose `xml:base` names the source cell's URL.
 */
export function personiumSnapshot(
  options: { unitUrl?: string; cellName?: string; cellId?: string } = {},
): PersoniumSnapshot {
  const unitUrl = options.unitUrl ?? "https://personium.example/";
  const cellName = options.cellName ?? "pcell";
  const cellId = options.cellId ?? "a1b2c3d4e5f60718293a4b5c6d7e8f90";
  const boxId = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
  const cellUrl = `${unitUrl}${cellName}/`;
  const t = 1486976400000;
  const fileText = "Hello from Personium\n";
  const acl = {
    ace: [{ principal: { href: "admin" }, grant: { privilege: ["read"] } }],
    "xml:base": `${cellUrl}__role/__/`,
    requireSchemaAuthz: "none",
  };
  const entity = (type: string, id: string, source: Record<string, unknown>) =>
    personiumJson({ _source: { ...source, c: cellId, p: t, u: t }, _type: type, _id: id, _index: "u0_anon" });
  const pjson: Record<string, string> = {
    "10_box.pjson": `${entity("Box", boxId, { s: { Name: "box1", Schema: `${unitUrl}app/` }, b: null, n: null, d: {}, h: {}, l: [] })}\n`,
    "11_account.pjson": `${entity("Account", "acc00000000000000000000000000001", { s: { Name: "me", Type: "basic" }, b: null, n: null, d: {}, h: { HashedCredential: "x" }, l: [] })}\n`,
    "20_role.pjson": [
      entity("Role", "role0000000000000000000000000001", {
        s: { Name: "admin" },
        b: null,
        n: null,
        d: {},
        h: {},
        l: [],
      }),
      entity("Role", "role0000000000000000000000000002", {
        s: { Name: "viewer" },
        b: boxId,
        n: null,
        d: {},
        h: {},
        l: [],
      }),
    ].join("\n"),
    "12_extcell.pjson": `${entity("ExtCell", "ext00000000000000000000000000001", { s: { Url: `${unitUrl}friend/` }, b: null, n: null, d: {}, h: {}, l: [] })}\n`,
    "70_userdata.pjson": `${entity("UserData", "ud000000000000000000000000000001", { s: { __id: "row1", note: `see ${cellUrl}__/docs/hello.txt` }, b: cellId, n: "odatacol0000000000000000000000001", d: {}, h: {}, l: [] })}\n`,
  };
  const meta = (value: Record<string, unknown>) => personiumJson(value);
  const entries: ZipEntrySpec[] = [
    {
      name: "00_manifest.json",
      data: personiumJson({ unit_url: unitUrl, create_date: t, export_version: 2 }),
    },
    { name: "10_odata/", directory: true },
    {
      name: "10_odata/00_cell.json",
      data: personiumJson({
        _source: {
          p: t,
          s: { Name: cellName },
          u: t,
          h: { Owner: null },
          c: null,
          b: null,
          n: null,
          d: {},
          l: [],
        },
        _type: "Cell",
        _id: cellId,
        _index: "u0_ad",
      }),
    },
    ...ENTITY_TYPES.map((e) => ({ name: pjsonEntry(e.file), data: pjson[e.file] ?? "" })),
    { name: "20_webdav/", directory: true },
    {
      name: "20_webdav/.pmeta",
      data: meta({ p: t, a: {}, d: {}, i: cellId, t: "Cell", u: t, cs: "normal", et: "NONE" }),
    },
    { name: "20_webdav/__/", directory: true },
    {
      name: "20_webdav/__/.pmeta",
      data: meta({ u: t, t: "col.box", i: cellId, d: {}, a: acl, p: t, et: "NONE" }),
    },
    { name: "20_webdav/__/docs/", directory: true },
    {
      name: "20_webdav/__/docs/.pmeta",
      data: meta({
        t: "col.webdav",
        i: "c0110000000000000000000000000001",
        a: acl,
        d: {},
        p: t,
        u: t,
        et: "NONE",
      }),
    },
    { name: "20_webdav/__/docs/hello.txt/", directory: true },
    {
      name: "20_webdav/__/docs/hello.txt/.pmeta",
      data: meta({
        cl: Buffer.byteLength(fileText),
        ct: "text/plain",
        i: "f1le0000000000000000000000000001",
        t: "dav.file",
        a: {},
        d: {},
        p: t,
        u: t,
        et: "NONE",
      }),
    },
    { name: "20_webdav/__/docs/hello.txt/content", data: fileText },
    { name: `20_webdav/${boxId}/`, directory: true },
    {
      name: `20_webdav/${boxId}/.pmeta`,
      data: meta({ i: boxId, t: "col.box", a: {}, d: {}, p: t, u: t, et: "NONE" }),
    },
  ];
  return { entries, unitUrl, cellName, cellId, boxId, fileText };
}
