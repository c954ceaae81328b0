/**
 * The cell lock (spec §5): while the cell has an export or import queued or running,
 * writes get 409 PR409-CM-0002 naming the job's kind. The job itself is the lock
 * (one deduplicated job per cell), so it ends with the job and never outlives a
 * crashed worker. cellport checks it after auth (spec §2.6 item 4).
 */
import { isInProgress, LOCK_LABEL, PersoniumError } from "@cellport/shared";
import type { MiddlewareHandler } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../http/env.ts";

/** Throws 409 PR409-CM-0002 while `cell` has a job (503 when the queue is unreachable). */
export async function assertCellWritable(deps: Pick<AppDeps, "jobs">, cell: string): Promise<void> {
  const job = await deps.jobs.current(cell);
  if (job && isInProgress(job.state)) {
    throw new PersoniumError("PR409-CM-0002", [LOCK_LABEL[job.data.kind]]);
  }
}

/**
 * The lock of a route whose operation is a deduplicated enqueue (POST `__export`): the
 * enqueue admits one job per cell atomically and answers 409 PR409-CM-0002 itself, so
 * the lock costs no Redis read on the way in. It is read only when a later check
 * refused the request (body validation, a snapshot name taken): a lock held is then
 * the answer, as it would have been had it been checked first (spec §2.6).
 */
export function cellWriteLockOnRefusal(deps: Pick<AppDeps, "jobs">): MiddlewareHandler<AppEnv> {
  return async function cellWriteLockOnRefusal(c, next) {
    await next();
    const refusal = c.error;
    if (refusal instanceof PersoniumError && refusal.status < 500 && refusal.code !== "PR409-CM-0002") {
      await assertCellWritable(deps, c.get("cell"));
    }
  };
}

/** Middleware form for cell-level write routes; place it after the auth guard. */
export function cellWriteLock(deps: Pick<AppDeps, "jobs">): MiddlewareHandler<AppEnv> {
  return async function cellWriteLock(c, next) {
    await assertCellWritable(deps, c.get("cell"));
    await next();
  };
}
