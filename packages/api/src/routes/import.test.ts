/** POST / GET `__import` (spec §4.1, §4.2) on the real fs store and Redis, in-process, without a worker. */
import { Readable } from "node:stream";
import { createJobRecorder } from "@cellport/queue";
import {
  buildZip,
  minimalSnapshotEntries,
  personiumSnapshot,
  renameEntry,
  type ZipEntrySpec,
} from "@cellport/snapshot/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  cellToken,
  createTestApp,
  errorOf,
  master,
  TEST_REDIS_URL,
  type TestApp,
} from "../test-helpers/test-app.ts";

let t: TestApp;
let counter = 0;

beforeAll(async () => {
  t = await createTestApp({ config: { maxJsonBytes: 4096 } });
});
afterAll(async () => {
  await t?.close();
});

async function freshCell(): Promise<string> {
  counter += 1;
  const cell = `imp-${counter}`;
  await t.createCell(cell);
  return cell;
}

async function putSnapshot(cell: string, name: string, zip: Buffer | ZipEntrySpec[]): Promise<void> {
  const bytes = Buffer.isBuffer(zip) ? zip : await buildZip(zip);
  await t.deps.store.snapshots.put(cell, `${name}.zip`, Readable.from([bytes]));
}

function post(cell: string, body?: string, headers: Record<string, string> = {}) {
  return t.app.request(`/${cell}/__import`, {
    method: "POST",
    ...(body !== undefined ? { body } : {}),
    headers: { ...master(), ...headers },
  });
}

async function status(cell: string): Promise<Record<string, unknown>> {
  const res = await t.app.request(`/${cell}/__import`, { headers: master() });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

const NAME_RULE = "Field [Name] format error. Must be [^[a-zA-Z0-9-_]{1,192}$].";

describe("POST __import: the body", () => {
  it.each([
    ["an empty body", undefined, "PR400-CM-0004", "JSON parse error. []."],
    ["a body that is not JSON", "{Name:", "PR400-CM-0004", "JSON parse error. [{Name:]."],
    ["a JSON array", "[]", "PR400-CM-0004", "JSON parse error. [[]]."],
    ["{}", "{}", "PR400-CM-0001", "Required key [Name] missing."],
    ["a null Name", '{"Name":null}', "PR400-CM-0001", "Required key [Name] missing."],
    ["a number Name", '{"Name":1}', "PR400-CM-0002", NAME_RULE],
    ["a Name with a space", '{"Name":"a b"}', "PR400-CM-0002", NAME_RULE],
    ["a Name with .zip", '{"Name":"a.zip"}', "PR400-CM-0002", NAME_RULE],
  ])("refuses %s", async (_label, body, code, message) => {
    const cell = await freshCell();
    const res = await post(cell, body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code, message });
    expect(await t.deps.jobs.current(cell)).toBeNull();
  });

  it("a missing snapshot is 404 naming {Name}.zip", async () => {
    const cell = await freshCell();
    const res = await post(cell, '{"Name":"nope"}');
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toEqual({ code: "PR404-DV-0001", message: "Resource not found. [nope.zip]." });
  });
});

describe("POST __import: the archive is validated before the 202", () => {
  const withManifest = (manifest: string) => minimalSnapshotEntries({ manifest });

  it.each<[string, () => Promise<Buffer | ZipEntrySpec[]>, string, string]>([
    [
      "not a zip",
      async () => Buffer.from("plain text"),
      "PR400-MC-0004",
      "The specified snapshot file is not zip file.",
    ],
    [
      "a manifest that is not JSON",
      async () => withManifest("{x"),
      "PR400-CM-0004",
      "JSON parse error. [{x].",
    ],
    [
      "export_version 1",
      async () => withManifest('{"export_version":1}'),
      "PR400-MC-0003",
      "Version of the snapshot file is invalid. Expected [2] but was [1].",
    ],
    [
      "a missing pjson file",
      async () => minimalSnapshotEntries().filter((e) => e.name !== "10_odata/21_rule.pjson"),
      "PR400-MC-0001",
      "[10_odata/21_rule.pjson] does not exist in the snapshot file.",
    ],
    [
      "an entry escaping with ..",
      async () => {
        const zip = await buildZip([...minimalSnapshotEntries(), { name: "QQQQQQQQQQQQ", data: "x" }]);
        return renameEntry(zip, "QQQQQQQQQQQQ", "../../x.json");
      },
      "PR400-MC-9001",
      'Invalid entry [../../x.json] in the snapshot file: a path with a ".." segment.',
    ],
  ])("refuses %s", async (_label, make, code, message) => {
    const cell = await freshCell();
    await putSnapshot(cell, "s", await make());
    const res = await post(cell, '{"Name":"s"}');
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code, message });
    expect(await t.deps.jobs.current(cell)).toBeNull();
  });
});

describe("POST __import: accepted", () => {
  it("202 with Location and an empty body; the job is queued and the status reads in progress", async () => {
    const cell = await freshCell();
    await putSnapshot(cell, "p", personiumSnapshot().entries);
    const before = Date.now();
    const res = await post(cell, '{"Name":"p"}', { "Content-Type": "text/plain;charset=UTF-8" });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(`http://localhost/${cell}/__import`);
    expect(await res.text()).toBe("");

    const job = await t.deps.jobs.current(cell);
    expect(job?.data).toMatchObject({ kind: "import", cell, name: "p", unitUrl: "http://localhost/" });
    const body = await status(cell);
    expect(body).toEqual({
      status: "importation in progress",
      started_at: job?.data.acceptedAt,
      progress: "0%",
      importation_name: "p",
    });
    expect(Date.parse(String(body.started_at))).toBeGreaterThanOrEqual(before - 1);
    // The import holds the cell: a second POST (or an export) is refused.
    const again = await post(cell, '{"Name":"p"}');
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toEqual({
      code: "PR409-CM-0002",
      message: "Because [cell import] is being executed, writing to cell can not be done.",
    });
    const exportStatus = await t.app.request(`/${cell}/__export`, { headers: master() });
    expect(await exportStatus.json()).toEqual({ status: "ready" });
    await t.releaseCell(cell, "import");
  });

  it("409 naming the export while an export holds the cell, before looking at the body", async () => {
    const cell = await freshCell();
    await t.holdCell(cell, "export");
    try {
      const res = await post(cell);
      expect(res.status).toBe(409);
      expect(await errorOf(res)).toEqual({
        code: "PR409-CM-0002",
        message: "Because [cell export] is being executed, writing to cell can not be done.",
      });
    } finally {
      await t.releaseCell(cell, "export");
    }
  });

  it("of many simultaneous POSTs exactly one is accepted", async () => {
    const cell = await freshCell();
    await putSnapshot(cell, "p", minimalSnapshotEntries());
    const results = await Promise.all(Array.from({ length: 8 }, () => post(cell, '{"Name":"p"}')));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    await t.releaseCell(cell, "import");
  });
});

describe("GET __import", () => {
  it("ready when nothing ran", async () => {
    expect(await status(await freshCell())).toEqual({ status: "ready" });
  });

  it("reports the last failure with its reason until the next import starts", async () => {
    const cell = await freshCell();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const recorder = createJobRecorder(redis, { prefix: t.prefix });
      const error = {
        code: "PR400-MC-9005",
        message: {
          lang: "en" as const,
          value: "[10_odata/10_box.pjson] file format error in the snapshot file: line 1 is not JSON.",
        },
      };
      await recorder.recordImportFailure(cell, {
        name: "bad",
        acceptedAt: "2017-02-13T09:00:00.000Z",
        progress: 37,
        error,
      });
      expect(await status(cell)).toEqual({
        status: "import failed",
        started_at: "2017-02-13T09:00:00.000Z",
        progress: "37%",
        importation_name: "bad",
        message: error,
      });
      await putSnapshot(cell, "good", minimalSnapshotEntries());
      expect((await post(cell, '{"Name":"good"}')).status).toBe(202);
      expect(await status(cell)).toMatchObject({
        status: "importation in progress",
        importation_name: "good",
      });
      await t.releaseCell(cell, "import");
      expect(await status(cell)).toEqual({ status: "ready" });
    } finally {
      redis.disconnect();
    }
  });
});

describe("__import: methods and auth", () => {
  it("PUT is 405 with the spec's Allow list; OPTIONS answers it", async () => {
    const cell = await freshCell();
    const res = await t.app.request(`/${cell}/__import`, { method: "PUT", headers: master() });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("OPTIONS, GET, POST");
    const options = await t.app.request(`/${cell}/__import`, { method: "OPTIONS", headers: master() });
    expect(options.headers.get("allow")).toBe("OPTIONS, GET, POST");
  });

  it("needs the cell's root privilege, before anything else", async () => {
    const cell = await freshCell();
    expect((await t.app.request(`/${cell}/__import`, { method: "POST" })).status).toBe(401);
    const reader = bearer(cellToken(cell, ["read"]));
    expect((await t.app.request(`/${cell}/__import`, { method: "POST", headers: reader })).status).toBe(403);
    expect((await t.app.request(`/${cell}/__import`, { headers: reader })).status).toBe(403);
    const root = bearer(cellToken(cell, ["root"]));
    expect((await t.app.request(`/${cell}/__import`, { headers: root })).status).toBe(200);
  });
});
