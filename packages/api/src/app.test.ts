/** Cross-cutting HTTP conventions (spec §2): headers, RequestKey, overrides, preflight, 405, 404, 500/503. */
import { createJobBackend } from "@cellport/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintPCookie } from "./auth/tokens.ts";
import {
  cellToken,
  createTestApp,
  errorOf,
  MASTER_TOKEN,
  master,
  type TestApp,
  TOKEN_SECRET,
} from "./test-helpers/test-app.ts";

const GENERATED_KEY = /^[A-Za-z0-9_-]{4}_[A-Za-z0-9_-]{22}$/;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ config: { personiumVersion: "1.7.99" } });
  await t.createCell("c1");
});
afterAll(async () => {
  await t?.close();
});

function expectConventions(response: Response): void {
  expect(response.headers.get("x-personium-version")).toBe("1.7.99");
  expect(response.headers.get("access-control-allow-origin")).toBe("*");
  expect(response.headers.get("x-personium-requestkey")).not.toBeNull();
}

describe("headers on every response", () => {
  it("success: version, CORS origin, generated request key", async () => {
    const response = await t.app.request("/__ctl/Cell", { headers: master() });
    expect(response.status).toBe(200);
    expectConventions(response);
    expect(response.headers.get("x-personium-requestkey")).toMatch(GENERATED_KEY);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("errors: the same headers and a JSON Personium body", async () => {
    const response = await t.app.request("/__nothing-here");
    expect(response.status).toBe(404);
    expectConventions(response);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({
      code: "PR404-CM-0001",
      message: { lang: "en", value: "No such endpoint." },
    });
  });

  it("exposes the headers a browser client needs", async () => {
    const response = await t.app.request("/healthz");
    expect(response.headers.get("access-control-expose-headers")).toContain("X-Personium-RequestKey");
  });
});

describe("X-Personium-RequestKey", () => {
  it("echoes a valid key (and the empty one)", async () => {
    const given = await t.app.request("/healthz", { headers: { "X-Personium-RequestKey": "my_key-1" } });
    expect(given.headers.get("x-personium-requestkey")).toBe("my_key-1");
    const empty = await t.app.request("/healthz", { headers: { "X-Personium-RequestKey": "" } });
    expect(empty.status).toBe(200);
    expect(empty.headers.get("x-personium-requestkey")).toBe("");
  });

  it("refuses an invalid key before routing and auth, even on an unknown cell or a preflight", async () => {
    for (const [path, init] of [
      ["/healthz", {}],
      ["/nocell/__export", { method: "POST" }],
      ["/c1/__", { method: "OPTIONS", headers: { "Access-Control-Request-Method": "PUT" } }],
    ] as const) {
      const headers = new Headers((init as RequestInit).headers);
      headers.set("X-Personium-RequestKey", "a".repeat(129));
      const response = await t.app.request(path, { ...init, headers });
      expect(response.status).toBe(400);
      expectConventions(response);
      expect(response.headers.get("x-personium-requestkey")).toMatch(GENERATED_KEY);
      expect(await errorOf(response)).toEqual({
        code: "PR400-EV-0002",
        message: "Request header is invalid [X-Personium-RequestKey].",
      });
    }
    const spaced = await t.app.request("/healthz", { headers: { "X-Personium-RequestKey": "a b" } });
    expect(spaced.status).toBe(400);
  });

  it("binds the key to every log line of the request, and logs one access line", async () => {
    const before = t.logLines.length;
    await t.app.request("/__ctl/Cell", {
      method: "POST",
      headers: { ...master(), "X-Personium-RequestKey": "trace_me" },
      body: JSON.stringify({ Name: "logged-cell" }),
    });
    const lines = t.logLines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.requestKey).toBe("trace_me");
    const access = lines.filter((l) => l.msg === "request");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: "POST", path: "/__ctl/Cell", status: 201 });
    expect(typeof access[0]?.durationMs).toBe("number");
  });
});

describe("secrets never reach the log", () => {
  it("no Authorization, token, cookie or p_cookie value in any line", async () => {
    const before = t.logLines.length;
    const token = cellToken("c1");
    const cookie = mintPCookie({ secret: TOKEN_SECRET, token, peer: "peer-x" });
    await t.app.request("/c1/__", {
      method: "PROPFIND",
      headers: { Depth: "0", Authorization: `Bearer ${token}` },
    });
    await t.app.request("/c1/__?p_cookie_peer=peer-x", {
      method: "PROPFIND",
      headers: { Depth: "0", Cookie: `p_cookie=${cookie}` },
    });
    await t.app.request("/c1/__", {
      method: "PROPFIND",
      headers: { Depth: "0", Authorization: "Bearer wrong-token" },
    });
    await t.app.request("/__ctl/Cell", {
      headers: { "X-Override": `Authorization: Bearer ${MASTER_TOKEN}` },
    });
    const text = t.logLines.slice(before).join("");
    expect(t.logLines.length - before).toBeGreaterThanOrEqual(4);
    for (const secret of [token, cookie, MASTER_TOKEN, "wrong-token", "peer-x", "Bearer"]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("X-Override and X-HTTP-Method-Override", () => {
  it("X-Override replaces a header before auth", async () => {
    const response = await t.app.request("/__ctl/Cell", {
      headers: { Authorization: "Bearer wrong", "X-Override": `Authorization: Bearer ${MASTER_TOKEN}` },
    });
    expect(response.status).toBe(200);
  });

  it("later entries win and malformed ones are ignored", async () => {
    const response = await t.app.request("/__ctl/Cell", {
      headers: [
        ["X-Override", `Authorization: Bearer ${MASTER_TOKEN}`],
        ["X-Override", "no colon here"],
        ["X-Override", ": empty name"],
        ["X-Override", "Authorization: Bearer wrong"],
      ],
    });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe("PR401-AU-0006");
  });

  it("the method override takes effect before routing", async () => {
    const propfind = await t.app.request("/c1/__", {
      method: "POST",
      headers: { ...master(), "X-HTTP-Method-Override": "PROPFIND", Depth: "0" },
    });
    expect(propfind.status).toBe(207);
    await t.createCell("doomed");
    const del = await t.app.request("/__ctl/Cell('doomed')", {
      method: "POST",
      headers: { ...master(), "X-HTTP-Method-Override": "DELETE" },
    });
    expect(del.status).toBe(204);
  });

  it("is ignored on methods other than POST", async () => {
    const response = await t.app.request("/__ctl/Cell", {
      method: "GET",
      headers: { ...master(), "X-HTTP-Method-Override": "POST" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("d.results");
  });
});

describe("OPTIONS", () => {
  it("answers a CORS preflight at once: no cell lookup, no auth", async () => {
    const response = await t.app.request("/no-such-cell/__export", {
      method: "OPTIONS",
      headers: {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, depth",
      },
    });
    expect(response.status).toBe(200);
    expectConventions(response);
    expect(response.headers.get("access-control-allow-methods")).toContain("PROPFIND");
    expect(response.headers.get("access-control-allow-headers")).toBe("authorization, depth");
  });

  it("lists a resource's methods in Allow and Access-Control-Allow-Methods", async () => {
    const unit = await t.app.request("/__ctl/Cell", { method: "OPTIONS", headers: master() });
    expect(unit.status).toBe(200);
    expect(unit.headers.get("allow")).toBe("OPTIONS, GET, POST");
    expect(unit.headers.get("access-control-allow-methods")).toBe("OPTIONS, GET, POST");
    const box = await t.app.request("/c1/__/x", { method: "OPTIONS", headers: master() });
    expect(box.headers.get("allow")).toBe("OPTIONS, GET, PUT, DELETE, MKCOL, PROPFIND");
  });

  it("a plain OPTIONS needs the same credentials as the resource", async () => {
    const response = await t.app.request("/c1/__", { method: "OPTIONS" });
    expect(response.status).toBe(401);
  });

  it("any other method is 405 PR405-MC-0001 with Allow", async () => {
    for (const [path, method] of [
      ["/__ctl/Cell", "PATCH"],
      ["/__ctl/Cell('c1')", "PUT"],
      ["/c1/__/x", "REPORT"],
      ["/healthz", "POST"],
    ] as const) {
      const response = await t.app.request(path, { method, headers: master() });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toMatch(/^OPTIONS, /);
      expect(await errorOf(response)).toEqual({ code: "PR405-MC-0001", message: "Method not allowed." });
    }
  });
});

describe("unknown paths", () => {
  it("unit-level paths and unknown resources of a cell: 404 PR404-CM-0001", async () => {
    for (const path of [
      "/",
      "/__ctl",
      "/__ctl/Box",
      "/__ctl/nothing/__export",
      "/c1",
      "/c1/",
      "/c1/nothing",
      "/c1/__x",
    ]) {
      const response = await t.app.request(path, { headers: master() });
      expect(response.status, path).toBe(404);
      expect((await errorOf(response)).code, path).toBe("PR404-CM-0001");
    }
  });

  it("unknown or invalid cell names: 404 PR404-DV-0003, before auth", async () => {
    for (const path of ["/nocell/__", "/C1/__", "/%63%31/__", "/-a/__export"]) {
      const response = await t.app.request(path, { method: "PROPFIND" });
      expect(response.status, path).toBe(404);
      expect(await errorOf(response), path).toEqual({ code: "PR404-DV-0003", message: "Cell not found." });
    }
  });
});

describe("unexpected failures", () => {
  it("500 PR500-SV-9999 without internals, logged", async () => {
    const broken = await createTestApp({
      override: (deps) => ({
        ...deps,
        store: {
          ...deps.store,
          hasCell: async () => {
            throw new Error("disk on fire at /secret/path");
          },
        },
      }),
    });
    try {
      const response = await broken.app.request("/c1/__", { method: "PROPFIND", headers: master() });
      expect(response.status).toBe(500);
      expectConventionsLoose(response);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({
        code: "PR500-SV-9999",
        message: { lang: "en", value: "Unknown Exception" },
      });
      expect(text).not.toContain("disk on fire");
      expect(broken.logLines.join("")).toContain("disk on fire");
    } finally {
      await broken.close();
    }
  });

  it("503 PR503-SV-0001 when the queue backend is unreachable", async () => {
    const down = createJobBackend({
      redisUrl: "redis://127.0.0.1:1",
      prefix: "{unreachable}",
      timeoutMs: 200,
    });
    const app = await createTestApp({ override: (deps) => ({ ...deps, jobs: down }) });
    try {
      await app.createCell("c1");
      const response = await app.app.request("/c1/__/file.txt", {
        method: "PUT",
        headers: master(),
        body: "x",
      });
      expect(response.status).toBe(503);
      expect((await errorOf(response)).code).toBe("PR503-SV-0001");
    } finally {
      await down.close();
      await app.close();
    }
  });
});

function expectConventionsLoose(response: Response): void {
  expect(response.headers.get("x-personium-version")).toBe("1.7.21");
  expect(response.headers.get("access-control-allow-origin")).toBe("*");
}
