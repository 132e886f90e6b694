import { z } from "zod";

/** `Error`: every failed JSON answer carries one. */
export const ErrorBody = z.object({ code: z.number().int(), message: z.string() }).meta({ id: "Error" });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `SecurityError`: the body of a 403 to a worker. */
export const SecurityError = z.object({ message: z.string() }).meta({ id: "SecurityError" });

export const FlamencoVersion = z.object({ version: z.string(), name: z.string() }).meta({ id: "FlamencoVersion" });

export const Uuid = z.uuid();

export const TaskStatus = z
  .enum(["active", "canceled", "completed", "failed", "queued", "soft-failed", "cancel-requested", "paused"])
  .meta({ id: "TaskStatus" });
