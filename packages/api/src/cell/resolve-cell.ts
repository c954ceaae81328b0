/**
 * Cell resolution (spec §2.6 item 3): the first path segment names the cell; an
 * unknown or invalid name is 404 PR404-DV-0003 before any auth. Read from the raw
 * path, not a decoded route param, so `%63%31` is not an alias of `c1`.
 */
import { isValidCellName, PersoniumError } from "@cellport/shared";
import type { MiddlewareHandler } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../http/env.ts";
import { cellUrlOf, rawPathOf } from "../http/urls.ts";

/** Unit-level paths start with `__` (`/__ctl/…`); cell names never do. */
export const UNIT_PREFIX = "__";

export function resolveCell(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async function resolveCell(c, next) {
    const name = rawPathOf(c.req.raw).split("/")[1] ?? "";
    // An unknown unit-level path reached the cell router only because nothing else matched it.
    if (name.startsWith(UNIT_PREFIX)) throw new PersoniumError("PR404-CM-0001");
    // A cell whose job this process just saw in progress exists (a cell with a job cannot
    // be deleted): the polled status endpoints skip the disk.
    if (!isValidCellName(name) || !(deps.jobs.holdsJob(name) || (await deps.store.hasCell(name)))) {
      throw new PersoniumError("PR404-DV-0003");
    }
    c.set("cell", name);
    c.set("cellUrl", cellUrlOf(c.get("baseUrl"), name));
    await next();
  };
}
