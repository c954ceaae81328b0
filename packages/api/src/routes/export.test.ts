/** Cell export routes (spec §3.1, §3.2 and the cancel / history extensions) on the real store and Redis. */
import { createServer } from "node:net";
import { Readable } from "node:stream";
import { createJobBackend, createJobRecorder, historyEntry } from "@cellport/queue";
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
let cellCounter = 0;

beforeAll(async () => {
  t = await createTestApp({ config: { maxJsonBytes: 4096 } });
});
afterAll(async () => {
  await t?.close();
});

async function freshCell(): Promise<string> {
  cellCounter += 1;
  const cell = `exp-${cellCounter}`;
  await t.createCell(cell);
  return cell;
}

function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string } = {},
  app = t.app,
) {
  return app.request(path, {
    method,
    ...(init.body !== undefined ? { body: init.body } : {}),
    headers: { ...master(), ...init.headers },
  });
}

const NAME_RULE_MESSAGE = "Field [Name] format error. Must be [^[a-zA-Z0-9-_]{1,192}$].";

describe("POST __export", () => {
  it("accepts with 202, Location and an empty body; the status already reads in progress", async () => {
    const cell = await freshCell();
    const before = Date.now();
    const res = await call("POST", `/${cell}/__export`);
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(`http://localhost/${cell}/__export`);
    expect(await res.text()).toBe("");

    const status = await call("GET", `/${cell}/__export`);
    expect(status.status).toBe(200);
    expect(status.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await status.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(["exportation_name", "progress", "started_at", "status"]);
    expect(body.status).toBe("exportation in progress");
    expect(body.progress).toBe("0%");
    expect(body.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(body.started_at ?? "")).toBeGreaterThanOrEqual(before - 1);
    // The default name: `{cell}_yyyyMMdd_HHmmss`, UTC, at acceptance.
    expect(body.exportation_name).toMatch(new RegExp(`^${cell}_\\d{8}_\\d{6}$`));
    const stamp = (body.started_at ?? "").replace(/[-:]/g, "");
    expect(body.exportation_name).toBe(`${cell}_${stamp.slice(0, 8)}_${stamp.slice(9, 15)}`);
  });

  it("reads a JSON body whatever its Content-Type, and ignores other keys", async () => {
    const cell = await freshCell();
    const res = await call("POST", `/${cell}/__export`, {
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: '{"Name":"My-Snap_01","Other":1}',
    });
    expect(res.status).toBe(202);
    const job = await t.deps.jobs.current(cell);
    expect(job?.data).toMatchObject({
      kind: "export",
      cell,
      name: "My-Snap_01",
      unitUrl: "http://localhost/",
    });
  });

  it.each([["{}"], ['{"Name":null}'], ["  "]])("uses the default name for %j", async (body) => {
    const cell = await freshCell();
    expect((await call("POST", `/${cell}/__export`, { body })).status).toBe(202);
    expect((await t.deps.jobs.current(cell))?.data.name).toMatch(new RegExp(`^${cell}_\\d{8}_\\d{6}$`));
  });

  it("refuses a body that is not JSON (400 PR400-CM-0004, quoting it)", async () => {
    const cell = await freshCell();
    const res = await call("POST", `/${cell}/__export`, { body: "Name=x" });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code: "PR400-CM-0004", message: "JSON parse error. [Name=x]." });
    expect((await call("POST", `/${cell}/__export`, { body: "[1]" })).status).toBe(400);
    expect(await t.deps.jobs.current(cell)).toBeNull();
  });

  it.each([
    ['{"Name":"a b"}'],
    ['{"Name":""}'],
    ['{"Name":5}'],
    [`{"Name":"${"a".repeat(193)}"}`],
    ['{"Name":"ä"}'],
  ])("refuses a bad Name %s (400 PR400-CM-0002)", async (body) => {
    const cell = await freshCell();
    const res = await call("POST", `/${cell}/__export`, { body });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code: "PR400-CM-0002", message: NAME_RULE_MESSAGE });
  });

  it("accepts a 192-character Name", async () => {
    const cell = await freshCell();
    const res = await call("POST", `/${cell}/__export`, { body: `{"Name":"${"a".repeat(192)}"}` });
    expect(res.status).toBe(202);
  });

  it("refuses a Name whose zip already exists (409 PR409-DV-0002)", async () => {
    const cell = await freshCell();
    await t.deps.store.snapshots.put(cell, "snap.zip", Readable.from([Buffer.from("PK")]));
    const res = await call("POST", `/${cell}/__export`, { body: '{"Name":"snap"}' });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toEqual({ code: "PR409-DV-0002", message: "File [snap.zip] already exists." });
  });

  it("refuses while the cell is busy, naming the job that holds it (409 PR409-CM-0002)", async () => {
    const cell = await freshCell();
    await t.holdCell(cell, "import");
    const byImport = await call("POST", `/${cell}/__export`, { body: '{"Name":"x"}' });
    expect(byImport.status).toBe(409);
    expect(await errorOf(byImport)).toEqual({
      code: "PR409-CM-0002",
      message: "Because [cell import] is being executed, writing to cell can not be done.",
    });
    await t.releaseCell(cell, "import");

    expect((await call("POST", `/${cell}/__export`)).status).toBe(202);
    // Locked before body validation (spec §2.6): a bad body still gets the 409.
    const again = await call("POST", `/${cell}/__export`, { body: "not json" });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toBe(
      "Because [cell export] is being executed, writing to cell can not be done.",
    );
    // …and so does a Name already taken: the lock is the first answer.
    await t.deps.store.snapshots.put(cell, "taken.zip", Readable.from([Buffer.from("PK")]));
    const taken = await call("POST", `/${cell}/__export`, { body: '{"Name":"taken"}' });
    expect(taken.status).toBe(409);
    expect((await errorOf(taken)).code).toBe("PR409-CM-0002");
  });

  it("accepts exactly one of many simultaneous POSTs for one cell", async () => {
    const cell = await freshCell();
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call("POST", `/${cell}/__export`, { body: `{"Name":"n${i}"}` })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(29);
  });

  it("passes the request key and the configured base URL into the job", async () => {
    const other = await createTestApp({ config: { baseUrl: "https://cells.example.org" } });
    try {
      await other.createCell("c1");
      const res = await call(
        "POST",
        "/c1/__export",
        { headers: { "X-Personium-RequestKey": "my-key_1" }, body: '{"Name":"s"}' },
        other.app,
      );
      expect(res.status).toBe(202);
      expect(res.headers.get("location")).toBe("https://cells.example.org/c1/__export");
      const job = await other.deps.jobs.current("c1");
      expect(job?.data).toMatchObject({ requestKey: "my-key_1", unitUrl: "https://cells.example.org/" });
    } finally {
      await other.close();
    }
  });
});

describe("GET __export", () => {
  it("is exactly {status: ready} when nothing runs", async () => {
    const cell = await freshCell();
    const res = await call("GET", `/${cell}/__export`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready" });
  });

  it("reads ready while an import holds the cell (an import is not an export)", async () => {
    const cell = await freshCell();
    await t.holdCell(cell, "import");
    expect(await (await call("GET", `/${cell}/__export`)).json()).toEqual({ status: "ready" });
    await t.releaseCell(cell, "import");
  });
});

describe("DELETE __export (cancel)", () => {
  it("cancels a queued export (204); the status is ready and the history says cancelled", async () => {
    const cell = await freshCell();
    await call("POST", `/${cell}/__export`, { body: '{"Name":"gone"}' });
    const res = await call("DELETE", `/${cell}/__export`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await (await call("GET", `/${cell}/__export`)).json()).toEqual({ status: "ready" });

    const history = await call("GET", `/${cell}/__export/history`);
    expect(history.status).toBe(200);
    const { exports } = (await history.json()) as { exports: Array<Record<string, unknown>> };
    expect(exports).toHaveLength(1);
    expect(exports[0]).toMatchObject({ kind: "export", name: "gone", outcome: "cancelled" });
    // The cell is free again.
    expect((await call("POST", `/${cell}/__export`, { body: '{"Name":"next"}' })).status).toBe(202);
  });

  it("is 404 PR404-DV-0001 when no export runs (an import is not cancelled by it)", async () => {
    const cell = await freshCell();
    const res = await call("DELETE", `/${cell}/__export`);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toEqual({
      code: "PR404-DV-0001",
      message: `Resource not found. [http://localhost/${cell}/__export].`,
    });
    await t.holdCell(cell, "import");
    expect((await call("DELETE", `/${cell}/__export`)).status).toBe(404);
    expect((await t.deps.jobs.current(cell))?.data.kind).toBe("import");
    await t.releaseCell(cell, "import");
  });
});

describe("GET __export/history", () => {
  it("lists export outcomes newest first, without imports", async () => {
    const cell = await freshCell();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const recorder = createJobRecorder(redis, { prefix: t.prefix });
      const data = {
        cell,
        acceptedAt: new Date().toISOString(),
        requestKey: "rk",
        unitUrl: "http://localhost/",
      };
      await recorder.recordHistory(
        cell,
        historyEntry({ ...data, kind: "export", name: "one" }, "completed", { size: 10, sha256: "ab" }),
      );
      await recorder.recordHistory(cell, historyEntry({ ...data, kind: "import", name: "imp" }, "failed"));
      await recorder.recordHistory(cell, historyEntry({ ...data, kind: "export", name: "two" }, "failed"));
    } finally {
      await redis.quit();
    }
    const res = await call("GET", `/${cell}/__export/history`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const { exports } = (await res.json()) as { exports: Array<{ name: string }> };
    expect(exports.map((e) => e.name)).toEqual(["two", "one"]);
  });

  it("is [] for a cell without history", async () => {
    const cell = await freshCell();
    expect(await (await call("GET", `/${cell}/__export/history`)).json()).toEqual({ exports: [] });
  });
});

describe("methods and auth", () => {
  it("OPTIONS lists the methods; others are 405 with Allow", async () => {
    const cell = await freshCell();
    const options = await call("OPTIONS", `/${cell}/__export`);
    expect(options.status).toBe(200);
    expect(options.headers.get("allow")).toBe("OPTIONS, GET, POST, DELETE");
    expect(options.headers.get("access-control-allow-methods")).toBe("OPTIONS, GET, POST, DELETE");
    const put = await call("PUT", `/${cell}/__export`);
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("OPTIONS, GET, POST, DELETE");
    expect((await errorOf(put)).code).toBe("PR405-MC-0001");

    expect((await call("OPTIONS", `/${cell}/__export/history`)).headers.get("allow")).toBe("OPTIONS, GET");
    const post = await call("POST", `/${cell}/__export/history`);
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("OPTIONS, GET");
  });

  it("needs the cell's root privilege on every method", async () => {
    const cell = await freshCell();
    for (const [method, path] of [
      ["GET", "__export"],
      ["POST", "__export"],
      ["DELETE", "__export"],
      ["GET", "__export/history"],
    ] as const) {
      const anonymous = await t.app.request(`/${cell}/${path}`, { method });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toBe(`Bearer realm="http://localhost/${cell}/"`);
      const reader = await t.app.request(`/${cell}/${path}`, {
        method,
        headers: bearer(cellToken(cell, ["read"])),
      });
      expect(reader.status, `${method} ${path}`).toBe(403);
      // Root passes (POST left out: it would start an export).
      if (method !== "POST") {
        const root = await t.app.request(`/${cell}/${path}`, { method, headers: bearer(cellToken(cell)) });
        expect([401, 403], `${method} ${path}`).not.toContain(root.status);
      }
    }
    expect(await t.deps.jobs.current(cell)).toBeNull();
  });

  it("is 404 PR404-DV-0003 for an unknown cell", async () => {
    const res = await call("POST", "/no-such-cell/__export");
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("PR404-DV-0003");
  });
});

describe("when the queue cannot be reached", () => {
  it("answers 503 PR503-SV-0001 quickly instead of hanging", async () => {
    const port = await closedPort();
    const down = await createTestApp({
      override: (deps) => ({
        ...deps,
        jobs: createJobBackend({ redisUrl: `redis://127.0.0.1:${port}`, prefix: "{cellport-test-down}" }),
      }),
    });
    try {
      await down.createCell("c1");
      for (const method of ["GET", "POST", "DELETE"]) {
        const started = Date.now();
        const res = await call(method, "/c1/__export", {}, down.app);
        expect(res.status, method).toBe(503);
        expect((await errorOf(res)).code).toBe("PR503-SV-0001");
        expect(Date.now() - started).toBeLessThan(1_500);
      }
    } finally {
      await down.deps.jobs.close();
      await down.close();
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
