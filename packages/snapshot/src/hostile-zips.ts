/**
 * Hostile snapshot archives for property tests (`@cellport/snapshot/hostile-zips`;
 * not used by production code): a valid snapshot taken apart the ways attackers and
 * broken writers do — entry names that climb out (`..`, absolute, backslashes, NUL,
 * drive letters), symbolic links, declared sizes that lie, unknown compression,
 * encryption flags, duplicated or missing entries, bad manifests, compression bombs,
 * and truncated or garbage bytes. The api's POST `__import` and the worker's import
 * are checked against the same generator.
 *
 * yazl refuses to write most hostile names, so an entry is written under a
 * placeholder of the same byte length and renamed in the finished bytes (both its
 * local and its central header), as `renameEntry` does for the hand-written cases.
 */
import fc from "fast-check";
import {
  buildZip,
  minimalSnapshotEntries,
  patchCentralEntry,
  personiumSnapshot,
  renameEntry,
} from "./testing.ts";

/** An entry added to the snapshot, under any name. */
export interface AddedEntry {
  name: string;
  data: string | Uint8Array;
  /** Unix mode with type bits (e.g. a symlink, 0o120777). */
  mode?: number;
  compress: boolean;
}

/** A rewrite of one entry's central-directory fields (where readers take them from). */
export interface CentralPatch {
  /** Index into the base archive's entry names. */
  entry: number;
  uncompressedSize?: number;
  compressedSize?: number;
  crc32?: number;
  compressionMethod?: number;
  generalPurposeBitFlag?: number;
  externalFileAttributes?: number;
}

export type ByteMutation =
  /** Keep only this fraction of the bytes. */
  | { kind: "truncate"; at: number }
  /** Overwrite bytes at this fraction of the length. */
  | { kind: "overwrite"; at: number; bytes: Uint8Array }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "prepend"; bytes: Uint8Array };

export interface HostileArchiveSpec {
  base: "minimal" | "personium";
  /** Indexes into the base entries to leave out (required ones among them). */
  drop: number[];
  /** Replaces the manifest's text. */
  manifest?: string;
  added: AddedEntry[];
  patches: CentralPatch[];
  bytes: ByteMutation[];
}

function baseEntries(base: HostileArchiveSpec["base"]) {
  return base === "minimal" ? minimalSnapshotEntries() : personiumSnapshot().entries;
}

/** The base archive's entry names, in order (what `drop` and `patches` index). */
export function baseEntryNames(base: HostileArchiveSpec["base"]): string[] {
  return baseEntries(base).map((e) => e.name);
}

/** Added names are at least this long, so each gets a placeholder of its own. */
const MIN_NAME_BYTES = 4;

/**
 * A placeholder yazl accepts, `bytes` (≥ 4) long, that occurs nowhere else in the
 * archive: `~` never appears in the base entries' names or data, nor in generated data.
 */
function placeholder(index: number, bytes: number): string {
  const tag = `~${index}~`;
  if (bytes < MIN_NAME_BYTES || tag.length > bytes) {
    throw new RangeError(`Expected an added entry name of ${MIN_NAME_BYTES}+ bytes, got ${bytes}`);
  }
  return tag + "~".repeat(bytes - tag.length);
}

export async function buildHostileArchive(spec: HostileArchiveSpec): Promise<Buffer> {
  const base = baseEntries(spec.base);
  const names = base.map((e) => e.name);
  const entries = base
    .filter((_, i) => !spec.drop.includes(i))
    .map((e) =>
      spec.manifest !== undefined && e.name === "00_manifest.json" ? { ...e, data: spec.manifest } : e,
    );
  const renames: Array<[string, string]> = [];
  spec.added.forEach((added, i) => {
    const name = placeholder(i, Buffer.byteLength(added.name));
    renames.push([name, added.name]);
    entries.push({
      name,
      data: Buffer.from(added.data),
      compress: added.compress,
      ...(added.mode !== undefined ? { mode: added.mode } : {}),
    });
  });

  let zip = await buildZip(entries);
  for (const [from, to] of renames) zip = renameEntry(zip, from, to);
  for (const patch of spec.patches) {
    const target = names[patch.entry % names.length] ?? names[0] ?? "";
    if (spec.drop.includes(patch.entry % names.length)) continue;
    const { entry: _entry, ...fields } = patch;
    zip = patchCentralEntry(zip, target, fields);
  }
  for (const mutation of spec.bytes) zip = mutate(zip, mutation);
  return zip;
}

function mutate(zip: Buffer, mutation: ByteMutation): Buffer {
  switch (mutation.kind) {
    case "truncate":
      return zip.subarray(0, Math.floor(zip.length * mutation.at));
    case "overwrite": {
      const out = Buffer.from(zip);
      const at = Math.floor(out.length * mutation.at);
      Buffer.from(mutation.bytes).copy(out, at);
      return out;
    }
    case "append":
      return Buffer.concat([zip, mutation.bytes]);
    case "prepend":
      return Buffer.concat([mutation.bytes, zip]);
  }
}

// --- fast-check arbitraries ------------------------------------------------------

const SEGMENTS = [
  "..",
  ".",
  "",
  "a",
  "b.txt",
  "__",
  "20_webdav",
  "10_odata",
  ".pmeta",
  "content",
  ".pkeys",
  ".pauthhistory",
  "..\\..",
  "a\\..\\b",
  "a\u0000b",
  "C:",
  "c:\\x",
  "%2e%2e",
  "%2F",
  "\u202e",
  "ü",
  "x".repeat(300),
];

/** One path segment: a known troublemaker or a short random one. */
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((s) => s.replace(/[~/]/g, "")) },
);

/** Entry names, mostly where an import would write (`20_webdav/…`), many of them hostile. */
export const hostileName: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("", "", "/", "20_webdav/", "20_webdav/__/", "10_odata/", "20_webdav/__/docs/"),
    fc.array(segment, { minLength: 1, maxLength: 5 }),
    fc.constantFrom("", "", "/", "/content", "/.pmeta"),
  )
  .map(([head, segments, tail]) => `${head}${segments.join("/")}${tail}`)
  .filter(
    (name) =>
      !name.includes("~") && Buffer.byteLength(name) >= MIN_NAME_BYTES && Buffer.byteLength(name) < 2_000,
  );

const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 64 });
/** Entry data; `~` is kept out (it marks placeholders). */
const entryData = fc.oneof(
  fc.string({ maxLength: 200 }).map((s) => s.replace(/~/g, "")),
  fc.constantFrom("{}", '{"t":"dav.file"}', "../../../etc/passwd", "/etc/passwd"),
  // A compression bomb: tiny in the archive, large once inflated.
  fc.integer({ min: 100_000, max: 2_000_000 }).map((n) => new Uint8Array(n)),
);

const addedEntry: fc.Arbitrary<AddedEntry> = fc.record({
  name: hostileName,
  data: entryData,
  mode: fc.option(fc.constantFrom(S_IFLNK | 0o777, S_IFREG | 0o644, S_IFDIR | 0o755, 0o010644, 0o140777), {
    nil: undefined,
  }),
  compress: fc.boolean(),
});

const centralPatch: fc.Arbitrary<CentralPatch> = fc.record(
  {
    entry: fc.nat(40),
    uncompressedSize: fc.constantFrom(0, 1, 7, 1_000, 2 ** 31, 0xfffffffe, 0xffffffff),
    compressedSize: fc.constantFrom(0, 1, 3, 0xffffffff),
    crc32: fc.nat(),
    compressionMethod: fc.constantFrom(0, 1, 9, 12, 14, 99),
    generalPurposeBitFlag: fc.constantFrom(0x1, 0x8, 0x41, 0x800, 0x2000),
    externalFileAttributes: fc.constantFrom(
      (S_IFLNK | 0o777) << 16,
      (S_IFDIR | 0o755) << 16,
      0x10,
      0xffffffff,
    ),
  },
  { requiredKeys: ["entry"] },
);

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
  fc.record({
    kind: fc.constant("overwrite" as const),
    at: fc.double({ min: 0, max: 0.999, noNaN: true }),
    bytes: smallBytes,
  }),
  fc.record({ kind: fc.constant("append" as const), bytes: smallBytes }),
  fc.record({ kind: fc.constant("prepend" as const), bytes: smallBytes }),
);

const manifestText = fc.oneof(
  fc.constantFrom(
    "",
    "{",
    "null",
    "[]",
    '{"export_version":1}',
    '{"export_version":"2"}',
    '{"export_version":2.5}',
    '{"export_version":2,"unit_url":42}',
    '{"export_version":2,"unit_url":"javascript:alert(1)"}',
  ),
  fc.json().map((s) => s.replace(/~/g, "")),
);

/** Names an import may well accept: new resources in the main box's tree. */
const plausibleName: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("20_webdav/__/", "20_webdav/__/docs/", "99_extra/"),
    fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,11}$/),
    fc.constantFrom("/content", "/.pmeta", ".txt/content", ""),
  )
  .map(([head, name, tail]) => `${head}${name}${tail}`)
  .filter((name) => Buffer.byteLength(name) >= MIN_NAME_BYTES);

/** Often nothing, sometimes a few: each kind of damage shows up alone as well as combined. */
function some<T>(arbitrary: fc.Arbitrary<T>, maxLength: number, noneWeight: number): fc.Arbitrary<T[]> {
  return fc.oneof(
    { weight: noneWeight, arbitrary: fc.constant([] as T[]) },
    { weight: 1, arbitrary: fc.array(arbitrary, { minLength: 1, maxLength }) },
  );
}

/**
 * A hostile archive: a valid snapshot with a few of the changes above. Some results
 * are still valid snapshots (a plausible new entry, a patch that changes nothing):
 * the properties state what must hold either way.
 */
export const hostileArchive: fc.Arbitrary<HostileArchiveSpec> = fc.record({
  base: fc.constantFrom("minimal" as const, "personium" as const),
  drop: some(fc.nat(30), 2, 6),
  manifest: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: manifestText },
  ),
  added: fc.array(
    addedEntry.chain((entry) =>
      fc.oneof(
        { weight: 1, arbitrary: fc.constant(entry) },
        { weight: 1, arbitrary: plausibleName.map((name) => ({ ...entry, name, mode: undefined })) },
      ),
    ),
    { maxLength: 3 },
  ),
  patches: some(centralPatch, 2, 4),
  bytes: some(byteMutation, 2, 5),
});
