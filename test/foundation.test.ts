/** The two processes start, become ready, and stop cleanly on SIGTERM. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanupContext,
  createContext,
  PROCESS_ENTRIES,
  type StackContext,
  spawnProcess,
  startApi,
  startWorker,
} from "./support/processes.ts";

describe("api and worker processes", () => {
  let ctx: StackContext;
  beforeAll(async () => {
    ctx = await createContext();
  });
  afterAll(async () => {
    await cleanupContext(ctx);
  });

  it("api answers /healthz and /readyz, then exits 0 on SIGTERM", async () => {
    const api = await startApi(ctx);
    const health = await fetch(`${api.baseUrl}healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("x-personium-version")).toBe("1.7.21");
    const ready = await fetch(`${api.baseUrl}readyz`);
    expect(ready.status).toBe(200);
    expect(await api.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("worker logs readiness, then exits 0 on SIGTERM", async () => {
    const worker = await startWorker(ctx);
    expect(worker.lines.some((l) => /worker ready/.test(l))).toBe(true);
    expect(await worker.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("refuses a bad configuration with one message naming every problem, exit 1", async () => {
    const proc = spawnProcess("api", PROCESS_ENTRIES.api, {
      PATH: process.env.PATH,
      PORT: "not-a-port",
      LOG_LEVEL: "loud",
      CELLPORT_DATA_DIR: ctx.dataDir,
    });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const output = proc.lines.join("\n");
    expect(output).toMatch(/PORT/);
    expect(output).toMatch(/LOG_LEVEL/);
    expect(output).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it("api readiness is 503 with a Personium error when Redis cannot be reached", async () => {
    const api = await startApiExpectingUnready(ctx);
    const res = await fetch(`${api.baseUrl}readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string };
    expect(body.code).toMatch(/^PR503-/);
    expect(await api.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

async function startApiExpectingUnready(ctx: StackContext) {
  const { freePort } = await import("@cellport/runtime");
  const deadPort = await freePort();
  const port = await freePort();
  const proc = spawnProcess("api", PROCESS_ENTRIES.api, {
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL: `redis://127.0.0.1:${deadPort}`,
    CELLPORT_DATA_DIR: ctx.dataDir,
    CELLPORT_MASTER_TOKEN: ctx.masterToken,
    CELLPORT_TOKEN_SECRET: ctx.tokenSecret,
  });
  const baseUrl = `http://127.0.0.1:${port}/`;
  await proc.waitForLine(/api listening/);
  return Object.assign(proc, { baseUrl });
}
