import { z } from "zod";

/** Shapes Flamenco 3 kept from the 2022 API are the 2022 declarations. */
export { ErrorBody, FlamencoVersion, SecurityError, TaskStatus, Uuid } from "../flamenco/common.js";

/** `ManagerConfiguration`: what the 3.x add-on reads first. */
export const ManagerConfiguration = z.object({
  storageLocation: z.string(),
  shamanEnabled: z.boolean(),
  isFirstRun: z.boolean(),
});
export type ManagerConfiguration = z.infer<typeof ManagerConfiguration>;
