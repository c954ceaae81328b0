/**
 * The snapshot area (spec §6) and import (spec §4) end to end: the real api and
 * worker processes, real Redis, HTTP only. The first block runs with the api alone,
 * so a queued import holds its cell for as long as the test needs (no worker to
 * finish it); the worker is started after it.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { EntityDocument } from "@cellport/shared";
import { readSnapshot } from "@cellport/snapshot";
import {
  buildZip,
  minimalSnapshotEntries,
  patchCentralEntry,
  personiumSnapshot,
  renameEntry,
  type ZipEntrySpec,
} from "@cellport/snapshot/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authHeaders, eventually } from "./support/http.ts";
import {
  type ApiProc,
  cleanupContext,
  createContext,
  type Proc,
  type StackContext,
  startApi,
  startWorker,
} from "./support/processes.ts";

let ctx: StackContext;
let api: ApiProc;
let worker: Proc | undefined;
let cellCounter = 0;
let exportCounter = 0;

beforeAll(async () => {
  ctx = await createContext();
  api = await startApi(ctx);
});
afterAll(async () => {
  const statuses = await Promise.all([worker?.stop("SIGTERM"), api?.stop("SIGTERM")]);
  await cleanupContext(ctx);
  for (const status of statuses) if (status) expect(status).toEqual({ code: 0, signal: null });
});

interface CallInit {
  headers?: Record<string, string>;
  body?: string | Buffer;
  token?: string | null;
}

function call(method: string, urlPath: string, init: CallInit = {}): Promise<Response> {
  const token = init.token === undefined ? ctx.masterToken : init.token;
  return fetch(`${api.baseUrl}${urlPath}`, {
    method,
    headers: { ...(token ? authHeaders(token) : {}), ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { code: string; message: { value: string } };
  return { code: body.code, message: body.message.value };
}

async function newCell(label = "c"): Promise<string> {
  cellCounter += 1;
  const name = `${label}-${cellCounter}`;
  const res = await call("POST", "__ctl/Cell", { body: JSON.stringify({ Name: name }) });
  expect(res.status).toBe(201);
  return name;
}

async function putSnapshot(cell: string, file: string, zip: Buffer | ZipEntrySpec[]): Promise<Response> {
  const body = Buffer.isBuffer(zip) ? zip : await buildZip(zip);
  return call("PUT", `${cell}/__snapshot/${file}`, { body, headers: { "Content-Type": "application/zip" } });
}

async function importStatus(cell: string): Promise<Record<string, unknown>> {
  const res = await call("GET", `${cell}/__import`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** The worker is started by the first test; here too, for when that test is filtered out. */
async function ensureWorker(): Promise<void> {
  worker ??= await startWorker(ctx);
}

/** POSTs the import and waits (bounded) until the cell is no longer importing; returns the final status. */
async function importAndWait(cell: string, name: string): Promise<Record<string, unknown>> {
  await ensureWorker();
  const res = await call("POST", `${cell}/__import`, { body: JSON.stringify({ Name: name }) });
  expect(res.status, JSON.stringify(await res.clone().text())).toBe(202);
  return eventually(async () => {
    const status = await importStatus(cell);
    return status.status === "importation in progress" ? undefined : status;
  }, 60_000);
}

/** Exports the cell and downloads the zip. */
async function exportCell(cell: string): Promise<Buffer> {
  await ensureWorker();
  exportCounter += 1;
  const name = `e2e-export-${exportCounter}`;
  const res = await call("POST", `${cell}/__export`, { body: JSON.stringify({ Name: name }) });
  expect(res.status).toBe(202);
  return eventually(async () => {
    const file = await call("GET", `${cell}/__snapshot/${name}.zip`);
    if (file.status !== 200) return undefined;
    return Buffer.from(await file.arrayBuffer());
  }, 60_000);
}

interface SnapshotContent {
  cellId: string;
  entities: Record<string, EntityDocument[]>;
  metas: Record<string, Record<string, unknown>>;
  contents: Record<string, string>;
}

async function readZipContent(zip: Buffer): Promise<SnapshotContent> {
  const file = path.join(tmpdir(), `cellport-e2e-read-${randomBytes(4).toString("hex")}.zip`);
  await writeFile(file, zip);
  const content: SnapshotContent = { cellId: "", entities: {}, metas: {}, contents: {} };
  try {
    for await (const item of readSnapshot(file)) {
      if (item.kind === "cell") content.cellId = String(item.document._id);
      else if (item.kind === "entities") {
        const docs: EntityDocument[] = [];
        for await (const doc of item.documents) docs.push(doc);
        content.entities[item.type] = docs;
      } else if (item.kind === "tree-meta") content.metas[item.path] = item.meta;
      else if (item.kind === "tree-content") {
        const chunks: Buffer[] = [];
        for await (const chunk of item.body) chunks.push(chunk as Buffer);
        content.contents[item.path] = Buffer.concat(chunks).toString("base64");
      }
    }
  } finally {
    await rm(file, { force: true });
  }
  return content;
}

/** What a client sees of a cell's main box: every path (collections end in `/`) with its bytes. */
async function boxFiles(cell: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  async function walk(collection: string): Promise<void> {
    const res = await call("PROPFIND", `${cell}/${collection}`, { headers: { Depth: "1" } });
    expect(res.status).toBe(207);
    const xml = await res.text();
    for (const response of xml.split("<response>").slice(1)) {
      const href = /<href>([^<]+)<\/href>/.exec(response)?.[1] ?? "";
      const relative = decodeURIComponent(new URL(href).pathname).slice(`/${cell}/`.length);
      if (relative === collection) continue;
      if (response.includes("<collection/>")) {
        files[`${relative}/`] = "";
        await walk(relative);
      } else {
        const file = await call("GET", `${cell}/${relative}`);
        files[relative] =
          `${file.headers.get("content-type")} ${Buffer.from(await file.arrayBuffer()).toString("base64")}`;
      }
    }
  }
  await walk("__");
  return files;
}

describe("with the api alone: an import stays queued and holds the cell", () => {
  it("202 + Location; status in progress; every write to the cell is 409 [cell import]", async () => {
    const cell = await newCell("held");
    expect((await putSnapshot(cell, "s.zip", minimalSnapshotEntries())).status).toBe(201);
    const res = await call("POST", `${cell}/__import`, {
      body: '{"Name":"s"}',
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(`${api.baseUrl}${cell}/__import`);
    expect(await res.text()).toBe("");
    const status = await importStatus(cell);
    expect(status).toMatchObject({
      status: "importation in progress",
      progress: "0%",
      importation_name: "s",
    });
    expect(String(status.started_at)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const locked = {
      code: "PR409-CM-0002",
      message: "Because [cell import] is being executed, writing to cell can not be done.",
    };
    expect(await errorOf(await call("POST", `${cell}/__import`, { body: '{"Name":"s"}' }))).toEqual(locked);
    expect(await errorOf(await call("POST", `${cell}/__export`))).toEqual(locked);
    expect(await errorOf(await putSnapshot(cell, "t.zip", minimalSnapshotEntries()))).toEqual(locked);
    expect(await errorOf(await call("DELETE", `${cell}/__snapshot/s.zip`))).toEqual(locked);
    expect(await errorOf(await call("PUT", `${cell}/__/x.txt`, { body: "x" }))).toEqual(locked);
    // Reads keep working.
    expect((await call("GET", `${cell}/__snapshot/s.zip`)).status).toBe(200);
    expect((await call("PROPFIND", `${cell}/__snapshot`, { headers: { Depth: "1" } })).status).toBe(207);
    expect(await (await call("GET", `${cell}/__export`)).json()).toEqual({ status: "ready" });

    // The worker picks the queued import up and finishes it.
    await ensureWorker();
    const done = await eventually(async () => {
      const s = await importStatus(cell);
      return s.status === "importation in progress" ? undefined : s;
    }, 60_000);
    expect(done).toEqual({ status: "ready" });
    expect((await putSnapshot(cell, "t.zip", minimalSnapshotEntries())).status).toBe(201);
  });
});

describe("POST __import (spec §4.1)", () => {
  it.each<[string, string | undefined, number, string, string]>([
    ["empty body", undefined, 400, "PR400-CM-0004", "JSON parse error. []."],
    ["{}", "{}", 400, "PR400-CM-0001", "Required key [Name] missing."],
    [
      "bad Name",
      '{"Name":"a/b"}',
      400,
      "PR400-CM-0002",
      "Field [Name] format error. Must be [^[a-zA-Z0-9-_]{1,192}$].",
    ],
    ["missing zip", '{"Name":"nope"}', 404, "PR404-DV-0001", "Resource not found. [nope.zip]."],
  ])("%s → %i %s", async (_label, body, status, code, message) => {
    const cell = await newCell();
    const res = await call("POST", `${cell}/__import`, body === undefined ? {} : { body });
    expect(res.status).toBe(status);
    expect(await errorOf(res)).toEqual({ code, message });
  });

  it.each<[string, () => Promise<Buffer>, string]>([
    ["not a zip", async () => Buffer.from("hello"), "PR400-MC-0004"],
    [
      "manifest not JSON",
      async () => buildZip(minimalSnapshotEntries({ manifest: "nope" })),
      "PR400-CM-0004",
    ],
    [
      "export_version 1",
      async () => buildZip(minimalSnapshotEntries({ manifest: '{"export_version":1}' })),
      "PR400-MC-0003",
    ],
    [
      "a required entry missing",
      async () => buildZip(minimalSnapshotEntries().filter((e) => e.name !== "10_odata/00_cell.json")),
      "PR400-MC-0001",
    ],
  ])("%s → 400 %s before the 202", async (_label, make, code) => {
    const cell = await newCell();
    await putSnapshot(cell, "s.zip", await make());
    const res = await call("POST", `${cell}/__import`, { body: '{"Name":"s"}' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe(code);
    expect(await importStatus(cell)).toEqual({ status: "ready" });
  });

  it("needs root: 401 without a token, and 405 with the spec's Allow list for PUT", async () => {
    const cell = await newCell();
    expect((await call("POST", `${cell}/__import`, { token: null, body: '{"Name":"s"}' })).status).toBe(401);
    const put = await call("PUT", `${cell}/__import`);
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("OPTIONS, GET, POST");
  });
});

describe("imports (spec §4.3)", () => {
  it("a snapshot laid out by hand as Personium writes it imports, rewritten for the target cell", async () => {
    const cell = await newCell("pers");
    const snapshot = personiumSnapshot();
    await putSnapshot(cell, "pers.zip", snapshot.entries);
    expect(await importAndWait(cell, "pers")).toEqual({ status: "ready" });

    const hello = await call("GET", `${cell}/__/docs/hello.txt`);
    expect(hello.status).toBe(200);
    expect(hello.headers.get("content-type")).toBe("text/plain");
    expect(await hello.text()).toBe(snapshot.fileText);

    const exported = await readZipContent(await exportCell(cell));
    expect(exported.cellId).not.toBe(snapshot.cellId);
    expect(exported.entities.Role?.map((d) => d._id)).toEqual([
      "role0000000000000000000000000001",
      "role0000000000000000000000000002",
    ]);
    const all = Object.values(exported.entities).flat();
    expect(all).toHaveLength(6);
    for (const doc of all) expect(doc._source.c).toBe(exported.cellId);
    expect(exported.entities.UserData?.[0]?._source.s).toMatchObject({
      note: `see ${api.baseUrl}${cell}/__/docs/hello.txt`,
    });
    expect(exported.metas["__/.pmeta"]).toMatchObject({
      i: exported.cellId,
      a: { "xml:base": `${api.baseUrl}${cell}/__role/__/` },
    });
    expect(JSON.stringify(exported)).not.toContain("personium.example");
  });

  it("round trip: export(A) → PUT into B's snapshot area → import(B): B's entities and files equal A's", async () => {
    const a = await newCell("a");
    // Entities enter a cell by import: give A some, then files of its own through WebDAV.
    await putSnapshot(a, "seed.zip", personiumSnapshot().entries);
    expect(await importAndWait(a, "seed")).toEqual({ status: "ready" });
    expect((await call("MKCOL", `${a}/__/photos`)).status).toBe(201);
    const photo = randomBytes(300_000);
    expect(
      (await call("PUT", `${a}/__/photos/p1.bin`, { body: photo, headers: { "Content-Type": "image/png" } }))
        .status,
    ).toBe(201);
    expect(
      (await call("PUT", `${a}/__/note.txt`, { body: "a note", headers: { "Content-Type": "text/plain" } }))
        .status,
    ).toBe(201);

    const zipA = await exportCell(a);
    const b = await newCell("b");
    expect((await putSnapshot(b, "from-a.zip", zipA)).status).toBe(201);
    expect(await importAndWait(b, "from-a")).toEqual({ status: "ready" });

    const filesA = await boxFiles(a);
    expect(Object.keys(filesA).sort()).toEqual([
      "__/docs/",
      "__/docs/hello.txt",
      "__/note.txt",
      "__/photos/",
      "__/photos/p1.bin",
    ]);
    expect(await boxFiles(b)).toEqual(filesA);
    const contentA = await readZipContent(zipA);
    const contentB = await readZipContent(await exportCell(b));
    const asB = JSON.parse(
      JSON.stringify(contentA.entities)
        .replaceAll(contentA.cellId, contentB.cellId)
        .replaceAll(`/${a}/`, `/${b}/`),
    );
    expect(contentB.entities).toEqual(asB);
    expect(contentB.contents).toEqual(contentA.contents);
  });

  it("a failed import leaves the cell exactly as it was; GET __import says why until the next import", async () => {
    const cell = await newCell("fail");
    expect(
      (
        await call("PUT", `${cell}/__/keep.txt`, {
          body: "keep me",
          headers: { "Content-Type": "text/plain" },
        })
      ).status,
    ).toBe(201);
    const before = await boxFiles(cell);
    const entitiesBefore = (await readZipContent(await exportCell(cell))).entities;

    // Valid up to the 202; the worker finds the bad line while streaming (after writing other parts).
    const entries = personiumSnapshot().entries.map((e) =>
      e.name === "10_odata/80_link.pjson" ? { ...e, data: "{not json\n" } : e,
    );
    await putSnapshot(cell, "bad.zip", entries);
    const failed = await importAndWait(cell, "bad");
    expect(failed).toMatchObject({
      status: "import failed",
      importation_name: "bad",
      message: {
        code: "PR400-MC-9005",
        message: {
          lang: "en",
          value: "[10_odata/80_link.pjson] file format error in the snapshot file: line 1 is not JSON.",
        },
      },
    });
    expect(String(failed.progress)).toMatch(/^\d{1,3}%$/);
    expect(Object.keys(failed)).toEqual(["status", "started_at", "progress", "importation_name", "message"]);

    expect(await boxFiles(cell)).toEqual(before);
    expect((await readZipContent(await exportCell(cell))).entities).toEqual(entitiesBefore);
    // The cell stays usable, and the next good import clears the failure.
    expect((await call("PUT", `${cell}/__/after.txt`, { body: "x" })).status).toBe(201);
    await putSnapshot(cell, "good.zip", minimalSnapshotEntries());
    expect(await importAndWait(cell, "good")).toEqual({ status: "ready" });
  });

  it("a zip bomb lying about its size fails in the worker at its first extra byte; the cell is intact", async () => {
    const cell = await newCell("bomb");
    expect((await call("PUT", `${cell}/__/keep.txt`, { body: "keep" })).status).toBe(201);
    const before = await boxFiles(cell);
    const zip = await buildZip([
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/bomb.bin/.pmeta", data: '{"i":"b","t":"dav.file","p":1,"u":1}' },
      { name: "20_webdav/__/bomb.bin/content", data: Buffer.alloc(16 * 1024 * 1024) },
    ]);
    await putSnapshot(
      cell,
      "bomb.zip",
      patchCentralEntry(zip, "20_webdav/__/bomb.bin/content", { uncompressedSize: 1024 }),
    );
    const failed = await importAndWait(cell, "bomb");
    expect(failed).toMatchObject({ status: "import failed", message: { code: "PR400-MC-9001" } });
    expect(JSON.stringify(failed)).toContain("more data than its declared size of 1024 bytes");
    expect(await boxFiles(cell)).toEqual(before);
  });

  it("hostile entry names are refused before the 202, and nothing is written outside the data dir", async () => {
    const cell = await newCell("evil");
    const marker = `escaped-${randomBytes(3).toString("hex")}`;
    const hostile = [
      `../../../${marker}/.pmeta`,
      `/tmp/${marker}/.pmeta`,
      `20_webdav/__\\..\\..\\${marker}/.pmeta`,
      `20_webdav/__/${marker}\u0000/.pmeta`,
    ];
    for (const name of hostile) {
      const placeholder = `q${"Q".repeat(Buffer.byteLength(name) - 1)}`;
      const zip = await buildZip([
        ...minimalSnapshotEntries(),
        { name: placeholder, data: '{"t":"col.webdav"}' },
      ]);
      await putSnapshot(cell, "evil.zip", renameEntry(zip, placeholder, name));
      const res = await call("POST", `${cell}/__import`, { body: '{"Name":"evil"}' });
      expect(res.status, name).toBe(400);
      expect((await errorOf(res)).code).toBe("PR400-MC-9001");
    }
    const symlink = await buildZip([
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/l/content", data: "/etc/passwd", mode: 0o120777 },
    ]);
    await putSnapshot(cell, "evil.zip", symlink);
    expect((await errorOf(await call("POST", `${cell}/__import`, { body: '{"Name":"evil"}' }))).code).toBe(
      "PR400-MC-9001",
    );
    expect(existsSync(path.join(tmpdir(), marker))).toBe(false);
    expect((await listFiles()).filter((f) => f.includes(marker))).toEqual([]);
    expect(await importStatus(cell)).toEqual({ status: "ready" });
  });
});

describe("the snapshot area over HTTP (spec §6)", () => {
  it("PROPFIND: Depth checks, then a pretty-printed DAV multistatus of the committed files", async () => {
    const cell = await newCell("area");
    expect(await errorOf(await call("PROPFIND", `${cell}/__snapshot`))).toEqual({
      code: "PR400-DV-0003",
      message: "Invalid depth header value:[null].",
    });
    expect((await call("PROPFIND", `${cell}/__snapshot`, { headers: { Depth: "infinity" } })).status).toBe(
      403,
    );
    expect(
      (await call("PROPFIND", `${cell}/__snapshot`, { headers: { Depth: "1" }, body: "<x" })).status,
    ).toBe(400);
    await putSnapshot(cell, "one.zip", minimalSnapshotEntries());
    const res = await call("PROPFIND", `${cell}/__snapshot`, { headers: { Depth: "1" } });
    expect(res.status).toBe(207);
    expect(res.headers.get("content-type")).toMatch(/^application\/xml/);
    const xml = await res.text();
    expect(xml).toContain('<multistatus xmlns="DAV:">\n    <response>\n        <href>');
    expect(xml).toContain(`<href>${api.baseUrl}${cell}/__snapshot/one.zip</href>`);
    expect(xml).toMatch(
      /<getlastmodified>[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT<\/getlastmodified>/,
    );
  });

  it("PUT / GET (ETag, 304, Range) / DELETE, If-Match, REPORT", async () => {
    const cell = await newCell("files");
    const data = randomBytes(5000);
    const created = await putSnapshot(cell, "f.zip", data);
    expect(created.status).toBe(201);
    const etag = created.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"\d+-\d+"$/);

    const get = await call("GET", `${cell}/__snapshot/f.zip`);
    expect(get.status).toBe(200);
    expect(get.headers.get("content-length")).toBe("5000");
    expect(get.headers.get("etag")).toBe(etag);
    expect(get.headers.get("accept-ranges")).toBe("bytes");
    expect(get.headers.get("content-type")).toBe("application/zip");
    expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);

    expect(
      (await call("GET", `${cell}/__snapshot/f.zip`, { headers: { "If-None-Match": etag } })).status,
    ).toBe(304);
    expect(
      (await call("GET", `${cell}/__snapshot/f.zip`, { headers: { "If-None-Match": "*" } })).status,
    ).toBe(200);
    const range = await call("GET", `${cell}/__snapshot/f.zip`, { headers: { Range: "bytes=100-199" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe("bytes 100-199/5000");
    expect(Buffer.from(await range.arrayBuffer()).equals(data.subarray(100, 200))).toBe(true);
    const unsatisfiable = await call("GET", `${cell}/__snapshot/f.zip`, {
      headers: { Range: "bytes=9000-" },
    });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get("content-range")).toBe("bytes */5000");

    expect((await putSnapshot(cell, "f.zip", data)).status).toBe(204);
    expect(
      (await call("PUT", `${cell}/__snapshot/f.zip`, { body: "x", headers: { "If-Match": etag } })).status,
    ).toBe(412);
    expect((await call("DELETE", `${cell}/__snapshot/f.zip`, { headers: { "If-Match": etag } })).status).toBe(
      412,
    );
    expect(await errorOf(await call("REPORT", `${cell}/__snapshot/f.zip`))).toEqual({
      code: "PR501-MC-0001",
      message: "Method not implemented.",
    });
    const post = await call("POST", `${cell}/__snapshot/f.zip`);
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("OPTIONS, GET, PUT, DELETE, PROPFIND");
    expect((await call("DELETE", `${cell}/__snapshot/f.zip`)).status).toBe(204);
    const gone = await call("GET", `${cell}/__snapshot/f.zip`);
    expect(gone.status).toBe(404);
    expect(await errorOf(gone)).toEqual({
      code: "PR404-DV-0001",
      message: `Resource not found. [${api.baseUrl}${cell}/__snapshot/f.zip].`,
    });
  });

  it("no FileName escapes the cell's snapshot directory (raw paths, not normalised by a client)", async () => {
    const cell = await newCell("escape");
    const marker = `esc-${randomBytes(3).toString("hex")}.zip`;
    const rawPaths = [
      `/${cell}/__snapshot/..%2F..%2F${marker}`,
      `/${cell}/__snapshot/%2E%2E%2F%2E%2E%2F${marker}`,
      `/${cell}/__snapshot/..%5C..%5C${marker}`,
      `/${cell}/__snapshot/%2Ftmp%2F${marker}`,
      `/${cell}/__snapshot/${marker}%00`,
      `/${cell}/__snapshot/../../${marker}`,
      `/${cell}/__snapshot/x/../../../${marker}`,
    ];
    for (const rawPath of rawPaths) {
      const status = await rawPut(rawPath, "escape");
      expect([400, 404, 405], rawPath).toContain(status);
    }
    const everywhere = await listFiles();
    expect(everywhere.filter((f) => f.includes(marker.slice(0, 10)))).toEqual([]);
  });
});

/** PUT with the path sent byte for byte (fetch would normalise `..` away). */
function rawPut(rawPath: string, body: string): Promise<number> {
  const url = new URL(api.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: "PUT",
        path: rawPath,
        headers: { ...authHeaders(ctx.masterToken), "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The temp dir's own entries, and everything in the data dir (the temp dir is shared with other programs). */
async function listFiles(): Promise<string[]> {
  const top = await readdir(tmpdir());
  const data = await readdir(ctx.dataDir, { recursive: true });
  return [...top, ...data.map((f) => path.join(ctx.dataDir, f))];
}
