import { describe, expect, it } from "vitest";
import { hasHashTag, isRedisUrl, parseRedisUrl } from "./redis-url.ts";

describe("parseRedisUrl", () => {
  it.each(["redis://127.0.0.1:6379", "rediss://user:pw@redis.example:6380/2", "redis://localhost"])(
    "%s is one server, passed on as given",
    (url) => {
      expect(parseRedisUrl(url)).toEqual({ kind: "single", url });
    },
  );

  it("reads a cluster's seed nodes, credentials and TLS", () => {
    expect(parseRedisUrl("redis+cluster://127.0.0.1:7000,127.0.0.1:7001, [::1]:7002,h4")).toEqual({
      kind: "cluster",
      tls: false,
      nodes: [
        { host: "127.0.0.1", port: 7000 },
        { host: "127.0.0.1", port: 7001 },
        { host: "::1", port: 7002 },
        { host: "h4", port: 6379 },
      ],
    });
    expect(parseRedisUrl("rediss+cluster://me:p%40ss@a:1,b:2/")).toEqual({
      kind: "cluster",
      tls: true,
      username: "me",
      password: "p@ss",
      nodes: [
        { host: "a", port: 1 },
        { host: "b", port: 2 },
      ],
    });
    expect(parseRedisUrl("redis+cluster://:secret@a:1")).toMatchObject({ password: "secret" });
    // A trailing comma (a list built by a script) is not an error.
    expect(parseRedisUrl("redis+cluster://a:1,")).toMatchObject({ nodes: [{ host: "a", port: 1 }] });
  });

  it("reads the Sentinels, the primary's name, its db, credentials and TLS", () => {
    expect(parseRedisUrl("redis+sentinel://127.0.0.1:26379,[::1]:26380,s3/mymaster")).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "127.0.0.1", port: 26379 },
        { host: "::1", port: 26380 },
        { host: "s3", port: 26379 },
      ],
      name: "mymaster",
      db: 0,
      tls: false,
    });
    expect(
      parseRedisUrl(
        "rediss+sentinel://me:p%40ss@a:1/my%20primary/3?sentinelPassword=s%2Fp&sentinelUsername=sen",
      ),
    ).toEqual({
      kind: "sentinel",
      sentinels: [{ host: "a", port: 1 }],
      name: "my primary",
      db: 3,
      tls: true,
      username: "me",
      password: "p@ss",
      sentinelUsername: "sen",
      sentinelPassword: "s/p",
    });
    expect(parseRedisUrl("REDIS+SENTINEL://:pw@a/m/")).toMatchObject({
      kind: "sentinel",
      password: "pw",
      name: "m",
    });
  });

  it.each([
    ["redis+sentinel://a:1", /primary's name/],
    ["redis+sentinel://a:1/", /primary's name/],
    ["redis+sentinel://a:1/m/x", /<db number>/],
    ["redis+sentinel://a:1/m/0/extra", /<db number>/],
    ["redis+sentinel:///m", /at least one host/],
    ["redis+sentinel://a:99999/m", /host:port/],
  ])("refuses %s", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
    expect(isRedisUrl(url)).toBe(false);
  });

  it.each([
    ["http://127.0.0.1:6379", /got http:/],
    ["127.0.0.1:6379", /Expected a redis:\/\//],
    ["redis+cluster://", /at least one host/],
    ["redis+cluster://a:99999", /host:port/],
    ["redis+cluster://,", /at least one host/],
  ])("refuses %s", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
    expect(isRedisUrl(url)).toBe(false);
  });
});

describe("hasHashTag", () => {
  it.each([
    ["{cellport}", true],
    ["app{q}", true],
    ["{a}{b}", true],
    ["cellport", false],
    ["{}cellport", false],
    ["{cellport", false],
    ["}{x}", true],
  ])("%s → %s", (prefix, tagged) => expect(hasHashTag(prefix)).toBe(tagged));
});
