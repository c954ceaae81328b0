/**
 * Unit-level cell API (spec §9), master token only, in Personium's OData shapes:
 *   POST   /__ctl/Cell           {"Name":"c1"} → 201
 *   GET    /__ctl/Cell           → 200 list (for the CLI)
 *   GET    /__ctl/Cell('c1')     → 200 | 404
 *   DELETE /__ctl/Cell('c1')     → 204 (also its snapshots); 409 while an export/import holds it
 */
import { CELL_NAME_RULE_TEXT, isValidCellName, PersoniumError } from "@cellport/shared";
import type { CellDocument } from "@cellport/store";
import { type Context, Hono } from "hono";
import { requireUnitMaster } from "../auth/middleware.ts";
import { assertCellWritable } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { isJsonObject, readJsonBody } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { defineResource } from "../http/resource.ts";

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
      GET: async function listCells(c) {
        const names = (await deps.store.listCells()).sort();
        const docs = await Promise.all(names.map((name) => deps.store.getCell(name)));
        const results = docs
          .filter((d): d is CellDocument => d !== null)
          .map((d) => cellEntity(d, c.get("baseUrl")));
        return c.json({ d: { results } });
      },
      POST: async function createCell(c) {
        const body = await readJsonBody(c.req.raw, deps.config.maxJsonBytes);
        const name = body.present && isJsonObject(body.value) ? body.value.Name : undefined;
        if (name === undefined || name === null) throw new PersoniumError("PR400-CM-0001", ["Name"]);
        if (typeof name !== "string" || !isValidCellName(name)) {
          throw new PersoniumError("PR400-OD-0006", ["Name", CELL_NAME_RULE_TEXT]);
        }
        const doc = await deps.store.createCell(name);
        c.get("log").info({ cell: name }, "cell created");
        c.header("Location", cellEntityUrl(c.get("baseUrl"), name));
        c.header("ETag", cellEtag(doc));
        return c.json({ d: { results: cellEntity(doc, c.get("baseUrl")) } }, 201);
      },
    },
    { guard },
  );

  defineResource(
    router,
    "/:key{Cell\\([^/]*\\)}",
    {
      GET: async function getCell(c) {
        const doc = await cellOfKey(c, deps);
        c.header("ETag", cellEtag(doc));
        return c.json({ d: { results: cellEntity(doc, c.get("baseUrl")) } });
      },
      DELETE: async function deleteCell(c) {
        const doc = await cellOfKey(c, deps);
        await assertCellWritable(deps, doc.name);
        await deps.store.deleteCell(doc.name);
        await deps.jobs.forgetCell(doc.name);
        c.get("log").info({ cell: doc.name }, "cell deleted");
        return c.body(null, 204);
      },
    },
    { guard },
  );

  return router;
}
