import { z } from "zod";

/** Wire shapes of the dashboard's own API (`/api/dashboard/…`), beside the Flamenco job API it reuses. */

export const DashboardJob = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    status: z.string(),
    priority: z.number().int(),
    created: z.string(),
    updated: z.string(),
    reason: z.string(),
    frameCount: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    active: z.number().int(),
    queued: z.number().int(),
    /** Frames per minute over the last minutes (0 when none were done lately). */
    framesPerMinute: z.number(),
    /** Seconds until the remaining frames are done at the recent rate; null when no frame is being done. */
    etaSeconds: z.number().int().nullable(),
    hasVideo: z.boolean(),
    videoState: z.string(),
  })
  .meta({ id: "DashboardJob" });

export const FarmSummary = z
  .object({
    now: z.string(),
    /** Newest first. */
    jobs: z.array(DashboardJob),
    /** Frames done per minute over the last hour, oldest first. */
    throughput: z.array(z.object({ minute: z.string(), frames: z.number().int() })),
    framesLastHour: z.number().int(),
  })
  .meta({ id: "FarmSummary" });

export const DashboardTask = z
  .object({ taskId: z.string(), jobId: z.string(), jobName: z.string(), frames: z.array(z.number().int()) })
  .meta({ id: "DashboardTask" });

export const DashboardClient = z
  .object({
    id: z.string(),
    name: z.string(),
    protocol: z.enum(["flamenco", "sheepit"]),
    status: z.string(),
    /** ISO time of its last request. */
    lastSeen: z.string(),
    address: z.string(),
    platform: z.string(),
    /** What it renders now. */
    current: z.array(DashboardTask),
    done: z.number().int(),
    failed: z.number().int(),
  })
  .meta({ id: "DashboardClient" });

export const ClientList = z.object({ clients: z.array(DashboardClient) }).meta({ id: "DashboardClientList" });

export const ClientDetail = DashboardClient.extend({
  created: z.string(),
  /** Frames it failed, per job. */
  failuresByJob: z.array(z.object({ jobId: z.string(), jobName: z.string(), failed: z.number().int() })),
  /** Jobs it is blocklisted from. */
  blocklistedFrom: z.array(z.object({ jobId: z.string(), jobName: z.string() })),
}).meta({ id: "DashboardClientDetail" });

export const FrameStates = z
  .object({
    jobId: z.string(),
    frameCount: z.number().int(),
    /** The job's frames as `[first, last]` runs: index i is the i-th frame of these. */
    runs: z.array(z.tuple([z.number().int(), z.number().int()])),
    /**
     * One letter per frame, in order: `q` queued, `a` active, `d` done, `r` failed once and queued
     * again, `f` failed for good.
     */
    states: z.string(),
    counts: z.object({
      q: z.number().int(),
      a: z.number().int(),
      d: z.number().int(),
      r: z.number().int(),
      f: z.number().int(),
    }),
    /** Index of the frame done last (the large preview), or -1. */
    lastDone: z.number().int(),
  })
  .meta({ id: "DashboardFrameStates" });
