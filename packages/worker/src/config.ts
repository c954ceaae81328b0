/**
 * The worker process's configuration: one zod schema over the environment, read once
 * by main.ts. Nothing else in the worker reads `process.env`.
 */
import { commonEnv, intVar, optionalIntVar, parseEnv } from "@cellport/runtime";
import { z } from "zod";

const schema = z.object({
  ...commonEnv,
  /** Jobs this process runs at once (zip work runs on the main thread and zlib's pool). */
  CELLPORT_WORKER_CONCURRENCY: intVar(2, 1, 64),
  /** Cap across every worker of the queue; unset leaves the queue's setting as it is. */
  CELLPORT_GLOBAL_CONCURRENCY: optionalIntVar(1, 10_000),
  /** How long a job's lock lasts without renewal: a dead worker's job is retried after about this long. */
  CELLPORT_LOCK_DURATION_MS: intVar(30_000, 1_000, 3_600_000),
  /** How often this worker looks for jobs whose worker died. */
  CELLPORT_STALLED_INTERVAL_MS: intVar(30_000, 500, 3_600_000),
  /**
   * The worker process's nice value (0 = as the api, 19 = lowest). Exports are batch
   * work: on a machine shared with an api, status polls should not queue behind deflate.
   */
  CELLPORT_WORKER_NICE: intVar(10, 0, 19),
  /**
   * The metrics server's port: `off` disables it, `0` takes a free port; unset means
   * 9464, or a free port when 9464 is taken (metrics-server.ts says why).
   */
  CELLPORT_WORKER_METRICS_PORT: z
    .string()
    .trim()
    .refine(
      (v) => v === "off" || (/^\d+$/.test(v) && Number(v) <= 65_535),
      "expected a port number (0-65535) or off",
    )
    .transform((v) => (v === "off" ? ("off" as const) : Number(v)))
    .optional(),
});

export type WorkerConfig = z.infer<typeof schema>;

/** The typed config, or one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(schema, env);
}
