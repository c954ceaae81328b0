/**
 * The Hono environment every route module shares. Per-request values are computed
 * by the outer pipeline in `app.ts` (before routing) and handed over as the
 * `scope` binding; `bindScope` copies them into context variables.
 */
import type { Logger } from "pino";
import type { Principal } from "../auth/principal.ts";

export interface RequestScope {
  /** The given or generated `X-Personium-RequestKey`. */
  requestKey: string;
  /**
   * Child logger bound to the request key: use it for every log line of the request.
   * Made on first use (most requests log nothing but their access line).
   */
  readonly log: Logger;
  /** Unit base URL without a trailing slash, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** Set once the router answered: the pattern of the route that did (a bounded metrics label). */
  route?: string;
}

export type AppEnv = {
  Bindings: { scope: RequestScope } & Record<string, unknown>;
  Variables: {
    requestKey: string;
    log: Logger;
    baseUrl: string;
    /** Set by `resolveCell` on every cell-level route: the addressed, existing cell. */
    cell: string;
    /** `{base}/{cell}/` — the `{CellURL}` of the spec. */
    cellUrl: string;
    /** Set by the auth middleware once the caller is authenticated and authorised. */
    principal: Principal;
  };
};
