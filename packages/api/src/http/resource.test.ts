import { PersoniumError } from "@cellport/shared";
import { Hono, type MiddlewareHandler } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { descriptionOf } from "./api-doc.ts";
import { personiumErrorResponse } from "./errors.ts";
import { bodyOf, jsonBody } from "./json-body.ts";
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

describe("defineResource with described operations", () => {
  const body = jsonBody({
    schema: z.object({ Name: z.string() }),
    fieldErrors: {
      Name: { missing: ["PR400-CM-0001", ["Name"]], invalid: ["PR400-CM-0002", ["Name", "text"]] },
    },
    whenAbsent: "required",
    whenNotObject: "reject",
  });

  function describedRouter() {
    const order: string[] = [];
    const step = (name: string): MiddlewareHandler =>
      async function record(_c, next) {
        order.push(name);
        await next();
      };
    const router = new Hono();
    defineResource(
      router,
      "/things",
      {
        GET: (c) => c.text("bare"),
        POST: {
          summary: "Create a thing",
          body,
          responses: { 201: "Created" },
          handler: [step("lock"), (c) => c.json(bodyOf(c, body), 201)],
        },
      },
      {
        guard: [step("guard")],
        notImplemented: ["REPORT"],
        doc: { tag: "things", access: "none" },
        maxJsonBytes: 64,
      },
    );
    router.onError((error) =>
      error instanceof PersoniumError
        ? personiumErrorResponse(error)
        : new Response("unexpected", { status: 500 }),
    );
    return { router, order };
  }

  it("validates the body after the method's middleware and before its handler", async () => {
    const { router, order } = describedRouter();
    const created = await router.request("/things", { method: "POST", body: '{"Name":"n","x":1}' });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ Name: "n" });
    expect(order).toEqual(["guard", "lock"]);

    const missing = await router.request("/things", { method: "POST", body: "{}" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { code: string }).code).toBe("PR400-CM-0001");
    expect(order).toEqual(["guard", "lock", "guard", "lock"]);
    expect(
      (await router.request("/things", { method: "POST", body: `{"Name":"${"x".repeat(80)}"}` })).status,
    ).toBe(413);
  });

  it("attaches the resource's description (declared, derived and undocumented methods) to its routes", () => {
    const { router } = describedRouter();
    const described = router.routes.map((r) => descriptionOf(r.handler)).filter((d) => d !== undefined);
    expect(described).toHaveLength(1);
    const [description] = described;
    expect(description?.doc).toEqual({ tag: "things", access: "none" });
    expect(Object.keys(description?.operations ?? {}).sort()).toEqual(["GET", "OPTIONS", "POST", "REPORT"]);
    expect(description?.operations.GET).toBeUndefined();
    expect(description?.operations.POST).toMatchObject({ summary: "Create a thing", body });
    expect(description?.operations.OPTIONS?.responses[200]).toMatchObject({
      headers: { Allow: "OPTIONS, GET, POST" },
    });
    expect(description?.operations.REPORT?.errors).toEqual(["PR501-MC-0001"]);
  });

  it("refuses, at definition, a body without a size limit", () => {
    expect(() =>
      defineResource(new Hono(), "/x", {
        POST: { summary: "x", body, responses: {}, handler: (c) => c.body(null) },
      }),
    ).toThrow(/POST \/x declares a JSON body but its resource sets no maxJsonBytes/);
  });
});
