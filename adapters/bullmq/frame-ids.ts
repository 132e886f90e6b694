import type { Lease } from "../../src/domain/scheduling/capabilities.js";

/** What a frame's BullMQ job carries: its index in the job's frame list and its frame number. */
export interface FrameData {
  i: number;
  f: number;
}

/** The BullMQ id of a job's video task. */
export const VIDEO_ID = "video";
/** The BullMQ id of the frame at `index` in the job's frame list. */
export const frameId = (index: number) => `f${index}`;
/** The frame index of a BullMQ id, -1 for the video task. */
export const indexOfBullId = (id: string) => (id.startsWith("f") ? Number(id.slice(1)) : -1);

/** The BullMQ ids a lease holds. */
export function bullIds(lease: Lease): string[] {
  return lease.phase === "video" ? [VIDEO_ID] : lease.indices.map(frameId);
}

/** Indices of the lease's frames, all of them or those of the given frame numbers. */
export function targetIndices(lease: Lease, frames?: number[]): number[] {
  if (lease.phase === "video") return [];
  const wanted = frames ? new Set(frames) : undefined;
  return lease.indices.filter((_, k) => !wanted || wanted.has(lease.frames[k] as number));
}
