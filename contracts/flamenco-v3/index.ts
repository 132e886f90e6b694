export * from "./common.js";
export * from "./jobs.js";
export * from "./worker.js";
