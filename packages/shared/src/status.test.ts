import { describe, expect, it } from "vitest";
import type { CellJobData, JobState } from "./jobs.ts";
import { type CurrentJob, exportStatus, formatProgress, importStatus } from "./status.ts";

const data = (kind: CellJobData["kind"]): CellJobData => ({
  kind,
  cell: "c1",
  name: "CellExport_2017_01",
  acceptedAt: "2017-02-13T09:00:00.000Z",
  requestKey: "abcd_0123456789012345678901",
  unitUrl: "http://localhost:8080/",
});

const job = (state: JobState, progress: unknown = 81, kind: CellJobData["kind"] = "export"): CurrentJob => ({
  state,
  data: data(kind),
  progress,
});

const inProgress = {
  status: "exportation in progress",
  started_at: "2017-02-13T09:00:00.000Z",
  progress: "81%",
  exportation_name: "CellExport_2017_01",
};

describe("exportStatus (the seed document)", () => {
  it.each<[JobState, object]>([
    ["waiting", inProgress],
    ["waiting-children", inProgress],
    ["delayed", inProgress],
    ["prioritized", inProgress],
    ["active", inProgress],
    ["completed", { status: "ready" }],
    ["failed", { status: "ready" }],
    ["unknown", { status: "ready" }],
    ["missing", { status: "ready" }],
  ])("%s → %j", (state, expected) => {
    expect(exportStatus(job(state))).toEqual(expected);
  });

  it("is ready when the cell has no job", () => {
    expect(exportStatus(null)).toEqual({ status: "ready" });
  });

  it("is ready while an import (not an export) holds the cell", () => {
    expect(exportStatus(job("active", 50, "import"))).toEqual({ status: "ready" });
  });

  it("has exactly the seed's keys, in the seed's order", () => {
    expect(Object.keys(exportStatus(job("active")))).toEqual([
      "status",
      "started_at",
      "progress",
      "exportation_name",
    ]);
  });
});

describe("formatProgress", () => {
  it.each<[unknown, string]>([
    [0, "0%"],
    [81.9, "81%"],
    [100, "100%"],
    [140, "100%"],
    [-3, "0%"],
    [Number.NaN, "0%"],
    ["81", "0%"],
    [{ percent: 5 }, "0%"],
    [undefined, "0%"],
  ])("%j → %s", (input, expected) => {
    expect(formatProgress(input)).toBe(expected);
  });
});

describe("importStatus", () => {
  const failure = {
    name: "snap",
    acceptedAt: "2017-02-13T09:00:00.000Z",
    progress: 40,
    error: { code: "PR500-SV-0000", message: { lang: "en" as const, value: "Unknown error." } },
  };

  it("reports a running import", () => {
    expect(importStatus(job("active", 12, "import"), failure)).toEqual({
      status: "importation in progress",
      started_at: "2017-02-13T09:00:00.000Z",
      progress: "12%",
      importation_name: "CellExport_2017_01",
    });
  });

  it("reports the last failure until the next import", () => {
    expect(importStatus(null, failure)).toEqual({
      status: "import failed",
      started_at: "2017-02-13T09:00:00.000Z",
      progress: "40%",
      importation_name: "snap",
      message: failure.error,
    });
  });

  it("is ready otherwise, also while an export runs", () => {
    expect(importStatus(null, null)).toEqual({ status: "ready" });
    expect(importStatus(job("active"), null)).toEqual({ status: "ready" });
  });
});
