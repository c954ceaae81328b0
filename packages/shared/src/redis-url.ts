/**
 * The one spelling of "where Redis is" (`REDIS_URL`), for a single server and for a
 * Redis Cluster:
 *
 * - `redis://[user[:password]@]host:port[/db]`, `rediss://…` (TLS): one server;
 * - `redis+cluster://[user[:password]@]host1:port1,host2:port2,…`,
 *   `rediss+cluster://…`: a Redis Cluster, given by some of its nodes (the client
 *   discovers the others). Credentials and TLS apply to every node.
 *
 * One variable rather than a URL plus a flag, so everything that passes "the Redis"
 * along (process supervisors, the e2e harness, `npm start`) carries the cluster
 * setting with it. Pure: parsed here, turned into clients by `@cellport/queue`.
 */

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: "single"; url: string }
  | {
      kind: "cluster";
      nodes: RedisNode[];
      tls: boolean;
      username?: string;
      password?: string;
    };

const SINGLE_SCHEMES = new Set(["redis:", "rediss:"]);
const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(.*)$/i;
const DEFAULT_PORT = 6379;

/** Thrown for a `REDIS_URL` that is neither form; the message says what was expected. */
export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisUrlError";
  }
}

export function parseRedisUrl(text: string): RedisTarget {
  const value = text.trim();
  const cluster = CLUSTER_SCHEME.exec(value);
  if (!cluster) {
    let protocol: string;
    try {
      protocol = new URL(value).protocol;
    } catch {
      throw new RedisUrlError("Expected a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL");
    }
    if (!SINGLE_SCHEMES.has(protocol)) {
      throw new RedisUrlError(
        `Expected a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL, got ${protocol}//`,
      );
    }
    return { kind: "single", url: value };
  }

  const scheme = (cluster[1] ?? "redis").toLowerCase();
  const rest = cluster[2] ?? "";
  // Userinfo ends at the last `@` (a password may contain one, percent-encoded or not).
  const at = rest.lastIndexOf("@");
  const userinfo = at === -1 ? "" : rest.slice(0, at + 1);
  const hostList = (at === -1 ? rest : rest.slice(at + 1)).replace(/[/?#].*$/, "");
  const hosts = hostList.split(",").filter((h) => h.trim().length > 0);
  if (hosts.length === 0) {
    throw new RedisUrlError(`Expected at least one host:port after ${scheme}+cluster://`);
  }
  const nodes: RedisNode[] = [];
  let username: string | undefined;
  let password: string | undefined;
  for (const host of hosts) {
    let url: URL;
    try {
      // Each node parsed as a plain redis URL: ports, IPv6 brackets and escapes as the WHATWG parser does them.
      url = new URL(`redis://${userinfo}${host.trim()}`);
    } catch {
      throw new RedisUrlError(`Expected host:port in ${scheme}+cluster://, got \`${host.trim()}\``);
    }
    if (!url.hostname) throw new RedisUrlError(`Expected a host in ${scheme}+cluster://, got \`${host}\``);
    nodes.push({
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port ? Number(url.port) : DEFAULT_PORT,
    });
    username = url.username ? decodeURIComponent(url.username) : undefined;
    password = url.password ? decodeURIComponent(url.password) : undefined;
  }
  return {
    kind: "cluster",
    nodes,
    tls: scheme === "rediss",
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** True when `text` parses as either form. */
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
