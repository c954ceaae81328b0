/**
 * Obtaining a p_cookie (spec §2.5 "cellport must offer a way to obtain such a cookie"):
 *
 *   POST /__ctl/p_cookie
 *   Authorization: Bearer {token}            (master or cell token; it must verify)
 *   {"p_cookie_peer": "my-peer"}             (optional: a random peer is chosen when absent)
 *   → 200 {"p_cookie": "...", "p_cookie_peer": "my-peer"}
 *     Set-Cookie: p_cookie=...; HttpOnly; SameSite=Lax; Path=/
 *
 * Afterwards `GET {CellURL}__export?p_cookie_peer=my-peer` with `Cookie: p_cookie=...`
 * (and no Authorization header) acts as that token. The CLI mints the same cookie
 * offline with `mintPCookie` from `auth/tokens.ts`.
 */
import { randomUUID } from "node:crypto";
import { PersoniumError } from "@cellport/shared";
import { Hono } from "hono";
import { credentialSourceOf, P_COOKIE, P_COOKIE_PEER, readBearerToken } from "../auth/credentials.ts";
import { requireAnyToken } from "../auth/middleware.ts";
import { mintPCookie } from "../auth/tokens.ts";
import type { AppDeps } from "../deps.ts";
import { isJsonObject, readJsonBody } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { defineResource } from "../http/resource.ts";

/** A peer travels in a query string: printable ASCII, bounded. */
const PEER_RULE = /^[\x21-\x7e]{1,256}$/;
const PEER_RULE_TEXT = "^[\\x21-\\x7E]{1,256}$";

export function createPCookieRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  defineResource(
    router,
    "/p_cookie",
    {
      POST: async function issuePCookie(c) {
        const body = await readJsonBody(c.req.raw, deps.config.maxJsonBytes);
        const given = body.present && isJsonObject(body.value) ? body.value[P_COOKIE_PEER] : undefined;
        if (given !== undefined && given !== null && (typeof given !== "string" || !PEER_RULE.test(given))) {
          throw new PersoniumError("PR400-CM-0002", [P_COOKIE_PEER, PEER_RULE_TEXT]);
        }
        const peer = typeof given === "string" ? given : randomUUID();
        // requireAnyToken verified the token; read it again here rather than keeping a
        // token in context variables, where it could end up in a log.
        const token = readBearerToken(credentialSourceOf(c.req.raw), {
          secret: deps.config.tokenSecret,
          realm: `${c.get("baseUrl")}/`,
        });
        if (token === null) throw new PersoniumError("PR401-AU-0001");
        const cookie = mintPCookie({ secret: deps.config.tokenSecret, token, peer });
        const secure = c.get("baseUrl").startsWith("https:") ? "; Secure" : "";
        c.header("Set-Cookie", `${P_COOKIE}=${cookie}; HttpOnly; SameSite=Lax; Path=/${secure}`);
        c.header("Cache-Control", "no-store");
        return c.json({ [P_COOKIE]: cookie, [P_COOKIE_PEER]: peer });
      },
    },
    { guard: [requireAnyToken(deps)] },
  );
  return router;
}
