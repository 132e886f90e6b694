export * from "./common.js";
export * from "./jobs.js";
