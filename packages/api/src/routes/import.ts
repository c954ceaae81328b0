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
  type ImportStatusBody,
  importStatus,
  PersoniumError,
  SNAPSHOT_NAME_RULE_TEXT,
} from "@cellport/shared";
import { type SnapshotLimits, snapshotAreaSource, validateSnapshot } from "@cellport/snapshot";
import { Hono } from "hono";
import { z } from "zod";
import { requireCellRoot } from "../auth/middleware.ts";
import { acceptCellJob } from "../cell/accept-job.ts";
import { cellWriteLock } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { named, PersoniumErrorSchema } from "../http/api-doc.ts";
import type { AppEnv } from "../http/env.ts";
import { bodyOf, jsonBody } from "../http/json-body.ts";
import { defineResource } from "../http/resource.ts";
import { progressSchema, snapshotNameSchema, startedAtSchema } from "../http/schemas.ts";

export const IMPORT_PATH = "/__import";

export interface ImportRouteOptions {
  /** Bounds on the archives accepted (zip bombs); the snapshot package's defaults otherwise. */
  snapshotLimits?: Partial<SnapshotLimits>;
}

/** POST `__import`: unlike export's, the body and its `Name` are required (spec §4.1). */
export const importBody = jsonBody({
  schema: named("ImportRequest", z.object({ Name: snapshotNameSchema })),
  fieldErrors: {
    Name: {
      missing: ["PR400-CM-0001", ["Name"]],
      invalid: ["PR400-CM-0002", ["Name", SNAPSHOT_NAME_RULE_TEXT]],
    },
  },
  whenAbsent: "required",
  whenNotObject: "reject",
  description: "Any Content-Type (clients send `text/plain;charset=UTF-8`)",
});

const inProgress = { started_at: startedAtSchema, progress: progressSchema, importation_name: z.string() };

const ImportStatusSchema: z.ZodType<ImportStatusBody> = named(
  "ImportStatus",
  z.discriminatedUnion("status", [
    z.object({ status: z.literal("ready") }),
    z.object({ status: z.literal("importation in progress"), ...inProgress }),
    z.object({
      status: z.literal("import failed"),
      ...inProgress,
      message: PersoniumErrorSchema.meta({
        description: "Why it failed; shown until the next import starts",
      }),
    }),
  ]),
);

export function createImportRoutes(deps: AppDeps, options: ImportRouteOptions = {}): Hono<AppEnv> {
  const router = new Hono<AppEnv>();

  defineResource(
    router,
    IMPORT_PATH,
    {
      GET: {
        summary: "Import status",
        description: "In progress, else the last failure (until the next import starts), else `ready`.",
        responses: { 200: { description: "The status document", json: ImportStatusSchema } },
        errors: ["PR503-SV-0001"],
        handler: async function getImportStatus(c) {
          const cell = c.get("cell");
          const [current, lastFailure] = await Promise.all([
            deps.jobs.status(cell),
            deps.jobs.lastImportFailure(cell),
          ]);
          return c.json(importStatus(current, lastFailure));
        },
      },
      POST: {
        summary: "Start an import",
        description:
          "Imports `__snapshot/{Name}.zip` into the cell. The archive is validated before the 202; the import " +
          "is staged and swapped in atomically, so a failed import leaves the cell as it was.",
        body: importBody,
        responses: {
          202: { description: "Accepted; empty body", headers: { Location: "`{CellURL}__import`" } },
        },
        errors: [
          "PR400-MC-0001",
          "PR400-MC-0003",
          "PR400-MC-0004",
          "PR400-MC-9001",
          "PR400-MC-9002",
          "PR400-MC-9003",
          "PR400-MC-9004",
          "PR400-MC-9005",
          "PR404-DV-0001",
          "PR409-CM-0002",
          "PR503-SV-0001",
        ],
        handler: [
          cellWriteLock(deps),
          async function startImport(c) {
            const cell = c.get("cell");
            const { Name: name } = bodyOf(c, importBody);
            const fileName = `${name}.zip`;
            const source = await snapshotAreaSource(deps.store.snapshots, cell, fileName);
            if (!source) throw new PersoniumError("PR404-DV-0001", [fileName]);
            const limits = options.snapshotLimits ?? deps.config.snapshotLimits;
            await validateSnapshot(source, limits ? { limits } : {});
            const acceptedAt = new Date();

            return acceptCellJob(c, deps, {
              kind: "import",
              name,
              acceptedAt,
              location: `${c.get("cellUrl")}${IMPORT_PATH.slice(1)}`,
            });
          },
        ],
      },
    },
    {
      guard: [requireCellRoot(deps)],
      doc: { tag: "import", access: "cell-root", params: { cell: "Cell name" } },
      maxJsonBytes: deps.config.maxJsonBytes,
    },
  );

  return router;
}
