/**
 * The operators' queue dashboard (bull-board) at `/admin/queues`, behind the master
 * token (auth/dashboard-access.ts). Everything it loads comes from this process:
 * bull-board's UI assets are served from node_modules, and the one external link of
 * its page (web fonts) is removed, so the dashboard works with no internet and leaks
 * no request to a third party. bull-board's own routes (its UI's private API) are not
 * part of cellport's API: the API document lists the dashboard's entry page only.
 */
import { createBullBoard } from "@bull-board/api";
import { HonoAdapter } from "@bull-board/hono";
import type { QueueDashboardSource } from "@cellport/queue";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono, type MiddlewareHandler } from "hono";
import { requireDashboardAccess } from "../auth/dashboard-access.ts";
import type { AppDeps } from "../deps.ts";
import { describeRoute } from "../http/api-doc.ts";
import type { AppEnv } from "../http/env.ts";

export const DASHBOARD_PATH = "/admin/queues";

/** A stylesheet (or preconnect) link to anywhere but here. */
const EXTERNAL_LINK = /<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi;

/** Drops external links from the dashboard's HTML pages; the UI falls back to system fonts. */
function localAssetsOnly(): MiddlewareHandler<AppEnv> {
  return async function localAssetsOnly(c, next) {
    await next();
    if (!c.res.headers.get("content-type")?.startsWith("text/html")) return;
    const html = (await c.res.text()).replace(EXTERNAL_LINK, "");
    const headers = new Headers(c.res.headers);
    headers.delete("content-length");
    c.res = new Response(html, { status: c.res.status, headers });
  };
}

export function createQueueDashboardRoutes(deps: AppDeps, source: QueueDashboardSource): Hono<AppEnv> {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [...source.queues],
    serverAdapter,
    options: { uiConfig: { boardTitle: "cellport" } },
  });

  const router = new Hono<AppEnv>();
  const guard = describeRoute(
    {
      doc: { tag: "operations", access: "dashboard", path: DASHBOARD_PATH },
      operations: {
        GET: {
          summary: "Queue dashboard (bull-board)",
          description:
            "An HTML page for operators: jobs by state, their data, progress and failures. In a browser, " +
            "log in with any user name and the master token as the password. Read-only unless " +
            "`CELLPORT_QUEUE_DASHBOARD=read-write`.",
          responses: { 200: { description: "The dashboard page", content: { "text/html": {} } } },
        },
      },
    },
    requireDashboardAccess(deps),
  );
  // `/*` matches the path itself too: one registration guards the page and everything under it.
  router.use(`${DASHBOARD_PATH}/*`, guard, localAssetsOnly());
  router.route(DASHBOARD_PATH, serverAdapter.registerPlugin());
  return router;
}
