/**
 * A resource declares its methods once; this derives the rest: `OPTIONS` answers 200
 * with `Allow` + `Access-Control-Allow-Methods`, any other method 405 PR405-MC-0001
 * (with `Allow`). The 405 needs no auth — like Personium's JAX-RS method matching, it
 * says nothing about the cell — while OPTIONS, being one of the resource's methods,
 * goes through `guard` (spec §2.5: every endpoint needs `root`).
 *
 * A method may also be declared as an `Operation`: its handler plus its description
 * (summary, JSON body schema, responses). A declared body is validated here, after
 * the method's own middleware (auth, then the cell lock: spec §2.6) and before the
 * handler, which reads it with `bodyOf`; and the description goes into the API
 * document (openapi.ts) from the very routes registered here.
 */
import { PersoniumError } from "@cellport/shared";
import type { Env, Hono, MiddlewareHandler } from "hono";
import type { H } from "hono/types";
import { describeRoute, type OperationDoc, type ResourceDoc } from "./api-doc.ts";
import { validateJsonBody } from "./json-body.ts";

/** One handler, or middleware followed by the handler. */
export type HandlerChain<E extends Env> = H<E> | readonly H<E>[];

/** A method with its description for the API document. */
export interface Operation<E extends Env> extends OperationDoc {
  handler: HandlerChain<E>;
}

/** Per method: a bare handler chain, or a described `Operation`. */
export type ResourceHandlers<E extends Env> = Readonly<Record<string, HandlerChain<E> | Operation<E>>>;

export interface ResourceOptions<E extends Env> {
  /** Runs before every declared method's handlers, OPTIONS included (typically auth). */
  guard?: readonly MiddlewareHandler<E>[];
  /**
   * Methods answered 501 PR501-MC-0001 (after `guard`) instead of 405, and not listed
   * in `Allow` — e.g. REPORT on snapshot files (spec §1).
   */
  notImplemented?: readonly string[];
  /** The resource in the API document: its tag, who may call it, its path parameters. */
  doc?: ResourceDoc;
  /** Largest JSON body (413 beyond it); required when an operation declares `body`. */
  maxJsonBytes?: number;
}

function isOperation<E extends Env>(entry: HandlerChain<E> | Operation<E>): entry is Operation<E> {
  return typeof entry === "object" && !Array.isArray(entry);
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
 * defineResource(router, "/__import", {
 *   GET: getStatus,
 *   POST: [cellWriteLock(deps), startImport],
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
  const operations: Record<string, OperationDoc | undefined> = {};
  for (const [method, entry] of Object.entries(handlers)) {
    const { handler, ...doc }: Partial<Operation<E>> & Pick<Operation<E>, "handler"> = isOperation(entry)
      ? entry
      : { handler: entry };
    const own: readonly H<E>[] = Array.isArray(handler) ? handler : [handler as H<E>];
    const validation = doc.body ? [validateJsonBody(doc.body, maxJsonBytesOf(options, method, path))] : [];
    const chain = [...guard, ...own.slice(0, -1), ...validation, ...own.slice(-1)] as [H<E>, ...H<E>[]];
    router.on(method.toUpperCase(), path, ...chain);
    operations[method.toUpperCase()] = isOperation(entry) ? (doc as OperationDoc) : undefined;
  }
  if (!Object.keys(handlers).some((m) => m.toUpperCase() === "OPTIONS")) {
    operations.OPTIONS = {
      summary: "The resource's methods",
      responses: {
        200: {
          description: `No body; \`Allow\` and \`Access-Control-Allow-Methods\`: ${allow}`,
          headers: { Allow: allow, "Access-Control-Allow-Methods": allow },
        },
      },
    };
    const chain = [
      ...guard,
      function allowedMethods() {
        return optionsResponse(allow);
      },
    ] as unknown as [H<E>, ...H<E>[]];
    router.on("OPTIONS", path, ...chain);
  }
  for (const method of options.notImplemented ?? []) {
    operations[method.toUpperCase()] = {
      summary: "Not implemented",
      responses: {},
      errors: ["PR501-MC-0001"],
    };
    const chain = [
      ...guard,
      function notImplemented() {
        throw new PersoniumError("PR501-MC-0001");
      },
    ] as unknown as [H<E>, ...H<E>[]];
    router.on(method.toUpperCase(), path, ...chain);
  }
  // The catch-all is registered once per resource: it carries the resource's description.
  const description = { operations, ...(options.doc ? { doc: options.doc } : {}) };
  router.all(
    path,
    describeRoute(description, function rejectMethod() {
      throw methodNotAllowed(allow);
    }),
  );
}

function maxJsonBytesOf<E extends Env>(options: ResourceOptions<E>, method: string, path: string): number {
  if (options.maxJsonBytes === undefined) {
    throw new Error(`${method} ${path} declares a JSON body but its resource sets no maxJsonBytes`);
  }
  return options.maxJsonBytes;
}
