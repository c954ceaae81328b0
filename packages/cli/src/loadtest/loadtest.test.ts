/**
 * `cellport loadtest` end to end against the in-process fake api: a clean run
 * passes with every snapshot verified, and a run whose exports vanish or never end
 * exits non-zero. (test/cli.test.ts runs it against the real processes.)
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeApi, type FakeApiOptions, startFakeApi } from "../testing/fake-api.ts";
import { run } from "../testing/run.ts";
import type { LoadtestReport } from "./report.ts";

const TOKEN = "master-token-for-tests";

describe("cellport loadtest", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cellport-loadtest-test-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function withApi<T>(options: FakeApiOptions, body: (api: FakeApi) => Promise<T>): Promise<T> {
    const api = await startFakeApi({ token: TOKEN, ...options });
    for (const cell of ["c1", "c2", "c3"]) api.addCell(cell);
    try {
      return await body(api);
    } finally {
      await api.close();
    }
  }

  const args = (out: string, extra: string[] = []) => [
    "loadtest",
    "--cells",
    "c1,c2,c3",
    "--exports",
    "6",
    "--duration",
    "10s",
    "--poll-interval",
    "10ms",
    "--out",
    out,
    ...extra,
  ];
  const env = (api: FakeApi) => ({ CELLPORT_URL: api.url, CELLPORT_TOKEN: TOKEN, CELLPORT_DATA_DIR: dir });

  it("passes a clean run, verifying every snapshot, and writes JSON, Markdown and SVG", async () => {
    await withApi({}, async (api) => {
      const out = join(dir, "clean.json");
      const result = await run(args(out, ["--concurrency", "2", "--mix", "all"]), env(api));
      expect(result.stderr.split("\n").filter((l) => l.startsWith("cellport:"))).toEqual([]);
      expect(result.code).toBe(0);
      const report = JSON.parse(await readFile(out, "utf8")) as LoadtestReport;
      // A duplicate probe that lands after its export ended starts (and follows) one more: legitimate.
      expect(report.exports.accepted).toBeGreaterThanOrEqual(6);
      expect(report.exports).toMatchObject({
        completed: report.exports.accepted,
        verified: report.exports.accepted,
        lost: 0,
        stuck: 0,
      });
      expect(report.verdict.pass).toBe(true);
      expect(report.errors.total).toBe(0);
      expect(report.conflicts.total).toBeGreaterThan(0); // writes, imports, duplicates during exports
      expect(report.statusLatencyMs.count).toBeGreaterThan(0);
      expect(await readFile(join(dir, "clean.md"), "utf8")).toMatch(/^# cellport loadtest — PASS/);
      expect(await readFile(join(dir, "clean.svg"), "utf8")).toMatch(/^<svg /);
      // Snapshots are cleaned up after verification.
      for (const cell of api.cells.values()) expect([...cell.snapshots.keys()]).toEqual([]);
    });
  });

  it("runs the open model", async () => {
    await withApi({}, async (api) => {
      const result = await run(args(join(dir, "open.json"), ["--rate", "20", "--json"]), env(api));
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        model: { kind: "open", rate: 20 },
        exports: { lost: 0 },
      });
    });
  });

  it("fails (exit 1) when exports are lost", async () => {
    await withApi({ loseExports: true }, async (api) => {
      const out = join(dir, "lost.json");
      const result = await run(args(out, ["--exports", "2"]), env(api));
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split("\n").at(-1)).toBe(
        "cellport: loadtest failed: 2 lost and 0 stuck exports (max 0)",
      );
      const report = JSON.parse(await readFile(out, "utf8")) as LoadtestReport;
      expect(report.lostExports).toHaveLength(2);
      expect(report.lostExports[0]).toMatchObject({ kind: "lost" });
    });
  });

  it("fails (exit 1) when exports never end", async () => {
    await withApi({ pollsPerExport: 1_000_000 }, async (api) => {
      const out = join(dir, "stuck.json");
      const result = await run(
        args(out, ["--exports", "1", "--duration", "100ms", "--drain-timeout", "300ms"]),
        env(api),
      );
      expect(result.code).toBe(1);
      const report = JSON.parse(await readFile(out, "utf8")) as LoadtestReport;
      expect(report.exports.stuck).toBe(1);
      expect(report.verdict.failures).toEqual(["0 lost and 1 stuck exports (max 0)"]);
    });
  });

  it("refuses a non-loopback target without --allow-remote (exit 2, nothing sent)", async () => {
    const result = await run(["loadtest", "--url", "http://example.com/"], { CELLPORT_TOKEN: TOKEN });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^cellport: refusing to load-test http:\/\/example\.com\/: not a loopback address/,
    );
  });
});
