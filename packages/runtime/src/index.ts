export * from "./config-error.ts";
export * from "./data-dir.ts";
export * from "./env.ts";
export * from "./http-server.ts";
export * from "./logger.ts";
export * from "./redis-resolver.ts";
export * from "./secrets.ts";
export * from "./shutdown.ts";
