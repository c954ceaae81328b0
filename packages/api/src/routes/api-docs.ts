/**
 * The API description, unauthenticated (it describes the API; it holds no data):
 *   GET /openapi.json    OpenAPI 3.1, built from the router (http/openapi.ts)
 *   GET /docs            a Scalar reference page for it
 *   GET /docs/scalar.js  Scalar's browser bundle, served from node_modules
 *
 * The page loads nothing from elsewhere: the bundle comes from here (Scalar's `cdn`
 * option), and its web fonts, telemetry and AI agent are switched off, so the docs
 * work on a machine with no internet.
 */
import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Scalar } from "@scalar/hono-api-reference";
import type { Env } from "hono";
import { Hono } from "hono";
// Imported (not read at run time) so the bundle carries it: dist/ has no package.json beside it.
import apiPackage from "../../package.json" with { type: "json" };
import type { AppEnv } from "../http/env.ts";
import { buildOpenApiDocument, type OpenApiDocument, type OpenApiInfo } from "../http/openapi.ts";
import { defineResource } from "../http/resource.ts";

export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PATH = "/docs";
export const DOCS_BUNDLE_PATH = "/docs/scalar.js";

const requireHere = createRequire(import.meta.url);
/** Scalar's standalone bundle: the file its CDN would serve, from the pinned package. */
const SCALAR_BUNDLE = requireHere.resolve("@scalar/api-reference/browser/standalone.js");

export const API_INFO: OpenApiInfo = {
  title: "cellport",
  version: apiPackage.version,
  description: [
    "Export, snapshot and import whole Personium cells, with Personium's `{CellURL}__export`, `__import` and",
    "`__snapshot` API. Errors are Personium error bodies (`PersoniumError`); the HTTP status is the three",
    "digits after `PR`. Every response carries `X-Personium-Version` and `X-Personium-RequestKey`; a",
    "request may send `X-Personium-RequestKey` (≤ 128 of `A-Za-z0-9_-`, else 400 `PR400-EV-0002`),",
    "`X-Override: Name: value` and `X-HTTP-Method-Override`.",
  ].join(" "),
  tags: [
    { name: "export", description: "Start, watch and cancel a cell's export (spec §3)" },
    { name: "import", description: "Import a snapshot into a cell (spec §4)" },
    { name: "snapshot", description: "The cell's snapshot area (spec §6)" },
    { name: "box", description: "The main box's files, WebDAV subset (spec §9)" },
    { name: "cells", description: "Unit-level cell management (spec §9)" },
    { name: "auth", description: "Credentials for browser clients (spec §2.5)" },
    { name: "operations", description: "Probes, metrics, the queue dashboard and this description" },
  ],
};

const doc = { tag: "operations", access: "none" } as const;

/**
 * `app` is the router to describe, called on the first request: it is complete only
 * once the whole app is, after this module's routes were mounted into it.
 */
export function createApiDocsRoutes<E extends Env>(app: () => Hono<E>): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  let built: OpenApiDocument | undefined;
  const document = () => {
    built ??= buildOpenApiDocument(app(), API_INFO);
    return built;
  };

  defineResource(
    router,
    OPENAPI_PATH,
    {
      GET: {
        summary: "This API description (OpenAPI 3.1)",
        responses: { 200: { description: "The document", content: { "application/json": {} } } },
        handler: function openApiDocument(c) {
          return c.json(document());
        },
      },
    },
    { doc },
  );

  defineResource(
    router,
    DOCS_PATH,
    {
      GET: {
        summary: "API reference page (Scalar)",
        responses: {
          200: { description: "An HTML page rendering /openapi.json", content: { "text/html": {} } },
        },
        handler: Scalar<AppEnv>((c) => {
          const base = c.get("baseUrl");
          return {
            url: `${base}${OPENAPI_PATH}`,
            cdn: `${base}${DOCS_BUNDLE_PATH}`,
            pageTitle: "cellport API",
            withDefaultFonts: false,
            telemetry: false,
            agent: { disabled: true },
            showDeveloperTools: "never",
          };
        }),
      },
    },
    { doc },
  );

  defineResource(
    router,
    DOCS_BUNDLE_PATH,
    {
      GET: {
        summary: "The reference page's script",
        responses: { 200: { description: "Scalar's browser bundle", content: { "text/javascript": {} } } },
        handler: function scalarBundle(c) {
          const stream = Readable.toWeb(createReadStream(SCALAR_BUNDLE)) as WebReadableStream<Uint8Array>;
          return c.body(stream as unknown as ReadableStream, 200, {
            "Content-Type": "text/javascript; charset=utf-8",
            // The bundle changes only with the pinned package: let browsers keep it for a day.
            "Cache-Control": "public, max-age=86400",
          });
        },
      },
    },
    { doc },
  );

  return router;
}
