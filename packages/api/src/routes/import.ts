/**
 * Cell import (spec §4), every method root-only:
 *   POST {CellURL}__import   {"Name":"…"} → 202 + Location, empty body
 *   GET  {CellURL}__import   `{"status":"ready"}`, "importation in progress" or "import failed"
 *
 * Everything that can be known before the job runs is checked before the 202: the
 * body, the file, and the archive itself (`validateSnapshot` reads only its central
 * directory, manifest and cell document). The worker reads the archive again, with
 * the same checks and more (every byte, every line) — a failure there is reported by
 * GET as "import failed", and the cell is left as it was.
 */
import {
  type CellJobData,
  importStatus,
  isValidSnapshotName,
  LOCK_LABEL,
  PersoniumError,
  SNAPSHOT_NAME_RULE_TEXT,
} from "@cellport/shared";
import { type SnapshotLimits, snapshotAreaSource, validateSnapshot } from "@cellport/snapshot";
import { type Context, Hono } from "hono";
import { requireCellRoot } from "../auth/middleware.ts";
import { cellWriteLock } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { isJsonObject, readJsonBody } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { defineResource } from "../http/resource.ts";

export const IMPORT_PATH = "/__import";

export interface ImportRouteOptions {
  /** Bounds on the archives accepted (zip bombs); the snapshot package's defaults otherwise. */
  snapshotLimits?: Partial<SnapshotLimits>;
}

/** The `Name` of a POST body; unlike export's, it is required (spec §4.1). */
async function importNameOf(c: Context<AppEnv>, deps: AppDeps): Promise<string> {
  const body = await readJsonBody(c.req.raw, deps.config.maxJsonBytes);
  // Personium parses the empty body as JSON too, and quotes it: "JSON parse error. []."
  if (!body.present) throw new PersoniumError("PR400-CM-0004", [""]);
  if (!isJsonObject(body.value)) throw new PersoniumError("PR400-CM-0004", [JSON.stringify(body.value)]);
  const name = body.value.Name;
  if (name === undefined || name === null) throw new PersoniumError("PR400-CM-0001", ["Name"]);
  if (typeof name !== "string" || !isValidSnapshotName(name)) {
    throw new PersoniumError("PR400-CM-0002", ["Name", SNAPSHOT_NAME_RULE_TEXT]);
  }
  return name;
}

export function createImportRoutes(deps: AppDeps, options: ImportRouteOptions = {}): Hono<AppEnv> {
  const router = new Hono<AppEnv>();

  defineResource(
    router,
    IMPORT_PATH,
    {
      GET: async function getImportStatus(c) {
        const cell = c.get("cell");
        const [current, lastFailure] = await Promise.all([
          deps.jobs.current(cell),
          deps.jobs.lastImportFailure(cell),
        ]);
        return c.json(importStatus(current, lastFailure));
      },
      POST: [
        cellWriteLock(deps),
        async function startImport(c) {
          const cell = c.get("cell");
          const name = await importNameOf(c, deps);
          const fileName = `${name}.zip`;
          const source = await snapshotAreaSource(deps.store.snapshots, cell, fileName);
          if (!source) throw new PersoniumError("PR404-DV-0001", [fileName]);
          await validateSnapshot(source, options.snapshotLimits ? { limits: options.snapshotLimits } : {});
          const acceptedAt = new Date();

          const data: CellJobData = {
            kind: "import",
            cell,
            name,
            acceptedAt: acceptedAt.toISOString(),
            requestKey: c.get("requestKey"),
            unitUrl: `${c.get("baseUrl")}/`,
          };
          // The lock check above is advisory; this atomic enqueue is what admits exactly one job.
          const result = await deps.jobs.enqueue(data);
          if (!result.accepted) {
            throw new PersoniumError("PR409-CM-0002", [LOCK_LABEL[result.holder?.data.kind ?? "import"]]);
          }
          c.get("log").info({ cell, name, jobId: result.jobId }, "import accepted");
          return c.body(null, 202, { Location: `${c.get("cellUrl")}${IMPORT_PATH.slice(1)}` });
        },
      ],
    },
    { guard: [requireCellRoot(deps)] },
  );

  return router;
}
