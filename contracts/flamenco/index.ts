export * from "./common.js";
export * from "./jobs.js";
export * from "./job-control.js";
export * from "./worker.js";
