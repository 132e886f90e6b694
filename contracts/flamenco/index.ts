export * from "./common.js";
export * from "./job-control.js";
export * from "./jobs.js";
export * from "./worker.js";
