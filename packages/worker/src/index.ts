export * from "./config.ts";
export * from "./export-pipeline.ts";
export * from "./failure.ts";
export * from "./processor.ts";
export * from "./progress-throttle.ts";
export * from "./worker.ts";
export * from "./zip-trailer.ts";
