/**
 * The API document against the app that serves it: every route Hono serves is in it
 * with its methods, it is well-formed OpenAPI 3.1, and its request schemas are the
 * validating ones.
 */
import { CELL_NAME_PATTERN, SNAPSHOT_NAME_PATTERN } from "@cellport/shared";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DASHBOARD_PATH } from "../routes/queue-dashboard.ts";
import { createTestApp, type TestApp } from "../test-helpers/test-app.ts";
import { jsonBody } from "./json-body.ts";
import {
  ADDITIONAL_OPERATIONS,
  buildOpenApiDocument,
  type OpenApiDocument,
  openApiPathOf,
} from "./openapi.ts";
import { defineResource } from "./resource.ts";

type Operation = {
  summary: string;
  tags?: string[];
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
};
type PathItem = Record<string, Operation> & { [ADDITIONAL_OPERATIONS]?: Record<string, Operation> };

let t: TestApp;
let doc: OpenApiDocument;

beforeAll(async () => {
  t = await createTestApp({ queueDashboard: { readOnly: true } });
  const response = await t.app.request("/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  doc = (await response.json()) as OpenApiDocument;
});

afterAll(async () => {
  await t?.close();
});

function operationOf(path: string, method: string): Operation | undefined {
  const item = doc.paths[path] as PathItem | undefined;
  return item?.[method.toLowerCase()] ?? item?.[ADDITIONAL_OPERATIONS]?.[method.toUpperCase()];
}

function* operations(): Generator<[string, string, Operation]> {
  for (const [path, item] of Object.entries(doc.paths) as [string, PathItem][]) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === ADDITIONAL_OPERATIONS) {
        for (const [extra, op] of Object.entries(operation as Record<string, Operation>))
          yield [path, extra, op];
      } else {
        yield [path, method, operation as Operation];
      }
    }
  }
}

describe("the API document", () => {
  it("is OpenAPI 3.1 with info, paths and components", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "cellport", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    expect(doc.components.schemas.PersoniumError).toMatchObject({
      type: "object",
      required: ["code", "message"],
    });
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      "cellToken",
      "masterToken",
      "masterTokenBasic",
      "pCookie",
      "pCookiePeer",
    ]);
    for (const [path] of operations()) expect(path, path).toMatch(/^\//);
    // Every $ref points at a component that exists.
    for (const ref of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      expect(doc.components.schemas, ref[1]).toHaveProperty(ref[1] ?? "");
    }
  });

  it("lists every route the app serves, with its methods", () => {
    const served = t.app.router.routes.filter(
      // ALL routes are middleware and the 405 catch-alls; bull-board's routes are its UI's private API.
      (r) => r.method !== "ALL" && r.path !== DASHBOARD_PATH && !r.path.startsWith(`${DASHBOARD_PATH}/`),
    );
    expect(served.length).toBeGreaterThan(40);
    const missing = served
      .filter((r) => !operationOf(openApiPathOf(r.path), r.method))
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    // The spec's endpoints (§1) by name, and cellport's own.
    for (const [method, path] of [
      ["POST", "/{cell}/__export"],
      ["GET", "/{cell}/__export"],
      ["DELETE", "/{cell}/__export"],
      ["GET", "/{cell}/__export/history"],
      ["POST", "/{cell}/__import"],
      ["GET", "/{cell}/__import"],
      ["PROPFIND", "/{cell}/__snapshot"],
      ["PUT", "/{cell}/__snapshot/{path}"],
      ["REPORT", "/{cell}/__snapshot/{path}"],
      ["OPTIONS", "/{cell}/__snapshot/{path}"],
      ["MKCOL", "/{cell}/__/{path}"],
      ["POST", "/__ctl/Cell"],
      ["GET", "/__ctl/{key}"],
      ["DELETE", "/__ctl/{key}"],
      ["GET", "/metrics"],
      ["GET", "/openapi.json"],
      ["GET", "/docs"],
      ["GET", DASHBOARD_PATH],
    ]) {
      expect(operationOf(path ?? "", method ?? ""), `${method} ${path}`).toBeDefined();
    }
  });

  it("documents every operation: a summary, responses, its path parameters, a known tag", () => {
    const tags = new Set(doc.tags.map((tag) => tag.name));
    for (const [path, method, operation] of operations()) {
      const name = `${method.toUpperCase()} ${path}`;
      expect(operation.summary, name).not.toBe("");
      expect(Object.keys(operation.responses).length, name).toBeGreaterThan(0);
      for (const tag of operation.tags ?? []) expect(tags.has(tag), `${name}: tag ${tag}`).toBe(true);
      const params = [...path.matchAll(/\{([^}]+)\}/g)].map(([, p]) => p);
      const declared = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
      expect(declared, name).toEqual(params);
    }
  });

  it("takes request bodies from the validating zod schemas", () => {
    const exportBody = operationOf("/{cell}/__export", "POST")?.requestBody;
    expect(exportBody?.required).toBe(false);
    expect(exportBody?.content["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/ExportRequest",
    });
    expect(doc.components.schemas.ExportRequest).toMatchObject({
      type: "object",
      properties: {
        Name: { anyOf: [{ type: "string", pattern: SNAPSHOT_NAME_PATTERN.source }, { type: "null" }] },
      },
    });
    expect(doc.components.schemas.ExportRequest).not.toHaveProperty("required");
    expect(operationOf("/{cell}/__import", "POST")?.requestBody?.required).toBe(true);
    expect(doc.components.schemas.ImportRequest).toMatchObject({ required: ["Name"] });
    expect(doc.components.schemas.CreateCellRequest).toMatchObject({
      properties: { Name: { type: "string", pattern: CELL_NAME_PATTERN.source } },
    });
  });

  it("lists the Personium errors of each operation: its own, its body's and its auth's", () => {
    const post = operationOf("/{cell}/__export", "POST");
    expect(post?.responses["202"]?.description).toContain("Accepted");
    expect(post?.responses["400"]?.description).toContain("`PR400-CM-0002` Field [{0}] format error.");
    expect(post?.responses["400"]?.description).toContain("`PR400-CM-0004`");
    expect(post?.responses["409"]?.description).toContain("`PR409-CM-0002`");
    expect(post?.responses["409"]?.description).toContain("`PR409-DV-0002`");
    expect(post?.responses["401"]?.description).toContain("`PR401-AU-0001`");
    expect(post?.responses["404"]?.description).toContain("`PR404-DV-0003` Cell not found.");
    expect(post?.responses["400"]?.content).toEqual({
      "application/json": { schema: { $ref: "#/components/schemas/PersoniumError" } },
    });
    expect(operationOf("/{cell}/__snapshot/{path}", "REPORT")?.responses["501"]).toBeDefined();
  });

  it("states who may call each operation", () => {
    expect(operationOf("/{cell}/__export", "GET")?.security).toEqual([
      { cellToken: [] },
      { masterToken: [] },
      { pCookie: [], pCookiePeer: [] },
    ]);
    expect(operationOf("/__ctl/Cell", "POST")?.security).toEqual([{ masterToken: [] }]);
    expect(operationOf("/metrics", "GET")?.security).toEqual([]);
    expect(operationOf("/healthz", "GET")?.security).toEqual([]);
    expect(operationOf(DASHBOARD_PATH, "GET")?.security).toEqual([
      { masterToken: [] },
      { masterTokenBasic: [] },
    ]);
  });

  it("is built once and served as is", async () => {
    const again = await (await t.app.request("/openapi.json")).json();
    expect(again).toEqual(doc);
  });
});

describe("buildOpenApiDocument", () => {
  it("picks up a new resource wherever it is mounted, with nothing else to update", () => {
    const body = jsonBody({
      schema: z.object({ Color: z.enum(["red", "blue"]) }),
      fieldErrors: { Color: { invalid: ["PR400-CM-0002", ["Color", "red|blue"]] } },
      whenAbsent: "required",
      whenNotObject: "reject",
    });
    const cell = new Hono();
    defineResource(
      cell,
      "/__paint",
      {
        PUT: {
          summary: "Paint the cell",
          body,
          responses: { 204: "Painted" },
          handler: (c) => c.body(null, 204),
        },
      },
      { doc: { tag: "paint", access: "cell-root" }, maxJsonBytes: 100 },
    );
    const app = new Hono().route("/:cell", cell);
    const built = buildOpenApiDocument(app, {
      title: "t",
      version: "1.0.0",
      tags: [{ name: "paint", description: "" }],
    });
    const put = (built.paths["/{cell}/__paint"] as PathItem).put;
    expect(put?.summary).toBe("Paint the cell");
    expect(put?.requestBody?.content["application/json"]?.schema).toMatchObject({
      type: "object",
      properties: { Color: { enum: ["red", "blue"] } },
    });
    expect((built.paths["/{cell}/__paint"] as PathItem).options?.summary).toBe("The resource's methods");
    expect(built.tags).toEqual([{ name: "paint", description: "" }]);
  });
});

describe("openApiPathOf", () => {
  it.each([
    ["/healthz", "/healthz"],
    ["/:cell/__export", "/{cell}/__export"],
    ["/:cell/__/*", "/{cell}/__/{path}"],
    ["/__ctl/:key{Cell\\([^/]*\\)}", "/__ctl/{key}"],
    ["/a/*/b", "/a/*/b"],
    ["/x/:id{[0-9]{2,3}}/y/:opt?", "/x/{id}/y/{opt}"],
    ["/*", "/{path}"],
  ])("%s → %s", (hono, openapi) => {
    expect(openApiPathOf(hono)).toBe(openapi);
  });
});
