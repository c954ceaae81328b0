/**
 * A resource declares its methods once; this derives the rest: `OPTIONS` answers 200
 * with `Allow` + `Access-Control-Allow-Methods`, any other method 405 PR405-MC-0001
 * (with `Allow`). The 405 needs no auth — like Personium's JAX-RS method matching, it
 * says nothing about the cell — while OPTIONS, being one of the resource's methods,
 * goes through `guard` (spec §2.5: every endpoint needs `root`).
 */
import { PersoniumError } from "@cellport/shared";
import type { Env, Hono, MiddlewareHandler } from "hono";
import type { H } from "hono/types";

/** Per method: one handler, or middleware followed by the handler. */
export type ResourceHandlers<E extends Env> = Readonly<Record<string, H<E> | readonly H<E>[]>>;

export interface ResourceOptions<E extends Env> {
  /** Runs before every declared method's handlers, OPTIONS included (typically auth). */
  guard?: readonly MiddlewareHandler<E>[];
  /**
   * Methods answered 501 PR501-MC-0001 (after `guard`) instead of 405, and not listed
   * in `Allow` — e.g. REPORT on snapshot files (spec §1).
   */
  notImplemented?: readonly string[];
}

/** The `Allow` value of a resource: OPTIONS first, then the declared methods in order. */
export function allowHeaderOf(methods: readonly string[]): string {
  const upper = methods.map((m) => m.toUpperCase()).filter((m) => m !== "OPTIONS");
  return ["OPTIONS", ...upper].join(", ");
}

export function optionsResponse(allow: string): Response {
  return new Response(null, {
    status: 200,
    headers: { Allow: allow, "Access-Control-Allow-Methods": allow },
  });
}

export function methodNotAllowed(allow: string): PersoniumError {
  return new PersoniumError("PR405-MC-0001", [], { Allow: allow });
}

/**
 * Registers `path` on `router`. Register a router's resources before anything else
 * that matches the same path, since the 405 catch-all takes every other method.
 *
 * ```ts
 * defineResource(router, "/__export", {
 *   GET: getStatus,
 *   POST: [cellWriteLock(deps), startExport],
 * }, { guard: [requireCellRoot(deps)] });
 *
 * defineResource(router, "/__snapshot/:name", { GET, PUT, DELETE, PROPFIND },
 *   { guard: [requireCellRoot(deps)], notImplemented: ["REPORT"] });
 * ```
 */
export function defineResource<E extends Env>(
  router: Hono<E>,
  path: string,
  handlers: ResourceHandlers<E>,
  options: ResourceOptions<E> = {},
): void {
  const allow = allowHeaderOf(Object.keys(handlers));
  const guard = options.guard ?? [];
  for (const [method, handler] of Object.entries(handlers)) {
    const own: readonly H<E>[] = Array.isArray(handler) ? handler : [handler as H<E>];
    const chain = [...guard, ...own] as [H<E>, ...H<E>[]];
    router.on(method.toUpperCase(), path, ...chain);
  }
  if (!Object.keys(handlers).some((m) => m.toUpperCase() === "OPTIONS")) {
    const chain = [
      ...guard,
      function allowedMethods() {
        return optionsResponse(allow);
      },
    ] as unknown as [H<E>, ...H<E>[]];
    router.on("OPTIONS", path, ...chain);
  }
  for (const method of options.notImplemented ?? []) {
    const chain = [
      ...guard,
      function notImplemented() {
        throw new PersoniumError("PR501-MC-0001");
      },
    ] as unknown as [H<E>, ...H<E>[]];
    router.on(method.toUpperCase(), path, ...chain);
  }
  router.all(path, function rejectMethod() {
    throw methodNotAllowed(allow);
  });
}
