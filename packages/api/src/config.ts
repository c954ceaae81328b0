/**
 * The api process's configuration: one zod schema over the environment, read once by
 * main.ts. Nothing else in the api reads `process.env`.
 */
import { boolVar, commonEnv, intVar, parseEnv } from "@cellport/runtime";
import { z } from "zod";

const optionalSecret = (min: number) =>
  z
    .string()
    .refine((v) => v.length === 0 || v.length >= min, `expected at least ${min} characters`)
    .optional()
    .transform((v) => v || undefined);

const schema = z.object({
  ...commonEnv,
  PORT: intVar(8080, 0, 65_535),
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  /** What `Location` headers and manifests advertise; unset → derived from each request. */
  CELLPORT_BASE_URL: z
    .url({ protocol: /^https?$/, error: "expected an http(s) URL" })
    .transform((v) => (v.endsWith("/") ? v : `${v}/`))
    .optional(),
  /** Unset → created once in the data dir (see runtime/secrets.ts). */
  CELLPORT_MASTER_TOKEN: optionalSecret(16),
  CELLPORT_TOKEN_SECRET: optionalSecret(32),
  CELLPORT_PERSONIUM_VERSION: z.string().trim().min(1).default("1.7.21"),
  /** Largest body accepted by PUT on box files and snapshot files. */
  CELLPORT_MAX_UPLOAD_BYTES: intVar(10 * 1024 ** 3, 1),
  /** Largest JSON / XML request body. */
  CELLPORT_MAX_JSON_BYTES: intVar(1024 * 1024, 1024),
  /** `GET /metrics` needs the master token: for deployments where the api's port is public. */
  CELLPORT_METRICS_TOKEN_REQUIRED: boolVar(false),
  /** The bull-board dashboard at `/admin/queues` (master token): read-only unless asked otherwise. */
  CELLPORT_QUEUE_DASHBOARD: z.enum(["read-only", "read-write", "off"]).default("read-only"),
  /**
   * How old an "in progress" status served from this process's memory may be (0: ask
   * Redis on every poll). Clients polling slower than this see monotonic progress
   * across api processes.
   */
  CELLPORT_STATUS_MAX_AGE_MS: intVar(100, 0, 5_000),
});

export type ApiConfig = z.infer<typeof schema>;

export function loadConfig(env: Record<string, string | undefined>): ApiConfig {
  return parseEnv(schema, env);
}
