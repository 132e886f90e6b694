import type { Redis } from "ioredis";
import type { FarmEvents } from "../../src/domain/events.js";
import type { Session } from "../../src/domain/sessions/session.js";
import type { Keys } from "./keys.js";
import { RedisSessionStore } from "./redis-session-store.js";

/**
 * The session store that tells live views when a client of either protocol appears, changes
 * status or name, or ends (not on every request: `touch` stays silent, views show "last seen" from
 * the time they read).
 */
export class PublishingSessionStore extends RedisSessionStore {
  constructor(
    redis: Redis,
    keys: Keys,
    private readonly events: FarmEvents,
  ) {
    super(redis, keys);
  }

  override async put(session: Session): Promise<void> {
    await super.put(session);
    this.events.publish({ type: "client", sessionId: session.id });
  }

  override async update(id: string, patch: Parameters<RedisSessionStore["update"]>[1]): Promise<void> {
    await super.update(id, patch);
    this.events.publish({ type: "client", sessionId: id });
  }

  override async delete(id: string): Promise<void> {
    await super.delete(id);
    this.events.publish({ type: "client", sessionId: id });
  }
}
