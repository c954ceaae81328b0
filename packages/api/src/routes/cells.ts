/**
 * Unit-level cell API (spec §9), master token only, in Personium's OData shapes:
 *   POST   /__ctl/Cell           {"Name":"c1"} → 201
 *   GET    /__ctl/Cell           → 200 list (for the CLI)
 *   GET    /__ctl/Cell('c1')     → 200 | 404
 *   DELETE /__ctl/Cell('c1')     → 204 (also its snapshots); 409 while an export/import holds it
 */
import { CELL_NAME_PATTERN, CELL_NAME_RULE_TEXT, isValidCellName, PersoniumError } from "@cellport/shared";
import type { CellDocument } from "@cellport/store";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireUnitMaster } from "../auth/middleware.ts";
import { assertCellWritable } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { named } from "../http/api-doc.ts";
import type { AppEnv } from "../http/env.ts";
import { bodyOf, jsonBody } from "../http/json-body.ts";
import { defineResource } from "../http/resource.ts";

/**
 * POST `/__ctl/Cell`. Personium reads `Name` out of whatever arrives: no body, or a
 * JSON value that is not an object, is simply a missing `Name`.
 */
export const createCellBody = jsonBody({
  schema: named(
    "CreateCellRequest",
    z.object({ Name: z.string().regex(CELL_NAME_PATTERN).meta({ description: "The new cell's name" }) }),
  ),
  fieldErrors: {
    Name: { missing: ["PR400-CM-0001", ["Name"]], invalid: ["PR400-OD-0006", ["Name", CELL_NAME_RULE_TEXT]] },
  },
  whenAbsent: "empty-object",
  whenNotObject: "empty-object",
});

const CellEntitySchema = named(
  "Cell",
  z.object({
    __metadata: z.object({ uri: z.string(), etag: z.string(), type: z.literal("UnitCtl.Cell") }),
    Name: z.string(),
    __published: z.string().meta({ description: "`/Date(epochMs)/`" }),
    __updated: z.string().meta({ description: "`/Date(epochMs)/`" }),
  }),
);

const resourceDoc = { tag: "cells", access: "unit-master" } as const;

/** `Cell('c1')` or `Cell(Name='c1')` — the OData key forms Personium accepts. */
const CELL_KEY = /^Cell\((?:Name=)?'([^']*)'\)$/;

export function cellEntityUrl(baseUrl: string, name: string): string {
  return `${baseUrl}/__ctl/Cell('${name}')`;
}

function cellEtag(doc: CellDocument): string {
  return `W/"1-${doc.updated}"`;
}

/** One cell as Personium's OData serialises it (`d.results`). */
export function cellEntity(doc: CellDocument, baseUrl: string) {
  return {
    __metadata: { uri: cellEntityUrl(baseUrl, doc.name), etag: cellEtag(doc), type: "UnitCtl.Cell" },
    Name: doc.name,
    __published: `/Date(${doc.published})/`,
    __updated: `/Date(${doc.updated})/`,
  };
}

/** The cell named by the `Cell('…')` key, or 404 PR404-DV-0003. */
async function cellOfKey(c: Context<AppEnv>, deps: AppDeps): Promise<CellDocument> {
  const name = CELL_KEY.exec(c.req.param("key") ?? "")?.[1];
  const doc = name !== undefined && isValidCellName(name) ? await deps.store.getCell(name) : null;
  if (!doc) throw new PersoniumError("PR404-DV-0003");
  return doc;
}

export function createCellRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const guard = [requireUnitMaster(deps)];

  defineResource(
    router,
    "/Cell",
    {
      GET: {
        summary: "List cells",
        responses: {
          200: {
            description: "Every cell, by name",
            json: z.object({ d: z.object({ results: z.array(CellEntitySchema) }) }),
          },
        },
        handler: async function listCells(c) {
          const names = (await deps.store.listCells()).sort();
          const docs = await Promise.all(names.map((name) => deps.store.getCell(name)));
          const results = docs
            .filter((d): d is CellDocument => d !== null)
            .map((d) => cellEntity(d, c.get("baseUrl")));
          return c.json({ d: { results } });
        },
      },
      POST: {
        summary: "Create a cell",
        body: createCellBody,
        responses: {
          201: {
            description: "Created",
            json: z.object({ d: z.object({ results: CellEntitySchema }) }),
            headers: { Location: "The cell's entity URL", ETag: "The cell's ETag" },
          },
        },
        errors: ["PR409-OD-0003"],
        handler: async function createCell(c) {
          const { Name: name } = bodyOf(c, createCellBody);
          const doc = await deps.store.createCell(name);
          c.get("log").info({ cell: name }, "cell created");
          c.header("Location", cellEntityUrl(c.get("baseUrl"), name));
          c.header("ETag", cellEtag(doc));
          return c.json({ d: { results: cellEntity(doc, c.get("baseUrl")) } }, 201);
        },
      },
    },
    { guard, doc: resourceDoc, maxJsonBytes: deps.config.maxJsonBytes },
  );

  defineResource(
    router,
    "/:key{Cell\\([^/]*\\)}",
    {
      GET: {
        summary: "Get a cell",
        responses: {
          200: {
            description: "The cell",
            json: z.object({ d: z.object({ results: CellEntitySchema }) }),
            headers: { ETag: "The cell's ETag" },
          },
        },
        errors: ["PR404-DV-0003"],
        handler: async function getCell(c) {
          const doc = await cellOfKey(c, deps);
          c.header("ETag", cellEtag(doc));
          return c.json({ d: { results: cellEntity(doc, c.get("baseUrl")) } });
        },
      },
      DELETE: {
        summary: "Delete a cell",
        description:
          "Also removes its snapshots and history. Refused while an export or import holds the cell.",
        responses: { 204: "Deleted" },
        errors: ["PR404-DV-0003", "PR409-CM-0002", "PR503-SV-0001"],
        handler: async function deleteCell(c) {
          const doc = await cellOfKey(c, deps);
          await assertCellWritable(deps, doc.name);
          await deps.store.deleteCell(doc.name);
          await deps.jobs.forgetCell(doc.name);
          c.get("log").info({ cell: doc.name }, "cell deleted");
          return c.body(null, 204);
        },
      },
    },
    { guard, doc: { ...resourceDoc, params: { key: "`Cell('{name}')` or `Cell(Name='{name}')`" } } },
  );

  return router;
}
