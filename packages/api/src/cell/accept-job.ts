/**
 * Accepting a cell's export or import (spec §3.1, §4.1): one atomic enqueue, then
 * 202 + `Location` with an empty body. The lock check that runs earlier is only
 * advisory; the enqueue (deduplicated per cell) is what admits exactly one job.
 */
import { type CellJobData, type JobKind, LOCK_LABEL, PersoniumError } from "@cellport/shared";
import type { Context } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../http/env.ts";

export async function acceptCellJob(
  c: Context<AppEnv>,
  deps: AppDeps,
  job: { kind: JobKind; name: string; acceptedAt: Date; location: string },
): Promise<Response> {
  const cell = c.get("cell");
  const data: CellJobData = {
    kind: job.kind,
    cell,
    name: job.name,
    acceptedAt: job.acceptedAt.toISOString(),
    requestKey: c.get("requestKey"),
    unitUrl: `${c.get("baseUrl")}/`,
  };
  const result = await deps.jobs.enqueue(data);
  if (!result.accepted) {
    throw new PersoniumError("PR409-CM-0002", [LOCK_LABEL[result.holder?.data.kind ?? job.kind]]);
  }
  c.get("log").info({ cell, name: job.name, jobId: result.jobId }, `${job.kind} accepted`);
  return c.body(null, 202, { Location: job.location });
}
