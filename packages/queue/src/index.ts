export * from "./cancel.ts";
export * from "./connection.ts";
export * from "./current-job.ts";
export * from "./job-backend.ts";
export * from "./job-options.ts";
export * from "./keys.ts";
export * from "./port.ts";
export * from "./recorder.ts";
