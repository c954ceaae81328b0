/**
 * Cell export (spec §3), every method root-only:
 *   POST   {CellURL}__export          start an export → 202 + Location, empty body
 *   GET    {CellURL}__export          the seed's status document
 *   DELETE {CellURL}__export          cellport extension: cancel → 204, or 404 when nothing runs
 *   GET    {CellURL}__export/history  cellport extension: `{"exports":[…]}`, newest first
 *
 * The status document carries exactly the seed's keys; outcomes (error, size,
 * checksum, duration) live on the history resource instead.
 */
import {
  type CellJobData,
  defaultExportName,
  exportStatus,
  isValidSnapshotName,
  LOCK_LABEL,
  PersoniumError,
  SNAPSHOT_NAME_RULE_TEXT,
} from "@cellport/shared";
import { type Context, Hono } from "hono";
import { requireCellRoot } from "../auth/middleware.ts";
import { cellWriteLock } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { isJsonObject, readJsonBody } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { defineResource } from "../http/resource.ts";

export const EXPORT_PATH = "/__export";
export const EXPORT_HISTORY_PATH = "/__export/history";

/**
 * The snapshot `Name` of a POST body: absent, `{}` or `"Name": null` → the default
 * name at acceptance; a JSON body that is not an object is as unreadable as
 * non-JSON (Personium casts it to an object and fails).
 */
async function exportNameOf(c: Context<AppEnv>, deps: AppDeps, acceptedAt: Date): Promise<string> {
  const body = await readJsonBody(c.req.raw, deps.config.maxJsonBytes);
  if (!body.present) return defaultExportName(c.get("cell"), acceptedAt);
  if (!isJsonObject(body.value)) throw new PersoniumError("PR400-CM-0004", [JSON.stringify(body.value)]);
  const name = body.value.Name;
  if (name === undefined || name === null) return defaultExportName(c.get("cell"), acceptedAt);
  if (typeof name !== "string" || !isValidSnapshotName(name)) {
    throw new PersoniumError("PR400-CM-0002", ["Name", SNAPSHOT_NAME_RULE_TEXT]);
  }
  return name;
}

export function createExportRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const guard = [requireCellRoot(deps)];

  defineResource(
    router,
    EXPORT_PATH,
    {
      GET: async function getExportStatus(c) {
        return c.json(exportStatus(await deps.jobs.current(c.get("cell"))));
      },
      POST: [
        cellWriteLock(deps),
        async function startExport(c) {
          const cell = c.get("cell");
          const acceptedAt = new Date();
          const name = await exportNameOf(c, deps, acceptedAt);
          if (await deps.store.snapshots.stat(cell, `${name}.zip`)) {
            throw new PersoniumError("PR409-DV-0002", [`${name}.zip`]);
          }
          const data: CellJobData = {
            kind: "export",
            cell,
            name,
            acceptedAt: acceptedAt.toISOString(),
            requestKey: c.get("requestKey"),
            unitUrl: `${c.get("baseUrl")}/`,
          };
          // The lock check above is advisory; this atomic enqueue is what admits exactly one export.
          const result = await deps.jobs.enqueue(data);
          if (!result.accepted) {
            throw new PersoniumError("PR409-CM-0002", [LOCK_LABEL[result.holder?.data.kind ?? "export"]]);
          }
          c.get("log").info({ cell, name, jobId: result.jobId }, "export accepted");
          return c.body(null, 202, { Location: `${c.get("cellUrl")}__export` });
        },
      ],
      // Not a write: it has to work while the cell is locked by the very export it cancels.
      DELETE: async function cancelExport(c) {
        const cell = c.get("cell");
        if (!(await deps.jobs.cancel(cell, "export"))) {
          throw new PersoniumError("PR404-DV-0001", [`${c.get("cellUrl")}__export`]);
        }
        c.get("log").info({ cell }, "export cancelled");
        return c.body(null, 204);
      },
    },
    { guard },
  );

  defineResource(
    router,
    EXPORT_HISTORY_PATH,
    {
      GET: async function getExportHistory(c) {
        const entries = await deps.jobs.history(c.get("cell"));
        return c.json({ exports: entries.filter((entry) => entry.kind === "export") });
      },
    },
    { guard },
  );

  return router;
}
