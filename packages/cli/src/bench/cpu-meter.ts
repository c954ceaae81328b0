/**
 * The CPU time a benchmark's processes spend, by kind, over a window: the api and the
 * workers from `/proc/<pid>/stat` (Linux: user + system time of all their threads),
 * Redis from its own `INFO cpu` (the whole server), and the bench's own process (the
 * client) from `process.cpuUsage()`. Exports per second move with the machine's speed
 * from one minute to the next; the CPU an export costs moves much less, and tells
 * where it goes. A figure that cannot be read (no /proc, a Redis Cluster) is null.
 */
import { readFile } from "node:fs/promises";
import type { Redis } from "ioredis";

/** USER_HZ: the unit of /proc's tick counts, 100 on every mainstream Linux. */
const TICKS_PER_SECOND = 100;

export interface CpuSample {
  /** Milliseconds of CPU since each process started (the client's: since the bench started). */
  api: number | null;
  workers: number | null;
  redis: number | null;
  client: number;
}

export type CpuPerExport = CpuSample & { total: number };

/** User + system time (ms) from a `/proc/<pid>/stat` line; null when it does not parse. */
export function parseProcStatCpuMs(text: string): number | null {
  // The command name (field 2) may hold spaces and parentheses: fields count from its last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** User + system time (ms) from Redis `INFO cpu`; null when it does not parse. */
export function parseRedisCpuMs(info: string): number | null {
  const seconds = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, "m").exec(info)?.[1]);
  const total = seconds("used_cpu_sys") + seconds("used_cpu_user");
  return Number.isFinite(total) ? total * 1000 : null;
}

async function procCpuMs(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  return readFile(`/proc/${pid}/stat`, "utf8").then(parseProcStatCpuMs, () => null);
}

/** The sum of `values`, or null when any is unknown. */
function sumOrNull(values: Array<number | null>): number | null {
  return values.some((v) => v === null) ? null : values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

export async function sampleCpu(processes: {
  api: number | undefined;
  workers: Array<number | undefined>;
  /** A client of the Redis the bench runs on; null when its CPU cannot be read (a cluster). */
  redis: Redis | null;
}): Promise<CpuSample> {
  const [api, workers, redis] = await Promise.all([
    procCpuMs(processes.api),
    Promise.all(processes.workers.map(procCpuMs)).then(sumOrNull),
    processes.redis ? processes.redis.info("cpu").then(parseRedisCpuMs, () => null) : Promise.resolve(null),
  ]);
  const own = process.cpuUsage();
  return { api, workers, redis, client: (own.user + own.system) / 1000 };
}

/** CPU per export between two samples of the same processes. */
export function cpuPerExport(before: CpuSample, after: CpuSample, exports: number): CpuPerExport {
  const per = (a: number | null, b: number | null) => (a === null || b === null ? null : (b - a) / exports);
  const result = {
    api: per(before.api, after.api),
    workers: per(before.workers, after.workers),
    redis: per(before.redis, after.redis),
    client: (after.client - before.client) / exports,
  };
  return {
    ...result,
    total: [result.api, result.workers, result.redis, result.client].reduce<number>(
      (s, v) => s + (v ?? 0),
      0,
    ),
  };
}
