export * from "./compressed-formats.ts";
export * from "./errors.ts";
export * from "./jobs.ts";
export * from "./names.ts";
export * from "./redis-url.ts";
export * from "./request-key.ts";
export * from "./snapshot-layout.ts";
export * from "./status.ts";
