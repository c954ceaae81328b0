/** The snapshot area (spec §6) on the real fs store and Redis, in-process. */
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, cellToken, createTestApp, errorOf, master, type TestApp } from "../test-helpers/test-app.ts";

let t: TestApp;
let counter = 0;
const MAX_UPLOAD = 64 * 1024;

beforeAll(async () => {
  t = await createTestApp({ config: { maxUploadBytes: MAX_UPLOAD, maxJsonBytes: 4096 } });
});
afterAll(async () => {
  await t?.close();
});

async function freshCell(): Promise<string> {
  counter += 1;
  const cell = `snap-${counter}`;
  await t.createCell(cell);
  return cell;
}

function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
) {
  return t.app.request(path, {
    method,
    ...(init.body !== undefined ? { body: init.body } : {}),
    headers: { ...master(), ...init.headers },
  });
}

async function put(cell: string, name: string, body: string | Buffer, headers: Record<string, string> = {}) {
  return call("PUT", `/${cell}/__snapshot/${name}`, { body, headers });
}

const RFC_1123 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe("PROPFIND __snapshot", () => {
  it.each([
    [undefined, 400, "PR400-DV-0003", "Invalid depth header value:[null]."],
    ["infinity", 403, "PR403-DV-0001", "Infinite depth is not supported."],
    ["2", 400, "PR400-DV-0003", "Invalid depth header value:[2]."],
  ])("Depth %s → %i %s", async (depth, status, code, message) => {
    const cell = await freshCell();
    const res = await call(
      "PROPFIND",
      `/${cell}/__snapshot`,
      depth === undefined ? {} : { headers: { Depth: depth } },
    );
    expect(res.status).toBe(status);
    expect(await errorOf(res)).toEqual({ code, message });
  });

  it("refuses a body that is not XML: PR400-DV-0001", async () => {
    const cell = await freshCell();
    const res = await call("PROPFIND", `/${cell}/__snapshot`, { headers: { Depth: "1" }, body: "<propfind" });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code: "PR400-DV-0001", message: "XML parse error." });
  });

  it("Depth 0: the area itself, in Personium's XML shape", async () => {
    const cell = await freshCell();
    await put(cell, "a.zip", "zip bytes");
    const res = await call("PROPFIND", `/${cell}/__snapshot`, { headers: { Depth: "0" } });
    expect(res.status).toBe(207);
    expect(res.headers.get("content-type")).toMatch(/^application\/xml/);
    const xml = await res.text();
    expect(xml).toMatch(/^<\?xml [^>]*\?>\n<multistatus xmlns="DAV:">\n {4}<response>\n/);
    expect(xml.match(/<response>/g)).toHaveLength(1);
    expect(xml).toContain(`<href>http://localhost/${cell}/__snapshot</href>`);
    expect(xml).toContain("<collection/>");
  });

  it("Depth 1: every committed file with its live properties; temp files of exports never", async () => {
    const cell = await freshCell();
    await put(cell, "a.zip", "zip bytes", { "Content-Type": "application/zip" });
    await put(cell, "b b.error", '{"code":"x"}', { "Content-Type": "application/json" });
    const writer = await t.deps.store.snapshots.createWriter(cell, "inflight", "job.1");
    await writeFile(writer.tempPath, "PK half a zip");
    try {
      const res = await call("PROPFIND", `/${cell}/__snapshot`, {
        headers: { Depth: "1", "Content-Type": "application/xml" },
        body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
      });
      expect(res.status).toBe(207);
      const xml = await res.text();
      expect(xml.match(/<response>/g)).toHaveLength(3);
      expect(xml).not.toContain("inflight");
      const file = xml.slice(xml.indexOf(`__snapshot/a.zip</href>`));
      expect(file).toMatch(/<creationdate>\d{4}-\d{2}-\d{2}T[^<]+<\/creationdate>/);
      expect(file).toContain("<getcontentlength>9</getcontentlength>");
      expect(file).toContain("<getcontenttype>application/zip</getcontenttype>");
      expect(RFC_1123.test(/<getlastmodified>([^<]+)</.exec(file)?.[1] ?? "")).toBe(true);
      expect(file).toMatch(/<resourcetype\/>/);
      expect(xml).toContain(`<href>http://localhost/${cell}/__snapshot/b%20b.error</href>`);
    } finally {
      await writer.abort();
    }
  });

  it("PROPFIND on a file: one response; a missing file is 404", async () => {
    const cell = await freshCell();
    await put(cell, "a.zip", "abc");
    const res = await call("PROPFIND", `/${cell}/__snapshot/a.zip`, { headers: { Depth: "0" } });
    expect(res.status).toBe(207);
    const xml = await res.text();
    expect(xml.match(/<response>/g)).toHaveLength(1);
    expect(xml).toContain("<getcontentlength>3</getcontentlength>");
    const missing = await call("PROPFIND", `/${cell}/__snapshot/none.zip`, { headers: { Depth: "0" } });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({
      code: "PR404-DV-0001",
      message: `Resource not found. [http://localhost/${cell}/__snapshot/none.zip].`,
    });
  });
});

describe("PUT / GET / DELETE __snapshot/{FileName}", () => {
  it("PUT creates (201) then replaces (204), each time with a new ETag", async () => {
    const cell = await freshCell();
    const created = await put(cell, "s.zip", "one");
    expect(created.status).toBe(201);
    const etag1 = created.headers.get("etag") ?? "";
    expect(etag1).toMatch(/^"\d+-\d+"$/);
    const replaced = await put(cell, "s.zip", "two");
    expect(replaced.status).toBe(204);
    expect(replaced.headers.get("etag")).not.toBe(etag1);
  });

  it("If-Match: * and the current ETag pass, anything else is 412", async () => {
    const cell = await freshCell();
    const etag = (await put(cell, "s.zip", "one")).headers.get("etag") ?? "";
    const wrong = await put(cell, "s.zip", "two", { "If-Match": '"9-9"' });
    expect(wrong.status).toBe(412);
    expect(await errorOf(wrong)).toEqual({ code: "PR412-DV-0001", message: "ETag does not match." });
    expect((await put(cell, "s.zip", "two", { "If-Match": etag })).status).toBe(204);
    expect((await put(cell, "s.zip", "three", { "If-Match": "*" })).status).toBe(204);
    expect(await (await call("GET", `/${cell}/__snapshot/s.zip`)).text()).toBe("three");
  });

  it("refuses a body beyond the limit with 413 and keeps nothing of it", async () => {
    const cell = await freshCell();
    const big = Buffer.alloc(MAX_UPLOAD + 1, 1);
    const res = await put(cell, "big.zip", big);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PR413-DV-0001");
    expect((await call("GET", `/${cell}/__snapshot/big.zip`)).status).toBe(404);
    const streamed = await t.app.request(`/${cell}/__snapshot/big2.zip`, {
      method: "PUT",
      headers: master(),
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(big.subarray(0, MAX_UPLOAD));
          controller.enqueue(big.subarray(MAX_UPLOAD));
          controller.close();
        },
      }),
    });
    expect(streamed.status).toBe(413);
    expect(await t.deps.store.snapshots.list(cell)).toEqual([]);
  });

  it("GET streams the file with its type, length, ETag and Accept-Ranges", async () => {
    const cell = await freshCell();
    const etag = (await put(cell, "s.zip", "zip-content", { "Content-Type": "application/zip" })).headers.get(
      "etag",
    );
    const res = await call("GET", `/${cell}/__snapshot/s.zip`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-length")).toBe("11");
    expect(res.headers.get("etag")).toBe(etag);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(await res.text()).toBe("zip-content");
    const head = await call("HEAD", `/${cell}/__snapshot/s.zip`);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("11");
  });

  it("304 only for an equal ETag: If-None-Match * is not a match", async () => {
    const cell = await freshCell();
    const etag = (await put(cell, "s.zip", "abc")).headers.get("etag") ?? "";
    const hit = await call("GET", `/${cell}/__snapshot/s.zip`, { headers: { "If-None-Match": etag } });
    expect(hit.status).toBe(304);
    expect(hit.headers.get("etag")).toBe(etag);
    expect(
      (await call("GET", `/${cell}/__snapshot/s.zip`, { headers: { "If-None-Match": "*" } })).status,
    ).toBe(200);
    const other = await call("GET", `/${cell}/__snapshot/s.zip`, { headers: { "If-None-Match": '"1-1"' } });
    expect(other.status).toBe(200);
  });

  it.each([
    ["bytes=0-3", 206, "0123", "bytes 0-3/10"],
    ["bytes=7-", 206, "789", "bytes 7-9/10"],
    ["bytes=-2", 206, "89", "bytes 8-9/10"],
    ["bytes=5-100", 206, "56789", "bytes 5-9/10"],
    ["lines=1-2", 200, "0123456789", null],
  ])("Range %s → %i", async (range, status, body, contentRange) => {
    const cell = await freshCell();
    await put(cell, "r.zip", "0123456789");
    const res = await call("GET", `/${cell}/__snapshot/r.zip`, { headers: { Range: range } });
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(body);
    expect(res.headers.get("content-range")).toBe(contentRange);
    if (status === 206) expect(res.headers.get("content-length")).toBe(String(body.length));
  });

  it("an unsatisfiable Range is 416 with Content-Range bytes */size", async () => {
    const cell = await freshCell();
    await put(cell, "r.zip", "0123456789");
    const res = await call("GET", `/${cell}/__snapshot/r.zip`, { headers: { Range: "bytes=10-" } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */10");
  });

  it("DELETE: 204, then 404; a wrong If-Match is 412 and keeps the file", async () => {
    const cell = await freshCell();
    const etag = (await put(cell, "d.zip", "x")).headers.get("etag") ?? "";
    const wrong = await call("DELETE", `/${cell}/__snapshot/d.zip`, { headers: { "If-Match": '"7-7"' } });
    expect(wrong.status).toBe(412);
    expect((await call("GET", `/${cell}/__snapshot/d.zip`)).status).toBe(200);
    expect(
      (await call("DELETE", `/${cell}/__snapshot/d.zip`, { headers: { "If-Match": etag } })).status,
    ).toBe(204);
    const gone = await call("GET", `/${cell}/__snapshot/d.zip`);
    expect(gone.status).toBe(404);
    expect(await errorOf(gone)).toEqual({
      code: "PR404-DV-0001",
      message: `Resource not found. [http://localhost/${cell}/__snapshot/d.zip].`,
    });
    expect((await call("DELETE", `/${cell}/__snapshot/d.zip`)).status).toBe(404);
  });
});

describe("methods, auth and the cell lock", () => {
  it("REPORT is 501 PR501-MC-0001", async () => {
    const cell = await freshCell();
    const res = await call("REPORT", `/${cell}/__snapshot/a.zip`);
    expect(res.status).toBe(501);
    expect(await errorOf(res)).toEqual({ code: "PR501-MC-0001", message: "Method not implemented." });
  });

  it.each([
    ["__snapshot", "GET", "OPTIONS, PROPFIND"],
    ["__snapshot", "PUT", "OPTIONS, PROPFIND"],
    ["__snapshot/a.zip", "POST", "OPTIONS, GET, PUT, DELETE, PROPFIND"],
    ["__snapshot/a.zip", "MKCOL", "OPTIONS, GET, PUT, DELETE, PROPFIND"],
  ])("%s: %s is 405 with Allow %s", async (path, method, allow) => {
    const cell = await freshCell();
    const res = await call(method, `/${cell}/${path}`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect((await errorOf(res)).code).toBe("PR405-MC-0001");
    const options = await call("OPTIONS", `/${cell}/${path}`);
    expect(options.status).toBe(200);
    expect(options.headers.get("allow")).toBe(allow);
    expect(options.headers.get("access-control-allow-methods")).toBe(allow);
  });

  it("needs the cell's root privilege", async () => {
    const cell = await freshCell();
    await put(cell, "a.zip", "x");
    const url = `/${cell}/__snapshot/a.zip`;
    const anonymous = await t.app.request(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe(`Bearer realm="http://localhost/${cell}/"`);
    expect((await t.app.request(url, { headers: bearer(cellToken(cell, ["read"])) })).status).toBe(403);
    expect((await t.app.request(url, { headers: bearer(cellToken("other", ["root"])) })).status).toBe(403);
    expect((await t.app.request(url, { headers: bearer(cellToken(cell, ["root"])) })).status).toBe(200);
  });

  it.each(["export", "import"] as const)(
    "PUT and DELETE are 409 while an %s holds the cell; reads work",
    async (kind) => {
      const cell = await freshCell();
      await put(cell, "a.zip", "x");
      await t.holdCell(cell, kind);
      try {
        const message = `Because [cell ${kind}] is being executed, writing to cell can not be done.`;
        const putRes = await put(cell, "b.zip", "y");
        expect(putRes.status).toBe(409);
        expect(await errorOf(putRes)).toEqual({ code: "PR409-CM-0002", message });
        expect((await call("DELETE", `/${cell}/__snapshot/a.zip`)).status).toBe(409);
        expect((await call("GET", `/${cell}/__snapshot/a.zip`)).status).toBe(200);
        expect((await call("PROPFIND", `/${cell}/__snapshot`, { headers: { Depth: "1" } })).status).toBe(207);
      } finally {
        await t.releaseCell(cell, kind);
      }
    },
  );
});

describe("FileName never escapes the cell's snapshot area", () => {
  it.each([
    "..%2F..%2Fetc",
    "%2Fetc%2Fpasswd",
    "a%2Fb.zip",
    "a%5Cb.zip",
    "..%5C..%5Cx",
    "a%00b",
    "a/b.zip",
    ".meta",
    ".tmp",
    "%2E%2E%2Fx",
  ])("PUT %s → 400 or 404, and no file appears anywhere", async (name) => {
    const cell = await freshCell();
    const before = await t.filesUnderRoot();
    const res = await put(cell, name, "escape");
    expect([400, 404]).toContain(res.status);
    const get = await call("GET", `/${cell}/__snapshot/${name}`);
    expect([400, 404]).toContain(get.status);
    expect(await t.filesUnderRoot()).toEqual(before);
  });

  it("a dot-dot path is normalised away before routing: never the area", async () => {
    const cell = await freshCell();
    const res = await put(cell, "../../x.zip", "escape");
    expect([400, 404, 405]).toContain(res.status);
    expect((await t.filesUnderRoot()).some((f) => f.endsWith("x.zip"))).toBe(false);
  });
});
