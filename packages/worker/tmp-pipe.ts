// In-process cost of the store+zip part of a tiny export (no Redis). Copy into packages/worker/ and run:
//   npx tsx tmp-pipe.ts 300
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsStore } from "@cellport/store";
import { FLOW_PROFILE } from "../cli/src/bench/flow-bench.ts";
import { seedLocalCell } from "../cli/src/seed-local.ts";
import { runExport } from "./src/export-pipeline.ts";

const n = Number(process.argv[2] ?? 300);
const dir = await mkdtemp(join(tmpdir(), "pipe-"));
const store = createFsStore({ dataDir: dir });
const cells = Array.from({ length: 20 }, (_, i) => `c${i}`);
for (const c of cells) await seedLocalCell(store, { cell: c, profile: FLOW_PROFILE, seed: c });
const HZ = 100;
function threadTicks(): Map<string, number> {
  const m = new Map<string, number>();

  for (const t of readdirSync(`/proc/self/task`)) {
    const s = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    m.set(t, Number(f[11]) + Number(f[12]));
  }
  return m;
}
async function once(i: number) {
  const cell = cells[i % cells.length] as string;
  await store.snapshots.sweepTemp(cell, 30_000);
  const existing = await store.snapshots.stat(cell, "snap.zip");
  if (existing) throw new Error("exists");
  await runExport({
    store,
    cell,
    name: "snap",
    unitUrl: "http://x/",
    attemptKey: `j${i}.1`,
    comment: `cellport job=j${i}`,
    onProgress: () => {},
  });
  await store.snapshots.delete(cell, "snap.zip");
}
for (let i = 0; i < 100; i++) await once(i); // warm up
for (let round = 0; round < 3; round++) {
  const t0 = threadTicks();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) await once(i);
  const c1 = process.cpuUsage(c0);
  const t1 = threadTicks();
  const wall = performance.now() - w0;
  const main = ((t1.get(String(process.pid)) ?? 0) - (t0.get(String(process.pid)) ?? 0)) * (1000 / HZ);
  console.log(
    `per export: wall ${(wall / n).toFixed(2)} ms, cpu all ${((c1.user + c1.system) / 1000 / n).toFixed(2)} ms (sys ${(c1.system / 1000 / n).toFixed(2)}), main ${(main / n).toFixed(2)} ms`,
  );
}
await rm(dir, { recursive: true, force: true });
process.exit(0);
