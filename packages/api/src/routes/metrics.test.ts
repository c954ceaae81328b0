/** `GET /metrics` in-process, on the real job backend (Redis) under a unique prefix. */
import { createServer } from "node:net";
import { createJobBackend } from "@cellport/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorOf, master, type TestApp } from "../test-helpers/test-app.ts";

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await t.createCell("m1");
});

afterAll(async () => {
  await t?.close();
});

async function scrape(app: TestApp = t): Promise<string> {
  const response = await app.app.request("/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return response.text();
}

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("GET /metrics", () => {
  it("labels request durations by route pattern, never by raw path", async () => {
    for (const cell of ["m1", "nope-1", "nope-2"])
      await t.app.request(`/${cell}/__export`, { headers: master() });
    const text = await scrape();
    expect(
      sample(
        text,
        'cellport_http_request_duration_seconds_count{method="GET",route="/:cell/__export",status="200"}',
      ),
    ).toBe(1);
    // Unknown cells answer from the cell router's middleware: one series, whatever the names.
    expect(
      sample(
        text,
        'cellport_http_request_duration_seconds_count{method="GET",route="/:cell/*",status="404"}',
      ),
    ).toBe(2);
    expect(text).not.toContain("nope-1");
    expect(text).toContain('cellport_http_request_duration_seconds_bucket{le="0.005",method="GET"');
  });

  it("folds unknown methods into OTHER, and requests that end before routing into route (none)", async () => {
    await t.app.request("/m1/__export", {
      method: "POST",
      headers: { ...master(), "X-HTTP-Method-Override": "BREW" },
    });
    await t.app.request("/m1/__export", { headers: { "X-Personium-RequestKey": "bad key!" } });
    const text = await scrape();
    expect(
      sample(
        text,
        'cellport_http_request_duration_seconds_count{method="OTHER",route="/:cell/__export",status="405"}',
      ),
    ).toBe(1);
    expect(text).not.toContain('method="BREW"');
    expect(
      sample(text, 'cellport_http_request_duration_seconds_count{method="GET",route="(none)",status="400"}'),
    ).toBe(1);
  });

  it("reads queue depth by state at scrape time", async () => {
    let text = await scrape();
    expect(sample(text, "cellport_queue_up")).toBe(1);
    for (const state of ["waiting", "active", "delayed", "prioritized", "failed", "completed"]) {
      expect(sample(text, `cellport_queue_jobs{state="${state}"}`), state).toBe(0);
    }
    await t.holdCell("m1");
    try {
      // Past the one-second reuse of counts between scrapes.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      text = await scrape();
      expect(sample(text, 'cellport_queue_jobs{state="waiting"}')).toBe(1);
    } finally {
      await t.releaseCell("m1");
    }
  });

  it("includes the default process metrics (event-loop delay among them)", async () => {
    const text = await scrape();
    expect(text).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");
    expect(text).toContain("process_cpu_seconds_total");
  });

  it("is unauthenticated by default, and needs the master token when configured so", async () => {
    const guarded = await createTestApp({ config: { metricsTokenRequired: true } });
    try {
      const anonymous = await guarded.app.request("/metrics");
      expect(anonymous.status).toBe(401);
      expect((await errorOf(anonymous)).code).toBe("PR401-AU-0001");
      const withToken = await guarded.app.request("/metrics", { headers: master() });
      expect(withToken.status).toBe(200);
      expect(await withToken.text()).toContain("cellport_queue_up");
    } finally {
      await guarded.close();
    }
  });

  it("still answers when Redis is away: no queue samples, cellport_queue_up 0", async () => {
    const down = await createTestApp({
      override: (deps) => ({
        ...deps,
        jobs: createJobBackend({
          redisUrl: `redis://127.0.0.1:${port}`,
          prefix: "{metrics-down}",
          timeoutMs: 200,
        }),
      }),
    });
    try {
      const text = await scrape(down);
      expect(sample(text, "cellport_queue_up")).toBe(0);
      expect(text).not.toContain("cellport_queue_jobs{");
    } finally {
      await down.deps.jobs.close();
      await down.close();
    }
  });

  it("is GET only", async () => {
    const response = await t.app.request("/metrics", { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("OPTIONS, GET");
  });
});

let port = 0;
beforeAll(async () => {
  port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const free = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(free));
    });
  });
});
