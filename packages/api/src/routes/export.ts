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
  defaultExportName,
  type ExportStatusBody,
  exportStatus,
  type JobHistoryEntry,
  PersoniumError,
  SNAPSHOT_NAME_RULE_TEXT,
} from "@cellport/shared";
import { Hono } from "hono";
import { z } from "zod";
import { requireCellRoot } from "../auth/middleware.ts";
import { acceptCellJob } from "../cell/accept-job.ts";
import { cellWriteLockOnRefusal } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { named, PersoniumErrorSchema } from "../http/api-doc.ts";
import type { AppEnv } from "../http/env.ts";
import { bodyOf, jsonBody } from "../http/json-body.ts";
import { defineResource } from "../http/resource.ts";
import { progressSchema, snapshotNameSchema, startedAtSchema } from "../http/schemas.ts";

export const EXPORT_PATH = "/__export";
export const EXPORT_HISTORY_PATH = "/__export/history";

/**
 * POST `__export`: absent, `{}` or `"Name": null` → the default name at acceptance
 * (`{cell}_yyyyMMdd_HHmmss`, UTC); other keys are ignored. A JSON body that is not an
 * object is as unreadable as non-JSON (Personium casts it to an object and fails).
 */
export const exportBody = jsonBody({
  schema: named("ExportRequest", z.object({ Name: snapshotNameSchema.nullish() })),
  fieldErrors: { Name: { invalid: ["PR400-CM-0002", ["Name", SNAPSHOT_NAME_RULE_TEXT]] } },
  whenAbsent: "empty-object",
  whenNotObject: "reject",
  description: "Optional; any Content-Type (clients send `text/plain;charset=UTF-8`)",
});

/** The seed's status document: exactly these keys (spec §3.2). */
const ExportStatusSchema: z.ZodType<ExportStatusBody> = named(
  "ExportStatus",
  z.discriminatedUnion("status", [
    z.object({ status: z.literal("ready") }),
    z.object({
      status: z.literal("exportation in progress"),
      started_at: startedAtSchema,
      progress: progressSchema,
      exportation_name: z.string(),
    }),
  ]),
);

const HistoryEntrySchema: z.ZodType<JobHistoryEntry> = named(
  "JobHistoryEntry",
  z.object({
    kind: z.enum(["export", "import"]),
    name: z.string(),
    outcome: z.enum(["completed", "failed", "cancelled"]),
    acceptedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number(),
    requestKey: z.string(),
    attempts: z.number().int(),
    size: z.number().int().optional().meta({ description: "Bytes of the zip (completed exports)" }),
    sha256: z.string().optional(),
    error: PersoniumErrorSchema.optional(),
  }),
);

/** GET `__export`'s answer; also given by the status shortcut (cell/status-shortcut.ts). */
export async function exportStatusResponse(deps: Pick<AppDeps, "jobs">, cell: string): Promise<Response> {
  const body = exportStatus(await deps.jobs.status(cell));
  return new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });
}

const resourceDoc = {
  tag: "export",
  access: "cell-root",
  params: { cell: "Cell name" },
} as const;

export function createExportRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const guard = [requireCellRoot(deps)];

  defineResource(
    router,
    EXPORT_PATH,
    {
      GET: {
        summary: "Export status",
        description: "`ready` whenever no export is queued or running, after success and failure alike.",
        responses: { 200: { description: "The status document", json: ExportStatusSchema } },
        errors: ["PR503-SV-0001"],
        handler: function getExportStatus(c) {
          return exportStatusResponse(deps, c.get("cell"));
        },
      },
      POST: {
        summary: "Start an export",
        description:
          "Enqueues the cell's export (durably, before answering); the status already reads " +
          "`exportation in progress` when the 202 arrives. Of simultaneous POSTs for one cell exactly one " +
          "is accepted. The snapshot appears as `__snapshot/{Name}.zip` once complete, or `{Name}.error`.",
        body: exportBody,
        responses: {
          202: { description: "Accepted; empty body", headers: { Location: "`{CellURL}__export`" } },
        },
        errors: ["PR409-CM-0002", "PR409-DV-0002", "PR503-SV-0001"],
        handler: [
          cellWriteLockOnRefusal(deps),
          async function startExport(c) {
            const cell = c.get("cell");
            const acceptedAt = new Date();
            const name = bodyOf(c, exportBody).Name ?? defaultExportName(cell, acceptedAt);
            if (await deps.store.snapshots.stat(cell, `${name}.zip`)) {
              throw new PersoniumError("PR409-DV-0002", [`${name}.zip`]);
            }
            return acceptCellJob(c, deps, {
              kind: "export",
              name,
              acceptedAt,
              location: `${c.get("cellUrl")}__export`,
            });
          },
        ],
      },
      // Not a write: it has to work while the cell is locked by the very export it cancels.
      DELETE: {
        summary: "Cancel the cell's export (cellport extension)",
        description:
          "Cancels a queued or running export; no snapshot is published. Works while the cell is locked.",
        responses: { 204: "Cancelled" },
        errors: ["PR404-DV-0001", "PR503-SV-0001"],
        handler: async function cancelExport(c) {
          const cell = c.get("cell");
          if (!(await deps.jobs.cancel(cell, "export"))) {
            throw new PersoniumError("PR404-DV-0001", [`${c.get("cellUrl")}__export`]);
          }
          c.get("log").info({ cell }, "export cancelled");
          return c.body(null, 204);
        },
      },
    },
    { guard, doc: resourceDoc, maxJsonBytes: deps.config.maxJsonBytes },
  );

  defineResource(
    router,
    EXPORT_HISTORY_PATH,
    {
      GET: {
        summary: "Export history (cellport extension)",
        description: "The cell's finished exports, newest first: outcome, error, size, checksum, duration.",
        responses: {
          200: { description: "The history", json: z.object({ exports: z.array(HistoryEntrySchema) }) },
        },
        errors: ["PR503-SV-0001"],
        handler: async function getExportHistory(c) {
          const entries = await deps.jobs.history(c.get("cell"));
          return c.json({ exports: entries.filter((entry) => entry.kind === "export") });
        },
      },
    },
    { guard, doc: resourceDoc },
  );

  return router;
}
