/**
 * GET `{CellURL}__export` for a cell whose job this process has just seen in progress
 * — what pollers ask thousands of times a second while exports run — answered before
 * the router: the same auth functions and the same handler (`exportStatusResponse`),
 * without routing and its middleware chain. Anything else (another method or path, a
 * cell without a cached job) returns null and goes through the router; auth failures
 * throw the router's errors, which the pipeline maps as the router would.
 * `status-shortcut.test.ts` holds the two paths to the same answers.
 */
import { isValidCellName } from "@cellport/shared";
import { authorizeCellRoot } from "../auth/authorize.ts";
import { principalOf } from "../auth/middleware.ts";
import type { AppDeps } from "../deps.ts";
import type { RequestScope } from "../http/env.ts";
import { cellUrlOf, rawPathOf } from "../http/urls.ts";
import { EXPORT_PATH, exportStatusResponse } from "../routes/export.ts";

/** The route pattern the router reports for this endpoint (metrics label). */
export const EXPORT_STATUS_ROUTE = `/:cell${EXPORT_PATH}`;

export async function answerStatusFromMemory(
  deps: AppDeps,
  request: Request,
  scope: RequestScope,
): Promise<Response | null> {
  if (request.method !== "GET") return null;
  const path = rawPathOf(request);
  if (!path.endsWith(EXPORT_PATH)) return null;
  const cell = path.slice(1, -EXPORT_PATH.length);
  if (!isValidCellName(cell) || !deps.jobs.holdsJob(cell)) return null;
  scope.route = EXPORT_STATUS_ROUTE;
  authorizeCellRoot(principalOf(request, deps, cellUrlOf(scope.baseUrl, cell)), cell);
  return exportStatusResponse(deps, cell);
}
