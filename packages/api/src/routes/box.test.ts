/** Main box WebDAV subset (spec §9) on the real fs store. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, cellToken, createTestApp, errorOf, master, type TestApp } from "../test-helpers/test-app.ts";

let t: TestApp;
let cellCounter = 0;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  t = await createTestApp({ config: { maxUploadBytes: LIMIT, maxJsonBytes: 4096 } });
});
afterAll(async () => {
  await t?.close();
});

async function freshCell(): Promise<string> {
  cellCounter += 1;
  const cell = `box-${cellCounter}`;
  await t.createCell(cell);
  return cell;
}

function dav(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: RequestInit["body"] } = {},
) {
  return t.app.request(path, { method, ...init, headers: { ...master(), ...init.headers } });
}

describe("MKCOL", () => {
  it("creates a collection (201); again → 405 PR405-DV-0001; missing parent → 409 PR409-DV-0001", async () => {
    const cell = await freshCell();
    expect((await dav("MKCOL", `/${cell}/__/docs`)).status).toBe(201);
    const again = await dav("MKCOL", `/${cell}/__/docs`);
    expect(again.status).toBe(405);
    expect((await errorOf(again)).code).toBe("PR405-DV-0001");
    const orphan = await dav("MKCOL", `/${cell}/__/none/sub`);
    expect(orphan.status).toBe(409);
    expect(await errorOf(orphan)).toEqual({
      code: "PR409-DV-0001",
      message: `intermediate collection [http://localhost/${cell}/__/none/] should be created first.`,
    });
    expect((await dav("MKCOL", `/${cell}/__`)).status).toBe(405);
  });

  it("refuses a new resource's name as Personium does: 403 PR403-DV-0004, MKCOL after its parent check, PUT before", async () => {
    const cell = await freshCell();
    const refused = { code: "PR403-DV-0004", message: "Resource name is invalid [{0}]." };
    // Control characters, `/`, `\\` and names over 255 bytes never get this far: refused as
    // unsafe paths (400 PR400-DV-9001) for every method.
    for (const name of ["a%20b", "a:b", "a*b", "a%3Fb", "a%22b", "a%3Cb", "a%3Eb", "a%7Cb"]) {
      const mkcol = await dav("MKCOL", `/${cell}/__/${name}`);
      expect(mkcol.status, name).toBe(403);
      expect(await errorOf(mkcol)).toEqual(refused);
      const put = await dav("PUT", `/${cell}/__/${name}`, { body: "x" });
      expect(put.status, name).toBe(403);
    }
    // A missing parent: MKCOL's 409 comes first, PUT's name check first.
    expect((await dav("MKCOL", `/${cell}/__/none/a%20b`)).status).toBe(409);
    expect((await dav("PUT", `/${cell}/__/none/a%20b`, { body: "x" })).status).toBe(403);
    // What Personium allows, cellport creates.
    for (const name of ["a%25b", "x".repeat(255), "%C3%A4.txt", "a.b-c_d~e"]) {
      expect((await dav("PUT", `/${cell}/__/${name}`, { body: "x" })).status, name).toBe(201);
    }
    expect((await dav("MKCOL", `/${cell}/__/%C3%A4`)).status).toBe(201);
  });
});

describe("PUT and GET", () => {
  it("creates (201) and replaces (204) with ETags; GET streams it back with its headers", async () => {
    const cell = await freshCell();
    const created = await dav("PUT", `/${cell}/__/a.txt`, {
      headers: { "Content-Type": "text/plain" },
      body: "hello",
    });
    expect(created.status).toBe(201);
    const etag1 = created.headers.get("etag");
    expect(etag1).toMatch(/^"\d+-\d+"$/);
    const got = await dav("GET", `/${cell}/__/a.txt`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("text/plain");
    expect(got.headers.get("content-length")).toBe("5");
    expect(got.headers.get("etag")).toBe(etag1);
    expect(got.headers.get("accept-ranges")).toBe("bytes");
    expect(await got.text()).toBe("hello");

    const replaced = await dav("PUT", `/${cell}/__/a.txt`, { body: "hello world" });
    expect(replaced.status).toBe(204);
    expect(replaced.headers.get("etag")).not.toBe(etag1);
    expect(await (await dav("GET", `/${cell}/__/a.txt`)).text()).toBe("hello world");
    const untyped = await dav("GET", `/${cell}/__/a.txt`);
    expect(untyped.headers.get("content-type")).toMatch(/^(text\/plain|application\/octet-stream)/);
  });

  it("If-Match on PUT: current ETag or * pass, anything else 412", async () => {
    const cell = await freshCell();
    const etag = (await dav("PUT", `/${cell}/__/f`, { body: "1" })).headers.get("etag") ?? "";
    const wrong = await dav("PUT", `/${cell}/__/f`, { headers: { "If-Match": '"0-0"' }, body: "2" });
    expect(wrong.status).toBe(412);
    expect(await errorOf(wrong)).toEqual({ code: "PR412-DV-0001", message: "ETag does not match." });
    expect((await dav("PUT", `/${cell}/__/f`, { headers: { "If-Match": etag }, body: "3" })).status).toBe(
      204,
    );
    expect((await dav("PUT", `/${cell}/__/f`, { headers: { "If-Match": "*" }, body: "4" })).status).toBe(204);
  });

  it("PUT under a missing collection: 409; on the box root: 405", async () => {
    const cell = await freshCell();
    expect((await dav("PUT", `/${cell}/__/nodir/f`, { body: "x" })).status).toBe(409);
    expect((await dav("PUT", `/${cell}/__`, { body: "x" })).status).toBe(405);
  });

  it("If-None-Match: the equal ETag → 304, * is not a match", async () => {
    const cell = await freshCell();
    const etag = (await dav("PUT", `/${cell}/__/f`, { body: "data" })).headers.get("etag") ?? "";
    const notModified = await dav("GET", `/${cell}/__/f`, { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(await notModified.text()).toBe("");
    const star = await dav("GET", `/${cell}/__/f`, { headers: { "If-None-Match": "*" } });
    expect(star.status).toBe(200);
    expect(await star.text()).toBe("data");
  });

  it("Range → 206 with Content-Range; beyond the end → 416; HEAD sends headers only", async () => {
    const cell = await freshCell();
    await dav("PUT", `/${cell}/__/f`, { body: "0123456789" });
    const part = await dav("GET", `/${cell}/__/f`, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(part.headers.get("content-length")).toBe("4");
    expect(await part.text()).toBe("2345");
    const tail = await dav("GET", `/${cell}/__/f`, { headers: { Range: "bytes=-3" } });
    expect(await tail.text()).toBe("789");
    const beyond = await dav("GET", `/${cell}/__/f`, { headers: { Range: "bytes=10-" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */10");
    expect((await errorOf(beyond)).code).toBe("PR416-DV-0001");
    const head = await dav("HEAD", `/${cell}/__/f`);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("10");
    expect(await head.text()).toBe("");
  });

  it("GET of a missing file: 404 PR404-DV-0001 naming its URL; of a collection: 405", async () => {
    const cell = await freshCell();
    const missing = await dav("GET", `/${cell}/__/nope.txt`);
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({
      code: "PR404-DV-0001",
      message: `Resource not found. [http://localhost/${cell}/__/nope.txt].`,
    });
    expect((await dav("GET", `/${cell}/__`)).status).toBe(405);
  });

  it("a streamed upload past the limit is 413 and leaves nothing behind", async () => {
    const cell = await freshCell();
    const declared = await dav("PUT", `/${cell}/__/big`, { body: "x".repeat(LIMIT + 1) });
    expect(declared.status).toBe(413);
    expect((await errorOf(declared)).code).toBe("PR413-DV-0001");
    const chunk = new Uint8Array(16 * 1024).fill(120);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > LIMIT * 2) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const streamed = await dav("PUT", `/${cell}/__/big`, { body: stream });
    expect(streamed.status).toBe(413);
    expect((await dav("GET", `/${cell}/__/big`)).status).toBe(404);
    expect((await dav("PUT", `/${cell}/__/exact`, { body: "x".repeat(LIMIT) })).status).toBe(201);
  });
});

describe("DELETE", () => {
  it("204; If-Match mismatch 412; missing 404; non-empty collection 403; box root 405", async () => {
    const cell = await freshCell();
    const etag = (await dav("PUT", `/${cell}/__/f`, { body: "x" })).headers.get("etag") ?? "";
    expect((await dav("DELETE", `/${cell}/__/f`, { headers: { "If-Match": '"9-9"' } })).status).toBe(412);
    expect((await dav("DELETE", `/${cell}/__/f`, { headers: { "If-Match": etag } })).status).toBe(204);
    expect((await dav("GET", `/${cell}/__/f`)).status).toBe(404);
    expect((await errorOf(await dav("DELETE", `/${cell}/__/f`))).code).toBe("PR404-DV-0001");
    await dav("MKCOL", `/${cell}/__/d`);
    await dav("PUT", `/${cell}/__/d/inner`, { body: "x" });
    const full = await dav("DELETE", `/${cell}/__/d`);
    expect(full.status).toBe(403);
    expect((await errorOf(full)).code).toBe("PR403-DV-0003");
    expect((await dav("DELETE", `/${cell}/__/d/inner`)).status).toBe(204);
    expect((await dav("DELETE", `/${cell}/__/d/`)).status).toBe(204);
    expect((await dav("DELETE", `/${cell}/__`)).status).toBe(405);
  });
});

describe("PROPFIND", () => {
  it("Depth 0 and 1: 207 in Personium's XML shape", async () => {
    const cell = await freshCell();
    await dav("MKCOL", `/${cell}/__/docs`);
    await dav("PUT", `/${cell}/__/docs/a%25b.txt`, {
      headers: { "Content-Type": "text/plain" },
      body: "abc",
    });
    const zero = await dav("PROPFIND", `/${cell}/__/docs`, { headers: { Depth: "0" } });
    expect(zero.status).toBe(207);
    expect(zero.headers.get("content-type")).toBe("application/xml");
    const zeroXml = await zero.text();
    expect(zeroXml).toContain('<multistatus xmlns="DAV:">\n    <response>');
    expect(zeroXml.match(/<response>/g)).toHaveLength(1);
    expect(zeroXml).toContain(`<href>http://localhost/${cell}/__/docs</href>`);
    expect(zeroXml).toContain("<collection/>");

    const one = await dav("PROPFIND", `/${cell}/__/docs/`, {
      headers: { Depth: "1", "Content-Type": "application/xml" },
      body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
    });
    expect(one.status).toBe(207);
    const xml = await one.text();
    expect(xml.match(/<response>/g)).toHaveLength(2);
    expect(xml).toContain(`<href>http://localhost/${cell}/__/docs/a%25b.txt</href>`);
    expect(xml).toContain("<getcontentlength>3</getcontentlength>");
    expect(xml).toContain("<getcontenttype>text/plain</getcontenttype>");
    expect(xml).toMatch(/<getlastmodified>\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT<\/getlastmodified>/);
    expect(xml).toContain("<resourcetype/>");

    const file = await dav("PROPFIND", `/${cell}/__/docs/a%25b.txt`, { headers: { Depth: "1" } });
    expect((await file.text()).match(/<response>/g)).toHaveLength(1);
  });

  it("Depth and body errors with Personium's codes; missing resource 404", async () => {
    const cell = await freshCell();
    const missing = await dav("PROPFIND", `/${cell}/__`);
    expect(await errorOf(missing)).toEqual({
      code: "PR400-DV-0003",
      message: "Invalid depth header value:[null].",
    });
    const infinite = await dav("PROPFIND", `/${cell}/__`, { headers: { Depth: "infinity" } });
    expect(infinite.status).toBe(403);
    expect(await errorOf(infinite)).toEqual({
      code: "PR403-DV-0001",
      message: "Infinite depth is not supported.",
    });
    const two = await dav("PROPFIND", `/${cell}/__`, { headers: { Depth: "2" } });
    expect(await errorOf(two)).toEqual({ code: "PR400-DV-0003", message: "Invalid depth header value:[2]." });
    for (const body of ["<propfind", "<a></b>", '<!DOCTYPE x [<!ENTITY e "x">]><propfind xmlns="DAV:"/>']) {
      const bad = await dav("PROPFIND", `/${cell}/__`, { headers: { Depth: "1" }, body });
      expect(bad.status).toBe(400);
      expect(await errorOf(bad)).toEqual({ code: "PR400-DV-0001", message: "XML parse error." });
    }
    const huge = await dav("PROPFIND", `/${cell}/__`, {
      headers: { Depth: "1" },
      body: `<a>${"x".repeat(5000)}</a>`,
    });
    expect(huge.status).toBe(413);
    const nothing = await dav("PROPFIND", `/${cell}/__/none`, { headers: { Depth: "0" } });
    expect(nothing.status).toBe(404);
  });
});

describe("the cell lock", () => {
  it("refuses writes with 409 naming the job's kind; reads keep working", async () => {
    const cell = await freshCell();
    await dav("PUT", `/${cell}/__/f`, { body: "x" });
    for (const [kind, label] of [
      ["export", "cell export"],
      ["import", "cell import"],
    ] as const) {
      await t.holdCell(cell, kind);
      try {
        for (const [method, path] of [
          ["PUT", `/${cell}/__/g`],
          ["MKCOL", `/${cell}/__/d`],
          ["DELETE", `/${cell}/__/f`],
        ] as const) {
          const response = await dav(method, path, method === "PUT" ? { body: "y" } : {});
          expect(response.status).toBe(409);
          expect(await errorOf(response)).toEqual({
            code: "PR409-CM-0002",
            message: `Because [${label}] is being executed, writing to cell can not be done.`,
          });
        }
        expect((await dav("GET", `/${cell}/__/f`)).status).toBe(200);
        expect((await dav("PROPFIND", `/${cell}/__`, { headers: { Depth: "1" } })).status).toBe(207);
      } finally {
        await t.releaseCell(cell, kind);
      }
    }
    expect((await dav("PUT", `/${cell}/__/g`, { body: "y" })).status).toBe(201);
  });
});

describe("path safety", () => {
  it("no traversal form reaches outside the cell, and nothing is written outside the data dir", async () => {
    const cell = await freshCell();
    const victim = await freshCell();
    await dav("PUT", `/${victim}/__/secret.txt`, { body: "victim data" });
    await writeFile(join(t.root, "outside.txt"), "outside data");
    const token = bearer(cellToken(cell));
    const attempts = [
      "/__/..%2F..%2F..%2Foutside.txt",
      "/__/%2e%2e%2f%2e%2e%2foutside.txt",
      "/__/%2E%2E%2F%2E%2E%2Foutside.txt",
      `/__/..%2f${victim}%2f__%2fsecret.txt`,
      "/__/..%5C..%5Coutside.txt",
      "/__/a%5C..%5C..%5Cx",
      "/__/%00",
      "/__/a%00.txt",
      "/__//outside.txt",
      "/__/%2Foutside.txt",
      "/__/%2F%2Foutside.txt",
      "/__/.pmeta",
      "/__/%2epmeta",
      "/__/%E0%A4%A",
    ];
    const before = new Set(await t.filesUnderRoot());
    for (const suffix of attempts) {
      for (const method of ["PUT", "GET", "MKCOL", "DELETE", "PROPFIND"]) {
        const response = await t.app.request(`/${cell}${suffix}`, {
          method,
          headers: { ...token, Depth: "1" },
          ...(method === "PUT" ? { body: "pwned" } : {}),
        });
        expect([400, 404], `${method} ${suffix} → ${response.status}`).toContain(response.status);
        const text = await response.text();
        expect(text).not.toContain("victim data");
        expect(text).not.toContain("outside data");
      }
    }
    const after = await t.filesUnderRoot();
    const added = after.filter((f) => !before.has(f));
    expect(added.filter((f) => !f.startsWith(`data`))).toEqual([]);
    expect(added.some((f) => f.includes("pwned") || f.endsWith("outside.txt"))).toBe(false);
    expect((await dav("GET", `/${victim}/__/secret.txt`)).status).toBe(200);
  });

  it("dot segments are resolved by URL parsing before routing: they never leave the addressed path", async () => {
    const cell = await freshCell();
    // new Request (and @hono/node-server) normalise `..` and `%2e%2e` segments, so these
    // arrive as /{cell}/x or /x: unknown resources, never a file outside the box.
    for (const path of [
      `/${cell}/__/../../outside.txt`,
      `/${cell}/__/%2e%2e/%2e%2e/outside.txt`,
      `/${cell}/__/.%2e/x`,
    ]) {
      const response = await dav("PUT", path, { body: "pwned" });
      expect([400, 404], path).toContain(response.status);
    }
  });
});
