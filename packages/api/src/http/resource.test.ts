import { PersoniumError } from "@cellport/shared";
import { Hono, type MiddlewareHandler } from "hono";
import { describe, expect, it } from "vitest";
import { personiumErrorResponse } from "./errors.ts";
import { defineResource } from "./resource.ts";

function routerWithGuardLog() {
  const guarded: string[] = [];
  const guard: MiddlewareHandler = async function recordGuard(c, next) {
    guarded.push(c.req.method);
    await next();
  };
  const router = new Hono();
  defineResource(
    router,
    "/__snapshot/:name",
    { GET: (c) => c.text("got"), PUT: [async (_c, next) => next(), (c) => c.body(null, 204)] },
    { guard: [guard], notImplemented: ["REPORT"] },
  );
  router.onError((error) =>
    error instanceof PersoniumError
      ? personiumErrorResponse(error)
      : new Response("unexpected", { status: 500 }),
  );
  return { router, guarded };
}

describe("defineResource", () => {
  it("serves declared methods through the guard", async () => {
    const { router, guarded } = routerWithGuardLog();
    expect(await (await router.request("/__snapshot/a.zip")).text()).toBe("got");
    expect((await router.request("/__snapshot/a.zip", { method: "PUT" })).status).toBe(204);
    expect(guarded).toEqual(["GET", "PUT"]);
  });

  it("answers OPTIONS (guarded) with Allow and Access-Control-Allow-Methods", async () => {
    const { router, guarded } = routerWithGuardLog();
    const response = await router.request("/__snapshot/a.zip", { method: "OPTIONS" });
    expect(response.status).toBe(200);
    expect(response.headers.get("allow")).toBe("OPTIONS, GET, PUT");
    expect(response.headers.get("access-control-allow-methods")).toBe("OPTIONS, GET, PUT");
    expect(guarded).toEqual(["OPTIONS"]);
  });

  it("answers other methods 405 with Allow, without running the guard", async () => {
    const { router, guarded } = routerWithGuardLog();
    const response = await router.request("/__snapshot/a.zip", { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("OPTIONS, GET, PUT");
    expect(((await response.json()) as { code: string }).code).toBe("PR405-MC-0001");
    expect(guarded).toEqual([]);
  });

  it("answers not-implemented methods 501 PR501-MC-0001 after the guard", async () => {
    const { router, guarded } = routerWithGuardLog();
    const response = await router.request("/__snapshot/a.zip", { method: "REPORT" });
    expect(response.status).toBe(501);
    expect(await response.json()).toEqual({
      code: "PR501-MC-0001",
      message: { lang: "en", value: "Method not implemented." },
    });
    expect(guarded).toEqual(["REPORT"]);
  });
});
