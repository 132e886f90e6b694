import { z } from "zod";

/**
 * What SheepIt clients since 2023 (7.x) add to the protocol (../shared/specs/sheepit-protocol-2024.md):
 * two request types in the config answer, the renderer and the project downloads they name, the
 * `<chunks>` of a `<job>`, and two more request-job statuses. Everything else is shared with the
 * 2020–2022 dialect (./index.ts), which re-exports these.
 */

/** The types a 2024 client gives up without ("Could not find endpoint for: <type>"). */
export const REQUEST_TYPES_2024 = [
  "request-job",
  "download-binary",
  "download-chunk",
  "error",
  "keepmealive",
  "logout",
  "speedtest-answer",
] as const;

/** Request types of the config answer: both generations' (old clients ignore the types they do not know). */
export const REQUEST_TYPES = [...REQUEST_TYPES_2024, "download-archive"] as const;

/** request-job statuses only 2024 clients know (older ones treat them as "unknown error"). */
export const JobRequestStatus2024 = {
  /** Server internal error. */
  serverError: 204,
  /** Session disabled: denoising is not supported on this machine (the farm has no denoising jobs: unused). */
  noDenoising: 208,
} as const;

/** A chunk id as the farm hands it out: the chunk's md5, lowercase hex (usable in a query string as it is). */
export const ChunkId = z.string().regex(/^[0-9a-f]{32}$/, "must be a chunk id (32 lowercase hex digits)");

/** `download-chunk`: `?chunk=<chunk id>`. */
export const ChunkParams = z.object({ chunk: ChunkId });

/** `download-binary`: `?job=<job id>`, the renderer of that job for this session's platform. */
export const BinaryParams = z.object({
  job: z
    .string()
    .trim()
    .regex(/^-?\d{1,10}$/, "must be an integer")
    .transform(Number)
    .refine((n) => n >= -(2 ** 31) && n < 2 ** 31, "must fit a 32-bit integer"),
});

/** `<chunk id md5/>`, in the order the client concatenates them. */
export const ChunkAttrs = z.object({ id: ChunkId, md5: z.string().regex(/^[0-9a-f]{32}$/) });
export type ChunkAttrs = z.output<typeof ChunkAttrs>;

/** A `<job>`'s `<chunks>`: at least one piece (an archive is never empty). */
export const Chunks = z.array(ChunkAttrs).min(1);
