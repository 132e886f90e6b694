// No `.meta({ id })` in this dialect: ids live in zod's global registry, which builds the 2022 API's
// /api/openapi.json; the 3.x component names are in the comments, checked against the 3.x spec by tests.
export * from "./common.js";
export * from "./jobs.js";
export * from "./worker.js";
