/** Runs an external tool (zip, tar) and times it: the baselines of `bench export`. */
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { CliError } from "../errors.ts";

export interface TimedRun {
  ms: number;
  outputBytes: number;
}

export async function timeCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; output: string },
): Promise<TimedRun> {
  const started = performance.now();
  await new Promise<void>((done, fail) => {
    const child = spawn(command, [...args], { cwd: options.cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", (error: NodeJS.ErrnoException) =>
      fail(
        new CliError(
          error.code === "ENOENT" ? `\`${command}\` is not installed (needed as a baseline)` : error.message,
        ),
      ),
    );
    child.once("exit", (exitCode) => {
      if (exitCode !== 0)
        fail(new CliError(`${command} exited with ${exitCode}: ${stderr.trim().split("\n")[0]}`));
      else done();
    });
  });
  const ms = performance.now() - started;
  return { ms, outputBytes: (await stat(options.output)).size };
}
