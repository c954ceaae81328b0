/**
 * The `cellport` process: the only CLI file that touches `process`. Ctrl-C aborts
 * the running command (it cleans up and reports); a second Ctrl-C exits at once.
 */
import { EXIT, errorLine } from "./errors.ts";
import { runCli } from "./program.ts";

const controller = new AbortController();
const onSignal = () => {
  if (controller.signal.aborted) process.exit(EXIT.interrupted);
  controller.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// Whatever escapes still ends as one line, never a stack trace.
process.on("unhandledRejection", (error) => {
  process.stderr.write(`cellport: ${errorLine(error)}\n`);
  process.exit(EXIT.failure);
});

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  io: { stdout: process.stdout, stderr: process.stderr },
  signal: controller.signal,
});
// Flush both streams (pipes are asynchronous), then exit: idle keep-alive sockets
// must not hold a finished command open.
await new Promise((done) => process.stdout.write("", done));
await new Promise((done) => process.stderr.write("", done));
process.exit(code);
