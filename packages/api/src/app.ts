/**
 * The HTTP application. Two layers:
 *
 * 1. `createApp().fetch` — the pre-routing pipeline, in spec §2.6 order:
 *    RequestKey check (400) → X-Override / X-HTTP-Method-Override (rewrite the Request,
 *    so routing sees the overridden method) → CORS preflight (200 at once) → dispatch.
 *    It also stamps the convention headers on every response and writes the one
 *    access-log line.
 * 2. The Hono router — unit-level routes, then everything under `/{cell}/`, where
 *    `resolveCell` (404) runs first and each resource then applies auth (401/403),
 *    the write lock (409), body validation and the operation. One exception goes
 *    around it: the status poll of a cell whose job this process has cached
 *    (cell/status-shortcut.ts), with the same auth and handler.
 */

import { createUnredactedSibling, type Logger } from "@cellport/runtime";
import { PersoniumError, REQUEST_KEY_HEADER } from "@cellport/shared";
import { Hono, type MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { resolveCell } from "./cell/resolve-cell.ts";
import { answerStatusFromMemory } from "./cell/status-shortcut.ts";
import type { AppDeps } from "./deps.ts";
import { logAccess } from "./http/access-log.ts";
import type { AppEnv, RequestScope } from "./http/env.ts";
import { errorResponse, personiumErrorResponse } from "./http/errors.ts";
import { applyOverrides, rawHeaderValues, X_OVERRIDE } from "./http/override.ts";
import { isPreflight, preflightResponse } from "./http/preflight.ts";
import { resolveRequestKey } from "./http/request-key.ts";
import { type NodeResponseHeaders, withConventionHeaders } from "./http/response-headers.ts";
import { baseUrlOf, rawPathOf, resourceUrlOf } from "./http/urls.ts";
import { createApiMetrics } from "./metrics/api-metrics.ts";
import { createApiDocsRoutes } from "./routes/api-docs.ts";
import { createBoxRoutes } from "./routes/box.ts";
import { createCellRoutes } from "./routes/cells.ts";
import { createExportRoutes } from "./routes/export.ts";
import { createHealthRoutes } from "./routes/health.ts";
import { createImportRoutes } from "./routes/import.ts";
import { createMetricsRoutes } from "./routes/metrics.ts";
import { createPCookieRoutes } from "./routes/p-cookie.ts";
import { createQueueDashboardRoutes } from "./routes/queue-dashboard.ts";
import { createSnapshotRoutes } from "./routes/snapshot.ts";

export interface CellportApp {
  /** For `serve({ fetch: app.fetch })`; `env` is what @hono/node-server passes (`incoming`, `outgoing`). */
  fetch(request: Request, env?: Record<string, unknown>): Promise<Response>;
  /** In-process requests for tests: a path (`/c1/__export`), a URL or a Request. */
  request(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The Hono router behind the pipeline (route inspection; dispatch through `fetch`). */
  readonly router: Hono<AppEnv>;
}

/** Copies the pipeline's per-request values into context variables. */
function bindScope(): MiddlewareHandler<AppEnv> {
  return async function bindScope(c, next) {
    const { scope } = c.env;
    c.set("requestKey", scope.requestKey);
    c.set("log", scope.log);
    c.set("baseUrl", scope.baseUrl);
    await next();
    // After the chain, the route index points at the handler that answered.
    scope.route = routePath(c);
  };
}

export function createRouter(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", bindScope());

  // Unit level. Registered before the cell router: `/:cell/*` would match these paths too.
  app.route("/", createHealthRoutes(deps));
  if (deps.metrics) app.route("/", createMetricsRoutes(deps, deps.metrics));
  app.route(
    "/",
    createApiDocsRoutes(() => app),
  );
  if (deps.queueDashboard) app.route("/", createQueueDashboardRoutes(deps, deps.queueDashboard));
  app.route("/__ctl", createCellRoutes(deps));
  app.route("/__ctl", createPCookieRoutes(deps));

  // Cell level: every route below sees `c.get("cell")` / `c.get("cellUrl")` (resolveCell
  // has already answered 404 for an unknown cell). To add a cell-level router:
  //   export function createExportRoutes(deps: AppDeps): Hono<AppEnv> {
  //     const router = new Hono<AppEnv>();
  //     defineResource(router, "/__export", {            // paths relative to the cell
  //       GET: getStatus,
  //       POST: [cellWriteLockOnRefusal(deps), startExport], // lock after auth (cell/lock.ts)
  //       DELETE: cancelExport,                          // not a write: it must work while locked
  //     }, { guard: [requireCellRoot(deps)] });          // 401/403; OPTIONS + 405 derived
  //     return router;
  //   }
  // and mount it with one line below, next to the box: `cell.route("/", createExportRoutes(deps));`
  // Handlers only throw (PersoniumError or store errors); `mapError` answers.
  const cell = new Hono<AppEnv>();
  cell.use("*", resolveCell(deps));
  cell.route("/", createBoxRoutes(deps));
  cell.route("/", createExportRoutes(deps));
  cell.route("/", createSnapshotRoutes(deps));
  cell.route("/", createImportRoutes(deps));
  app.route("/:cell", cell);

  app.notFound(() => personiumErrorResponse(new PersoniumError("PR404-CM-0001")));
  app.onError(function mapError(error, c) {
    const { scope } = c.env;
    return errorResponse(error, {
      log: scope.log,
      method: c.req.method,
      path: rawPathOf(c.req.raw),
      resourceUrl: resourceUrlOf(scope.baseUrl, c.req.raw),
    });
  });
  return app;
}

/**
 * The pipeline's per-request values. A class, not an object literal: a literal with a
 * getter defines the accessor anew on every request (~2% of a status poll's CPU).
 */
class PipelineScope implements RequestScope {
  route?: string;
  #log: Logger | undefined;
  constructor(
    readonly requestKey: string,
    readonly baseUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Made on first use: most requests log nothing but their access line. */
  get log(): Logger {
    this.#log ??= this.logger.child({ requestKey: this.requestKey });
    return this.#log;
  }
}

export function createApp(deps: AppDeps): CellportApp {
  const metrics = deps.metrics ?? createApiMetrics({ jobs: deps.jobs });
  const router = createRouter({ ...deps, metrics });
  const { personiumVersion } = deps.config;
  const accessLog = createUnredactedSibling(deps.logger);

  async function fetch(request: Request, env: Record<string, unknown> = {}): Promise<Response> {
    const started = performance.now();
    const { valid, key: requestKey } = resolveRequestKey(request.headers);
    const baseUrl = baseUrlOf(deps.config, request);
    const scope = new PipelineScope(requestKey, baseUrl, deps.logger);
    let effective = request;
    let response: Response;
    try {
      if (!valid) throw new PersoniumError("PR400-EV-0002", [REQUEST_KEY_HEADER]);
      // Exact header lines when served by Node (a value may contain ", ").
      const incoming = env.incoming as { rawHeaders?: unknown } | undefined;
      effective = applyOverrides(request, rawHeaderValues(incoming?.rawHeaders, X_OVERRIDE));
      if (isPreflight(effective)) {
        response = preflightResponse(effective);
      } else {
        response =
          (await answerStatusFromMemory(deps, effective, scope)) ??
          (await router.fetch(effective, { ...env, scope }));
      }
    } catch (error) {
      response = errorResponse(error, {
        log: scope.log,
        method: effective.method,
        path: rawPathOf(request),
        resourceUrl: resourceUrlOf(baseUrl, request),
      });
    }
    response = withConventionHeaders(
      response,
      { personiumVersion, requestKey },
      env.outgoing as NodeResponseHeaders | undefined,
    );
    const elapsedMs = performance.now() - started;
    logAccess(accessLog, {
      requestKey,
      method: effective.method,
      ...(effective.method !== request.method ? { originalMethod: request.method } : {}),
      path: rawPathOf(request),
      status: response.status,
      durationMs: Math.round(elapsedMs * 10) / 10,
    });
    metrics.observeRequest({
      method: effective.method,
      route: scope.route ?? null,
      status: response.status,
      seconds: elapsedMs / 1000,
    });
    return response;
  }

  function request(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (input instanceof Request) return fetch(init ? new Request(input, init) : input);
    const url =
      typeof input === "string" && input.startsWith("/") ? `http://localhost${input}` : String(input);
    const streaming = init?.body instanceof ReadableStream;
    return fetch(new Request(url, streaming ? ({ ...init, duplex: "half" } as RequestInit) : init));
  }

  return { fetch, request, router };
}
