/**
 * The one spelling of "where Redis is" (`REDIS_URL`), for a single server, a Redis
 * Cluster and a primary watched by Redis Sentinel:
 *
 * - `redis://[user[:password]@]host:port[/db]`, `rediss://…` (TLS): one server;
 * - `redis+cluster://[user[:password]@]host1:port1,host2:port2,…`,
 *   `rediss+cluster://…`: a Redis Cluster, given by some of its nodes (the client
 *   discovers the others). Credentials and TLS apply to every node.
 * - `redis+sentinel://[user[:password]@]sentinel1:26379,sentinel2:26379/<primary name>[/db]`,
 *   `rediss+sentinel://…`: the primary that the Sentinels know by that name, asked
 *   of them again after every disconnection (so a failover is followed). Credentials
 *   and TLS are the data nodes'; Sentinels that require a password of their own get
 *   it as `?sentinelPassword=…` (and `sentinelUsername=…`).
 *
 * One variable rather than a URL plus a flag, so everything that passes "the Redis"
 * along (process supervisors, the e2e harness, `npm start`) carries the topology
 * with it. Pure: parsed here, turned into clients by `@cellport/queue`.
 */

export interface RedisNode {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
}

export type RedisTarget =
  | { kind: "single"; url: string }
  | ({ kind: "cluster"; nodes: RedisNode[]; tls: boolean } & Credentials)
  | ({
      kind: "sentinel";
      sentinels: RedisNode[];
      /** The primary's name in the Sentinels' configuration (`sentinel monitor <name> …`). */
      name: string;
      db: number;
      tls: boolean;
      sentinelUsername?: string;
      sentinelPassword?: string;
    } & Credentials);

const SINGLE_SCHEMES = new Set(["redis:", "rediss:"]);
const MULTI_NODE_SCHEME = /^(rediss?)\+(cluster|sentinel):\/\/(.*)$/i;
const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;
const EXPECTED = "Expected a redis://, rediss://, redis+cluster://, redis+sentinel:// (or rediss+…) URL";

/** Thrown for a `REDIS_URL` that is none of the forms; the message says what was expected. */
export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisUrlError";
  }
}

export function parseRedisUrl(text: string): RedisTarget {
  const value = text.trim();
  const multi = MULTI_NODE_SCHEME.exec(value);
  if (!multi) {
    let protocol: string;
    try {
      protocol = new URL(value).protocol;
    } catch {
      throw new RedisUrlError(EXPECTED);
    }
    if (!SINGLE_SCHEMES.has(protocol)) throw new RedisUrlError(`${EXPECTED}, got ${protocol}//`);
    return { kind: "single", url: value };
  }

  const base = (multi[1] ?? "redis").toLowerCase();
  const topology = (multi[2] ?? "cluster").toLowerCase();
  const scheme = `${base}+${topology}://`;
  const tls = base === "rediss";
  const parsed = parseNodeList(
    scheme,
    multi[3] ?? "",
    topology === "sentinel" ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT,
  );
  if (topology === "cluster") return { kind: "cluster", nodes: parsed.nodes, tls, ...parsed.credentials };

  const [name, db, ...extra] = parsed.path.split("/").filter((segment) => segment !== "");
  if (name === undefined) {
    throw new RedisUrlError(
      `Expected the primary's name after the hosts of ${scheme}, e.g. ${scheme}h:26379/mymaster`,
    );
  }
  if (extra.length > 0 || (db !== undefined && !/^\d{1,2}$/.test(db))) {
    throw new RedisUrlError(
      `Expected ${scheme}hosts/<primary name>[/<db number>], got path \`${parsed.path}\``,
    );
  }
  const sentinelUsername = parsed.query.get("sentinelUsername");
  const sentinelPassword = parsed.query.get("sentinelPassword");
  return {
    kind: "sentinel",
    sentinels: parsed.nodes,
    name: decodeURIComponent(name),
    db: db === undefined ? 0 : Number(db),
    tls,
    ...parsed.credentials,
    ...(sentinelUsername !== null ? { sentinelUsername } : {}),
    ...(sentinelPassword !== null ? { sentinelPassword } : {}),
  };
}

/** `[user[:password]@]host1:port1,host2,…[/path][?query]`: the part after `scheme`. */
function parseNodeList(
  scheme: string,
  rest: string,
  defaultPort: number,
): { nodes: RedisNode[]; credentials: Credentials; path: string; query: URLSearchParams } {
  // Userinfo ends at the last `@` before the path: a password may hold an `@`, percent-encoded
  // or not (but `/`, `?` and `#` only percent-encoded, as in any URL).
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? "" : rest.slice(authorityEnd);
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? "" : authority.slice(0, at + 1);
  const hosts = (at === -1 ? authority : authority.slice(at + 1))
    .split(",")
    .filter((h) => h.trim().length > 0);
  if (hosts.length === 0) throw new RedisUrlError(`Expected at least one host:port after ${scheme}`);
  const nodes: RedisNode[] = [];
  let credentials: Credentials = {};
  for (const host of hosts) {
    let url: URL;
    try {
      // Each node parsed as a plain redis URL: ports, IPv6 brackets and escapes as the WHATWG parser does them.
      url = new URL(`redis://${userinfo}${host.trim()}`);
    } catch {
      throw new RedisUrlError(`Expected host:port in ${scheme}, got \`${host.trim()}\``);
    }
    if (!url.hostname) throw new RedisUrlError(`Expected a host in ${scheme}, got \`${host}\``);
    nodes.push({
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port ? Number(url.port) : defaultPort,
    });
    credentials = {
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    };
  }
  // The path and query, resolved against a stand-in for the host list.
  const after = new URL(tail, "redis://nodes");
  return { nodes, credentials, path: after.pathname, query: after.searchParams };
}

/** True when `text` parses as one of the forms. */
export function isRedisUrl(text: string): boolean {
  try {
    parseRedisUrl(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Redis Cluster hashes only the part of a key between the first `{` and the next `}`
 * when that part is not empty. Every cellport and BullMQ key starts with the prefix,
 * so a prefix holding such a tag puts the whole queue in one slot — which its Lua
 * scripts and MULTI blocks need (CROSSSLOT otherwise).
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf("{");
  if (open === -1) return false;
  const close = prefix.indexOf("}", open + 1);
  return close > open + 1;
}
