/** The docs page and its script, in-process: everything it loads comes from this app. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../test-helpers/test-app.ts";
import { DOCS_BUNDLE_PATH, DOCS_PATH, OPENAPI_PATH } from "./api-docs.ts";

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ config: { baseUrl: "https://cellport.example/" } });
});

afterAll(async () => {
  await t?.close();
});

describe("GET /docs", () => {
  it("is a Scalar page that loads its script and the document from this app only", async () => {
    const response = await t.app.request(DOCS_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map(([, src]) => src);
    expect(scripts).toEqual([`https://cellport.example${DOCS_BUNDLE_PATH}`]);
    expect(html).toContain(`"url": "https://cellport.example${OPENAPI_PATH}"`);
    expect(html).toContain('"withDefaultFonts": false');
    expect(html).toContain('"telemetry": false');
    expect(html).not.toMatch(/cdn\.jsdelivr|fonts\.scalar|unpkg/);
    // Everything absolute in the page is this unit's.
    for (const [url] of html.matchAll(/https?:\/\/[^\s"'<>)]+/g))
      expect(url).toMatch(/^https:\/\/cellport\.example\//);
  });

  it("serves Scalar's browser bundle from node_modules", async () => {
    const response = await t.app.request(DOCS_BUNDLE_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("cache-control")).toContain("max-age=");
    const script = await response.text();
    expect(script.length).toBeGreaterThan(1_000_000);
    expect(script).toContain("createApiReference");
  });

  it("needs no credentials, and answers other methods 405", async () => {
    expect((await t.app.request(OPENAPI_PATH)).status).toBe(200);
    const post = await t.app.request(DOCS_PATH, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("OPTIONS, GET");
  });
});
