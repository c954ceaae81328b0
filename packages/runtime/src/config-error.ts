import type { z } from "zod";

/** Every problem of a process's environment, named at once (the process prints it and exits 1). */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Values never echoed in a config error: credentials, and URLs that may carry a password. */
const SENSITIVE = /TOKEN|SECRET|PASSWORD|REDIS_URL/;

/** Parses `env` with `schema`, or throws one ConfigError listing every bad variable. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join(".") || "(environment)";
      const got = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
      if (got === undefined || SENSITIVE.test(name)) return `${name}: ${issue.message}`;
      return `${name}: ${issue.message} (got \`${got}\`)`;
    }),
  );
}

/**
 * For a process's main.ts: the config, or — on a ConfigError — its message on stderr
 * and exit 1, before any socket opens.
 */
export function loadConfigOrExit<C>(
  processName: string,
  load: (env: Record<string, string | undefined>) => C,
): C {
  try {
    return load(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${processName}: ${error.message}`);
    process.exit(1);
  }
}
