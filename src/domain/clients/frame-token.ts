import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The token in a validation URL: `<lease id>.<signature>`, the signature an HMAC-SHA256 (truncated
 * to 128 bits) of session, job, frame and lease under the farm's secret. Only the session the
 * frame was given to can upload it, for that job and frame, under that lease.
 */
export interface TokenSubject {
  sessionId: string;
  jobId: string;
  frame: number;
  leaseId: string;
}

function signature(secret: Buffer, s: TokenSubject): Buffer {
  return createHmac("sha256", secret)
    .update(`v1|${s.sessionId}|${s.jobId}|${s.frame}|${s.leaseId}`)
    .digest()
    .subarray(0, 16);
}

export function signFrameToken(secret: Buffer, s: TokenSubject): string {
  return `${s.leaseId}.${signature(secret, s).toString("base64url")}`;
}

/** The lease id the token names when its signature holds for this session, job and frame; null otherwise. */
export function verifyFrameToken(secret: Buffer, token: string, s: Omit<TokenSubject, "leaseId">): string | null {
  const dot = token.lastIndexOf(".");
  if (dot <= 0) return null;
  const leaseId = token.slice(0, dot);
  if (!/^[0-9a-f-]{36}$/.test(leaseId)) return null;
  const given = Buffer.from(token.slice(dot + 1), "base64url");
  const expected = signature(secret, { ...s, leaseId });
  return given.length === expected.length && timingSafeEqual(given, expected) ? leaseId : null;
}
