/**
 * `token <cell>`: mints a cell token offline with the api's own helper and the
 * signing secret (`CELLPORT_TOKEN_SECRET` or the data dir's secrets.json). With
 * `--peer` it also mints the matching p_cookie (spec §2.5) and says how to use it.
 * Without `--json` and `--peer`, stdout is the bare token: `T=$(cellport token c1)`.
 */
import type { Command } from "commander";
import { resolveTokenSecret } from "../config.ts";
import type { CommandContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { printJson, printLine } from "../output/format.ts";
import { cellArgument, durationArgument, parser } from "./arguments.ts";

type GetContext = () => CommandContext;

/** Personium privilege names are plain words (`root`, `read`, `write-acl`, …). */
const privilegesArgument = parser((text: string) => {
  const list = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (list.length === 0 || list.some((p) => !/^[a-z][a-z0-9-]*$/.test(p))) {
    throw new UsageError(`Expected privileges like \`root\` or \`read,write\`, got \`${text}\``);
  }
  return list;
});

const peerArgument = parser((text: string) => {
  // The peer travels in a query string; the api accepts printable ASCII up to 256.
  if (!/^[\x21-\x7e]{1,256}$/.test(text)) {
    throw new UsageError(`Expected a peer of 1-256 printable ASCII characters, got \`${text}\``);
  }
  return text;
});

interface TokenOptions {
  privileges: string[];
  scope?: string;
  ttl: number;
  sub?: string;
  peer?: string;
}

async function tokenCommand(ctx: CommandContext, cell: string, options: TokenOptions): Promise<void> {
  const secret = await resolveTokenSecret(ctx.config);
  // Loaded on demand: the api package brings Hono along, which no other command needs.
  const { mintCellToken, mintPCookie } = await import("@cellport/api");
  const ttlSeconds = Math.max(1, Math.round(options.ttl / 1000));
  const token = mintCellToken({
    secret,
    cell,
    privileges: options.privileges,
    ttlSeconds,
    ...(options.scope !== undefined ? { scope: options.scope } : {}),
    ...(options.sub !== undefined ? { sub: options.sub } : {}),
  });
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  const cookie = options.peer ? mintPCookie({ secret, token, peer: options.peer }) : undefined;

  if (ctx.config.json) {
    printJson(ctx.io, {
      cell,
      token,
      privileges: options.privileges,
      scope: options.scope ?? null,
      expiresAt,
      ...(cookie ? { p_cookie: cookie, p_cookie_peer: options.peer } : {}),
    });
    return;
  }
  if (!cookie || !options.peer) {
    printLine(ctx.io, token);
    return;
  }
  const url = `${ctx.config.url}${cell}/__export?p_cookie_peer=${encodeURIComponent(options.peer)}`;
  printLine(ctx.io, `token          ${token}`);
  printLine(ctx.io, `p_cookie       ${cookie}`);
  printLine(ctx.io, `p_cookie_peer  ${options.peer}`);
  printLine(ctx.io, `expires        ${expiresAt}`);
  printLine(ctx.io, "");
  printLine(ctx.io, "Use the cookie instead of an Authorization header (send no Authorization header):");
  printLine(ctx.io, `  curl --cookie 'p_cookie=${cookie}' '${url}'`);
}

export function registerTokenCommand(program: Command, getContext: GetContext): void {
  program
    .command("token")
    .description("mint a cell token (HS256) — and with --peer the matching p_cookie")
    .argument("<cell>", "cell the token is for", cellArgument)
    .option("--privileges <list>", "comma-separated privileges", privilegesArgument, ["root"])
    .option("--scope <scope>", "space-separated scope claim (omitted: unrestricted)")
    .option("--ttl <duration>", "lifetime, e.g. 15m, 1h", durationArgument, 3_600_000)
    .option("--sub <subject>", "subject claim (default {cell}#cellport)")
    .option("--peer <peer>", "also mint a p_cookie for this p_cookie_peer", peerArgument)
    .action((cell: string, options: TokenOptions) => tokenCommand(getContext(), cell, options));
}
