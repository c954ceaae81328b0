/**
 * Export end to end (spec §3, §5, §7) through the real api and worker processes:
 * start → poll (progress rises) → ready → the zip downloads, is intact, has the §7
 * layout and byte-identical contents; every §3.1 error; the cell lock; exactly one
 * of N concurrent POSTs; cancel; and recovery from a SIGKILLed worker.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { seedCell } from "@cellport/cli";
import { ENTITY_TYPES, REQUIRED_ENTRIES } from "@cellport/shared";
import { createFsStore } from "@cellport/store";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
import { readZipEntries } from "./support/zip.ts";

let ctx: StackContext;
let api: ApiProc;
const workers: Proc[] = [];
// Short locks so a killed worker's job is taken over within seconds.
const WORKER_ENV = { CELLPORT_LOCK_DURATION_MS: "2000", CELLPORT_STALLED_INTERVAL_MS: "1000" };

beforeAll(async () => {
  ctx = await createContext();
  api = await startApi(ctx);
});

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop("SIGTERM");
});

afterAll(async () => {
  expect(await api.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  await cleanupContext(ctx);
});

const store = () => createFsStore({ dataDir: ctx.dataDir, durable: false });
const url = (path: string) => `${api.baseUrl}${path}`;
const auth = () => authHeaders(ctx.masterToken);

async function seed(cell: string, files: number, totalBytes: number, textRatio = 0.5) {
  return seedCell(store(), { cell, boxes: 1, entitiesPerType: 3, files, totalBytes, textRatio, seed: cell });
}

async function post(cell: string, body?: string) {
  return fetch(url(`${cell}/__export`), {
    method: "POST",
    headers: auth(),
    ...(body === undefined ? {} : { body }),
  });
}

async function status(cell: string): Promise<Record<string, string>> {
  const res = await fetch(url(`${cell}/__export`), { headers: auth() });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

async function errorOf(res: Response) {
  return { status: res.status, ...((await res.json()) as { code: string; message: { value: string } }) };
}

/** Polls the status until ready, checking progress never goes down; returns the percents seen. */
async function pollUntilReady(cell: string, timeoutMs = 60_000): Promise<number[]> {
  const seen: number[] = [];
  await eventually(
    async () => {
      const body = await status(cell);
      if (body.status === "ready") return true;
      seen.push(Number.parseInt(body.progress ?? "0", 10));
      return undefined;
    },
    timeoutMs,
    50,
  );
  return seen;
}

async function snapshotTempFiles(cell: string): Promise<string[]> {
  return readdir(join(ctx.dataDir, "cells", cell, "snapshots", ".tmp")).catch(() => []);
}

async function download(cell: string, file: string): Promise<Buffer> {
  const res = await fetch(url(`${cell}/__snapshot/${file}`), { headers: auth() });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe("export, start to finish", () => {
  it("202 + Location + empty body, in progress at once, progress rises, the zip is complete and exact", async () => {
    const cell = "full";
    await seed(cell, 120, 24 * 1024 * 1024);
    const res = await post(cell, JSON.stringify({ Name: "first" }));
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(url(`${cell}/__export`));
    expect(await res.text()).toBe("");

    // No worker yet: the job is queued, and the status already says so.
    const queued = await status(cell);
    expect(Object.keys(queued)).toEqual(["status", "started_at", "progress", "exportation_name"]);
    expect(queued).toMatchObject({
      status: "exportation in progress",
      progress: "0%",
      exportation_name: "first",
    });
    expect(queued.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    workers.push(await startWorker(ctx, WORKER_ENV));
    const seen = await pollUntilReady(cell);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] ?? 0);
    expect(await status(cell)).toEqual({ status: "ready" });

    const zip = await readZipEntries(await download(cell, "first.zip"));
    const manifest = JSON.parse(zip.get("00_manifest.json")?.toString("utf8") ?? "{}");
    expect(manifest).toMatchObject({ export_version: 2, unit_url: api.baseUrl });
    expect(typeof manifest.create_date).toBe("number");
    for (const entry of REQUIRED_ENTRIES) expect(zip.has(entry), entry).toBe(true);
    expect(ENTITY_TYPES).toHaveLength(16);
    expect([...zip.keys()].some((n) => n.startsWith("20_webdav/__/"))).toBe(true);
    expect([...zip.keys()].some((n) => n.includes(".pkeys") || n.includes(".pauthhistory"))).toBe(false);

    // Every entry is byte-identical to what the store holds.
    const entries = await store().exportEntries(cell);
    for (const entry of entries) {
      if (entry.directory) continue;
      const chunks: Buffer[] = [];
      for await (const chunk of entry.open()) chunks.push(chunk as Buffer);
      expect(zip.get(entry.name)?.equals(Buffer.concat(chunks)), entry.name).toBe(true);
    }
    expect(zip.size).toBe(entries.length + 1);

    const history = (await (await fetch(url(`${cell}/__export/history`), { headers: auth() })).json()) as {
      exports: Array<{ outcome: string; name: string; size: number; sha256: string }>;
    };
    expect(history.exports[0]).toMatchObject({ outcome: "completed", name: "first" });
    expect(await snapshotTempFiles(cell)).toEqual([]);
  });
});

describe("POST __export errors (spec §3.1)", () => {
  beforeAll(async () => {
    await seed("errs", 3, 10_000);
  });

  it.each([
    ["not JSON", "{nope", "PR400-CM-0004", "JSON parse error. [{nope]."],
    [
      "a bad Name",
      JSON.stringify({ Name: "a b" }),
      "PR400-CM-0002",
      "Field [Name] format error. Must be [^[a-zA-Z0-9-_]{1,192}$].",
    ],
    [
      "a numeric Name",
      JSON.stringify({ Name: 12 }),
      "PR400-CM-0002",
      "Field [Name] format error. Must be [^[a-zA-Z0-9-_]{1,192}$].",
    ],
    [
      "a too long Name",
      JSON.stringify({ Name: "a".repeat(193) }),
      "PR400-CM-0002",
      "Field [Name] format error. Must be [^[a-zA-Z0-9-_]{1,192}$].",
    ],
  ])("%s → 400", async (_label, body, code, message) => {
    expect(await errorOf(await post("errs", body))).toEqual({
      status: 400,
      code,
      message: { lang: "en", value: message },
    });
  });

  it("unknown cell → 404, no credentials → 401 with WWW-Authenticate", async () => {
    expect(
      await errorOf(await fetch(url("nosuchcell/__export"), { method: "POST", headers: auth() })),
    ).toMatchObject({
      status: 404,
      code: "PR404-DV-0003",
    });
    const anonymous = await fetch(url("errs/__export"), { method: "POST" });
    expect(anonymous.headers.get("www-authenticate")).toBe(`Bearer realm="${url("errs/")}"`);
    expect(await errorOf(anonymous)).toMatchObject({ status: 401, code: "PR401-AU-0001" });
  });

  it("an existing {Name}.zip → 409 PR409-DV-0002; the default name is {cell}_yyyyMMdd_HHmmss", async () => {
    workers.push(await startWorker(ctx, WORKER_ENV));
    expect((await post("errs", "")).status).toBe(202);
    const name = (await status("errs")).exportation_name ?? "";
    expect(name).toMatch(/^errs_\d{8}_\d{6}$/);
    await pollUntilReady("errs");
    expect(await errorOf(await post("errs", JSON.stringify({ Name: name })))).toEqual({
      status: 409,
      code: "PR409-DV-0002",
      message: { lang: "en", value: `File [${name}.zip] already exists.` },
    });
  });
});

describe("one job per cell, the lock, cancel", () => {
  it("exactly one of 25 concurrent POSTs is accepted; the others get 409 PR409-CM-0002", async () => {
    await seed("race", 3, 10_000);
    const responses = await Promise.all(
      Array.from({ length: 25 }, (_, i) => post("race", JSON.stringify({ Name: `race${i}` }))),
    );
    const codes = responses.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 202)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(24);
    const conflict = responses.find((r) => r.status === 409);
    expect(await errorOf(conflict as Response)).toMatchObject({
      code: "PR409-CM-0002",
      message: { value: "Because [cell export] is being executed, writing to cell can not be done." },
    });
    // Cancel the queued job (no worker runs): 204, status ready at once, lock gone.
    const cancel = await fetch(url("race/__export"), { method: "DELETE", headers: auth() });
    expect(cancel.status).toBe(204);
    expect(await status("race")).toEqual({ status: "ready" });
    expect((await fetch(url("race/__export"), { method: "DELETE", headers: auth() })).status).toBe(404);
  });

  it("locks writes while queued, keeps reads working, and releases with the job", async () => {
    await seed("locked", 3, 10_000);
    const put = () => fetch(url("locked/__/note.txt"), { method: "PUT", headers: auth(), body: "hello" });
    expect((await post("locked")).status).toBe(202);
    expect(await errorOf(await put())).toMatchObject({ status: 409, code: "PR409-CM-0002" });
    expect(
      (await fetch(url("locked/__snapshot"), { method: "PROPFIND", headers: { ...auth(), Depth: "1" } }))
        .status,
    ).toBe(207);
    expect((await fetch(url("locked/__export"), { headers: auth() })).status).toBe(200);
    workers.push(await startWorker(ctx, WORKER_ENV));
    await pollUntilReady("locked");
    expect((await put()).status).toBe(201);
  });

  it("cancels a running export: status ready within about a second, no zip, no temp file", async () => {
    await seed("cancel", 40, 120 * 1024 * 1024, 0.1);
    workers.push(await startWorker(ctx, WORKER_ENV));
    expect((await post("cancel", JSON.stringify({ Name: "doomed" }))).status).toBe(202);
    await eventually(async () =>
      Number.parseInt((await status("cancel")).progress ?? "0", 10) > 0 ? true : undefined,
    );
    const started = Date.now();
    expect((await fetch(url("cancel/__export"), { method: "DELETE", headers: auth() })).status).toBe(204);
    expect(await status("cancel")).toEqual({ status: "ready" });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await fetch(url("cancel/__snapshot/doomed.zip"), { headers: auth() })).status).toBe(404);
    await eventually(
      async () => ((await snapshotTempFiles("cancel")).length === 0 ? true : undefined),
      5_000,
    );
    const history = (await (await fetch(url("cancel/__export/history"), { headers: auth() })).json()) as {
      exports: Array<{ outcome: string }>;
    };
    expect(history.exports[0]?.outcome).toBe("cancelled");
  });
});

describe("crash safety", () => {
  it("a SIGKILLed worker's export is finished by another worker: one valid zip, no leftovers", async () => {
    const seeded = await seed("crash", 60, 120 * 1024 * 1024, 0.1);
    const victim = await startWorker(ctx, WORKER_ENV);
    expect((await post("crash", JSON.stringify({ Name: "survivor" }))).status).toBe(202);
    await eventually(async () =>
      Number.parseInt((await status("crash")).progress ?? "0", 10) > 0 ? true : undefined,
    );
    expect(await victim.stop("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
    // Still in progress (never stuck, never "ready" with nothing) until another worker finishes it.
    expect((await status("crash")).status).toBe("exportation in progress");

    workers.push(await startWorker(ctx, WORKER_ENV));
    await pollUntilReady("crash", 90_000);
    const zip = await readZipEntries(await download("crash", "survivor.zip"));
    const contentEntries = [...zip.keys()].filter((n) => n.endsWith("/content"));
    expect(contentEntries).toHaveLength(seeded.files);
    await eventually(
      async () => ((await snapshotTempFiles("crash")).length === 0 ? true : undefined),
      10_000,
    );
    const listing = await readdir(join(ctx.dataDir, "cells", "crash", "snapshots"));
    expect(listing.filter((n) => !n.startsWith("."))).toEqual(["survivor.zip"]);
    const raw = await readFile(join(ctx.dataDir, "cells", "crash", "snapshots", "survivor.zip"));
    expect(raw.length).toBeGreaterThan(0);
  });
});
