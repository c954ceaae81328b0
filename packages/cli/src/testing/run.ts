/** Runs the CLI in-process with captured output, for unit tests. */
import { runCli } from "../program.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    env,
    signal,
    io: {
      stdout: {
        write: (text: string) => {
          stdout += text;
          return true;
        },
      },
      stderr: {
        write: (text: string) => {
          stderr += text;
          return true;
        },
      },
    },
  });
  return { code, stdout, stderr };
}
