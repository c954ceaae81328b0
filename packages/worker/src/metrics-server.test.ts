/** The worker's metrics server, on real sockets. */
import { createServer, type Server } from "node:net";
import { createLogger } from "@cellport/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_METRICS_PORT, type MetricsServer, startMetricsServer } from "./metrics-server.ts";

const logger = createLogger({ level: "silent", name: "metrics-server-test" });
const source = {
  contentType: "text/plain; version=0.0.4; charset=utf-8",
  metrics: async () => "# HELP up_test a test\n# TYPE up_test gauge\nup_test 1\n",
};
const opened: Array<{ close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function start(options: { port?: number; source?: typeof source } = {}): Promise<MetricsServer> {
  const server = await startMetricsServer({
    source: options.source ?? source,
    logger,
    host: "127.0.0.1",
    ...options,
  });
  opened.push(server);
  return server;
}

/** Holds `port` on 127.0.0.1, or resolves null when something else already does. */
function occupy(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const blocker = createServer();
    blocker.once("error", () => resolve(null));
    blocker.listen(port, "127.0.0.1", () => {
      opened.push({ close: () => new Promise((done) => blocker.close(done)) });
      resolve(blocker);
    });
  });
}

describe("startMetricsServer", () => {
  it("serves /metrics in the source's content type and /healthz; nothing else", async () => {
    const server = await start({ port: 0 });
    expect(server.port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${server.port}`;

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe(source.contentType);
    expect(await metrics.text()).toContain("up_test 1");

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/x`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers 500 when collecting fails, and keeps serving", async () => {
    let fail = true;
    const flaky = {
      contentType: source.contentType,
      metrics: async () => {
        if (fail) throw new Error("collect failed");
        return "ok 1\n";
      },
    };
    const server = await start({ port: 0, source: flaky });
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(500);
    fail = false;
    expect(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).toBe("ok 1\n");
  });

  it("an explicit port that is taken fails start-up", async () => {
    const first = await start({ port: 0 });
    await expect(start({ port: first.port })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });

  it("the default port, when taken, gives way to a free port", async () => {
    await occupy(DEFAULT_METRICS_PORT);
    const server = await start();
    expect(server.port).not.toBe(DEFAULT_METRICS_PORT);
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  });

  it("close is idempotent and stops listening", async () => {
    const server = await start({ port: 0 });
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
  });
});
