/**
 * @cellport/cli — the `cellport` command (main.ts) and what other packages reuse:
 * the process helpers (`@cellport/cli/stack`, for the e2e harness), the HTTP client
 * and snapshot verification.
 */
export { type CellportClient, createClient, type RequestSample } from "./client/http-client.ts";
export { parseMultistatus, type SnapshotInfo } from "./client/propfind.ts";
export { EXIT, type ExitCode } from "./errors.ts";
export { verifySnapshot } from "./loadtest/verify.ts";
export { runCli } from "./program.ts";
export { type SeedOptions, type SeedResult, seedCell } from "./seed.ts";
