/**
 * Environment fields both processes read. Each process's own `config.ts` builds its
 * zod schema from these so a variable means the same thing everywhere.
 */
import { isRedisUrl } from "@cellport/shared";
import { z } from "zod";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** An integer env var with a default and bounds. */
export function intVar(defaultValue: number, min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(defaultValue);
}

export function optionalIntVar(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional();
}

/** One server (`redis://`, `rediss://`) or a Redis Cluster (`redis+cluster://h1:p1,h2:p2`); see shared/redis-url.ts. */
const redisUrl = z
  .string()
  .trim()
  .refine(
    isRedisUrl,
    "expected a redis://, rediss://, redis+cluster:// or redis+sentinel:// URL (or rediss+…)",
  )
  .optional();

export const commonEnv = {
  /** Unset: use 127.0.0.1:6379 if it answers, else start a private redis-server. */
  REDIS_URL: redisUrl,
  CELLPORT_DATA_DIR: z.string().trim().min(1).default("./.data"),
  /** Hash-tagged so every key of one queue lands in one Redis Cluster slot. */
  CELLPORT_QUEUE_PREFIX: z
    .string()
    .trim()
    .regex(/^[^\s:]+$/, "expected no spaces or colons")
    .default("{cellport}"),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  CELLPORT_SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 600_000),
  /**
   * Bounds on snapshot archives (zip bombs, spec §4.3). The api checks them before
   * the 202 and the worker while reading, so both read them here; unset → the
   * snapshot package's defaults.
   */
  CELLPORT_IMPORT_MAX_ENTRIES: optionalIntVar(1),
  CELLPORT_IMPORT_MAX_ENTRY_BYTES: optionalIntVar(1),
  CELLPORT_IMPORT_MAX_TOTAL_BYTES: optionalIntVar(1),
};

/** The archive bounds set in the environment, in `SnapshotLimits` terms (only those set). */
export function importLimitsFrom(env: {
  CELLPORT_IMPORT_MAX_ENTRIES?: number | undefined;
  CELLPORT_IMPORT_MAX_ENTRY_BYTES?: number | undefined;
  CELLPORT_IMPORT_MAX_TOTAL_BYTES?: number | undefined;
}): { maxEntries?: number; maxEntryBytes?: number; maxTotalBytes?: number } {
  return {
    ...(env.CELLPORT_IMPORT_MAX_ENTRIES ? { maxEntries: env.CELLPORT_IMPORT_MAX_ENTRIES } : {}),
    ...(env.CELLPORT_IMPORT_MAX_ENTRY_BYTES ? { maxEntryBytes: env.CELLPORT_IMPORT_MAX_ENTRY_BYTES } : {}),
    ...(env.CELLPORT_IMPORT_MAX_TOTAL_BYTES ? { maxTotalBytes: env.CELLPORT_IMPORT_MAX_TOTAL_BYTES } : {}),
  };
}

/** A yes/no env var: `true`/`false` (also `1`/`0`, `yes`/`no`, any case), with a default. */
export function boolVar(defaultValue: boolean) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ["true", "false", "1", "0", "yes", "no"].includes(v), "expected true or false")
    .transform((v) => v === "true" || v === "1" || v === "yes")
    .default(defaultValue);
}
