/**
 * The `cellport` CLI as a user runs it (`tsx packages/cli/src/main.ts …`), against
 * the real api and worker processes: exit codes, one-line errors, `--json`, an export
 * watched to the end, a verified download, cancel, tokens, a small bounded load test
 * that must report nothing lost, and `bench flow` on processes of its own.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiProc,
  cleanupContext,
  createContext,
  type Proc,
  repoRoot,
  type StackContext,
  startApi,
  startWorker,
} from "./support/processes.ts";

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("cellport CLI against the real processes", () => {
  let ctx: StackContext;
  let api: ApiProc;
  let worker: Proc;

  beforeAll(async () => {
    ctx = await createContext();
    api = await startApi(ctx);
    worker = await startWorker(ctx);
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    await cleanupContext(ctx);
  });

  function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const child = spawn(
      join(repoRoot, "node_modules", ".bin", "tsx"),
      [join(repoRoot, "packages/cli/src/main.ts"), ...args],
      {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          CELLPORT_URL: api.baseUrl,
          CELLPORT_TOKEN: ctx.masterToken,
          CELLPORT_DATA_DIR: ctx.dataDir,
          CELLPORT_TOKEN_SECRET: ctx.tokenSecret,
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    return new Promise((done) => child.once("close", (code) => done({ code, stdout, stderr })));
  }

  const lastLine = (text: string) => text.trimEnd().split("\n").at(-1) ?? "";
  const auth = () => ({ Authorization: `Bearer ${ctx.masterToken}` });

  it("creates a cell, and refuses a duplicate with exit 4 and the Personium code", async () => {
    expect(await cli(["cell", "create", "empty"])).toMatchObject({ code: 0 });
    const again = await cli(["cell", "create", "empty"]);
    expect(again.code).toBe(4);
    expect(again.stderr).toBe("cellport: PR409-OD-0003 The entity already exists.\n");
    const ls = await cli(["cell", "ls", "--json"]);
    expect(JSON.parse(ls.stdout).map((c: { name: string }) => c.name)).toContain("empty");
  });

  it("reports usage errors (2) and unknown cells (3) in one line, no stack trace", async () => {
    const usage = await cli(["export", "Not_A_Cell"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split("\n")).toHaveLength(1);
    const missing = await cli(["status", "nope"]);
    expect(missing).toMatchObject({ code: 3, stderr: "cellport: PR404-DV-0003 Cell not found.\n" });
  });

  it("seeds a cell, watches its export to the end, and downloads the snapshot with a sha256 check", async () => {
    expect((await cli(["seed", "data1", "--profile", "small", "--no-fsync"])).code).toBe(0);
    const exported = await cli(["export", "data1", "--name", "snap1", "--watch", "--interval", "100ms"]);
    expect(exported.stderr).not.toMatch(/^cellport:/m);
    expect(exported.code).toBe(0);
    const sha256 = /^sha256 {3}([0-9a-f]{64})$/m.exec(exported.stdout)?.[1];
    expect(sha256).toBeDefined();
    expect(exported.stdout).toMatch(/^snapshot snap1\.zip {2}\S+ \S+ \(\d+ bytes\)$/m);

    const status = JSON.parse((await cli(["status", "data1", "--json"])).stdout);
    expect(status).toMatchObject({
      cell: "data1",
      export: { status: "ready" },
      import: { status: "ready" },
      last: { kind: "export", name: "snap1", outcome: "completed", sha256 },
    });

    const ls = JSON.parse((await cli(["snapshots", "ls", "data1", "--json"])).stdout);
    expect(ls).toMatchObject([{ name: "snap1.zip", contentType: "application/zip" }]);

    const out = join(ctx.dataDir, "downloaded.zip");
    const got = await cli(["snapshots", "get", "data1", "snap1.zip", "-o", out, "--json"]);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ sha256, verified: true, size: ls[0].size });
    expect(
      createHash("sha256")
        .update(await readFile(out))
        .digest("hex"),
    ).toBe(sha256);

    const wrong = await cli([
      "snapshots",
      "get",
      "data1",
      "snap1.zip",
      "-o",
      `${out}.2`,
      "--sha256",
      "0".repeat(64),
    ]);
    expect(wrong.code).toBe(1);
    expect(lastLine(wrong.stderr)).toMatch(/^cellport: sha256 mismatch for snap1\.zip/);

    // Round trip: upload the snapshot into another cell and import it there.
    expect((await cli(["cell", "create", "restored"])).code).toBe(0);
    expect((await cli(["snapshots", "put", "restored", out, "--name", "snap1.zip"])).code).toBe(0);
    const imported = await cli(["import", "restored", "snap1", "--watch", "--interval", "100ms"]);
    expect(imported.stderr).not.toMatch(/^cellport:/m);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^imported snap1\.zip into restored in /);
  });

  it("cancels a queued export (exit 0), then has nothing to cancel (exit 3)", async () => {
    expect((await cli(["seed", "queued", "--profile", "tiny", "--no-fsync"])).code).toBe(0);
    // With no worker running the export stays queued: the cancel cannot race its end.
    await worker.stop();
    try {
      expect((await cli(["export", "queued", "--name", "never"])).code).toBe(0);
      const status = JSON.parse((await cli(["status", "queued", "--json"])).stdout);
      expect(status.export).toMatchObject({ status: "exportation in progress", exportation_name: "never" });
      const busy = await cli(["export", "queued"]);
      expect(busy.code).toBe(4);
      expect(busy.stderr).toBe(
        "cellport: PR409-CM-0002 Because [cell export] is being executed, writing to cell can not be done.\n",
      );
      expect(await cli(["cancel", "queued"])).toMatchObject({
        code: 0,
        stdout: "cancelled the export of queued\n",
      });
      expect((await cli(["cancel", "queued"])).code).toBe(3);
      expect(JSON.parse((await cli(["status", "queued", "--json"])).stdout).export).toEqual({
        status: "ready",
      });
    } finally {
      worker = await startWorker(ctx);
    }
  });

  it("mints a cell token and a p_cookie the api accepts", async () => {
    const token = (await cli(["token", "data1"])).stdout.trim();
    const own = await fetch(`${api.baseUrl}data1/__export`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(own.status).toBe(200);
    const other = await fetch(`${api.baseUrl}queued/__export`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(other.status).toBe(403);

    const minted = JSON.parse((await cli(["token", "data1", "--peer", "e2e-peer", "--json"])).stdout);
    const viaCookie = await fetch(`${api.baseUrl}data1/__export?p_cookie_peer=e2e-peer`, {
      headers: { Cookie: `p_cookie=${minted.p_cookie}` },
    });
    expect(viaCookie.status).toBe(200);
    const wrongPeer = await fetch(`${api.baseUrl}data1/__export?p_cookie_peer=someone-else`, {
      headers: { Cookie: `p_cookie=${minted.p_cookie}` },
    });
    expect(wrongPeer.status).toBe(401);
  });

  it("runs a small bounded load test that loses nothing and exits 0", async () => {
    const out = join(ctx.dataDir, "loadtest", "report.json");
    const result = await cli([
      "loadtest",
      "--create",
      "3",
      "--profile",
      "tiny",
      "--exports",
      "10",
      "--duration",
      "15s",
      "--concurrency",
      "2",
      "--poll-interval",
      "100ms",
      "--mix",
      "all",
      "--out",
      out,
    ]);
    expect(result.stderr).not.toMatch(/^cellport:/m);
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(out, "utf8"));
    // A duplicate probe that lands after its export ended starts (and follows) one more: legitimate.
    expect(report.exports.launched).toBeGreaterThanOrEqual(10);
    expect(report.exports).toMatchObject({
      accepted: report.exports.launched,
      completed: report.exports.launched,
      verified: report.exports.launched,
      lost: 0,
      stuck: 0,
    });
    expect(report.verdict).toEqual({ pass: true, failures: [] });
    expect(report.peakQueueDepth.source).toMatch(/^api metric cellport_queue_jobs/);
    expect(report.conflicts.total).toBeGreaterThan(0);
    expect(await readFile(join(ctx.dataDir, "loadtest", "report.svg"), "utf8")).toMatch(/^<svg /);
    // The seeded cells are removed again.
    const cells = await (await fetch(`${api.baseUrl}__ctl/Cell`, { headers: auth() })).json();
    expect(JSON.stringify(cells)).not.toMatch(/"lt-/);
  });

  it("benchmarks export flows on its own processes: closed-loop rounds and a drain, nothing lost", async () => {
    const result = await cli(
      [
        "bench",
        "flow",
        "--cells",
        "6",
        "--flows",
        "3",
        "--poll-interval",
        "20ms",
        "--warmup",
        "4",
        "--drain",
        "8",
        "--json",
      ],
      { REDIS_URL: ctx.redisUrl },
    );
    expect(result.stderr).not.toMatch(/^cellport:/m);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.rounds.map((r: { workers: number }) => r.workers)).toEqual([1, 2]);
    for (const round of report.rounds) {
      expect(round).toMatchObject({
        warmupExports: 4,
        exports: 6,
        flows: 3,
        pollIntervalMs: 20,
        notCompleted: 0,
      });
      expect(round.perSecond).toBeGreaterThan(0);
      // Every flow polls at least once, until its export reads ready.
      expect(round.pollsPerExport).toBeGreaterThanOrEqual(1);
    }
    expect(report.drain).toMatchObject({ exports: 8, workers: 2, completed: 8, lost: 0 });
  });
});
