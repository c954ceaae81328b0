/**
 * Probes, unauthenticated and outside any cell:
 *   GET /healthz → 200 {"status":"ok"} while the process serves (liveness)
 *   GET /readyz   → 200 {"status":"ready","checks":{…}} when every readiness check
 *                   passes, else 503 PR503-SV-9001 naming the failing ones
 */
import { PersoniumError } from "@cellport/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppDeps, ReadinessCheck } from "../deps.ts";
import type { AppEnv } from "../http/env.ts";
import { defineResource } from "../http/resource.ts";

/** A probe must answer even when a dependency hangs. */
const CHECK_TIMEOUT_MS = 3_000;

async function runCheck(check: ReadinessCheck): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const doc = { tag: "operations", access: "none" } as const;
  defineResource(
    router,
    "/healthz",
    {
      GET: {
        summary: "Liveness",
        responses: {
          200: { description: "The process serves", json: z.object({ status: z.literal("ok") }) },
        },
        handler: function liveness(c) {
          return c.json({ status: "ok" });
        },
      },
    },
    { doc },
  );
  defineResource(
    router,
    "/readyz",
    {
      GET: {
        summary: "Readiness",
        description: "Ready when Redis answers and the data dir is writable (each check bounded to 3 s).",
        responses: {
          200: {
            description: "Every check passed",
            json: z.object({ status: z.literal("ready"), checks: z.record(z.string(), z.literal("ok")) }),
          },
        },
        errors: ["PR503-SV-9001"],
        handler: async function readiness(c) {
          const results = await Promise.all(
            deps.readiness.map(async (r) => [r.name, await runCheck(r)] as const),
          );
          const failed = results.filter(([, problem]) => problem !== null);
          for (const [name, problem] of failed)
            c.get("log").warn({ check: name, problem }, "readiness check failed");
          if (failed.length > 0)
            throw new PersoniumError("PR503-SV-9001", [failed.map(([name]) => name).join(", ")]);
          return c.json({
            status: "ready",
            checks: Object.fromEntries(results.map(([name]) => [name, "ok"])),
          });
        },
      },
    },
    { doc },
  );
  return router;
}
