import type { Redis } from "ioredis";
import type { Protocol, Session, SessionStore } from "../../src/domain/sessions/session.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";
import { present, readHashes } from "./read-hashes.js";

/**
 * getFreshSession: a session's fields, and when it was last seen at ARGV[2] or later, a request
 * recorded now (ARGV[1]); the last element says whether it was (1) or not (0).
 */
const getFreshSession = new LuaScript(
  "getFreshSession",
  `local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return false end
local seen = tonumber(redis.call('HGET', KEYS[1], 'lastSeen') or '0')
if seen < tonumber(ARGV[2]) then table.insert(h, 0) return h end
redis.call('HSET', KEYS[1], 'lastSeen', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
table.insert(h, 1)
return h`,
);

/** touchSession: records a request from an existing session (last seen, and its place in the seen index). */
const touchSession = new LuaScript(
  "touchSession",
  "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], 'lastSeen', ARGV[1]) redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2]) return 1",
);

/**
 * deleteSession: removes a session and keeps its name and protocol (`<protocol>|<name>`) under its
 * id for ARGV[2] ms, so tasks it held still show who held them.
 * KEYS[1] session hash, KEYS[2] seen index, KEYS[3] former-holder string. ARGV[1] id, ARGV[2] keep ms.
 */
const deleteSession = new LuaScript(
  "deleteSession",
  `
local v = redis.call('HMGET', KEYS[1], 'protocol', 'name')
if v[1] then redis.call('SET', KEYS[3], v[1] .. '|' .. (v[2] or ''), 'PX', tonumber(ARGV[2])) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`,
);

/** How long an ended session's name is kept for the tasks it held. */
const FORMER_HOLDER_MS = 30 * 24 * 3_600_000;

function toHash(s: Session): Record<string, string> {
  return {
    id: s.id,
    protocol: s.protocol,
    name: s.name,
    status: s.status,
    caps: JSON.stringify(s.caps),
    created: s.created,
    lastSeen: String(s.lastSeen),
    attrs: JSON.stringify(s.attrs),
  };
}

function fromHash(h: Record<string, string>): Session | null {
  if (!h.id) return null;
  return {
    id: h.id,
    protocol: (h.protocol ?? "flamenco") as Protocol,
    name: h.name ?? "",
    status: h.status ?? "",
    caps: JSON.parse(h.caps ?? "{}"),
    created: h.created ?? "",
    lastSeen: Number(h.lastSeen ?? 0),
    attrs: JSON.parse(h.attrs ?? "{}"),
  };
}

export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async put(session: Session): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.session(session.id), toHash(session))
      .zadd(this.keys.sessionsSeen(), session.lastSeen, session.id)
      .exec();
  }

  async get(id: string): Promise<Session | null> {
    return fromHash(await this.redis.hgetall(this.keys.session(id)));
  }

  async touch(id: string, now = Date.now()): Promise<boolean> {
    const res = await touchSession.run(this.redis, [this.keys.session(id), this.keys.sessionsSeen()], [now, id]);
    return res === 1;
  }

  async getFresh(
    id: string,
    seenSince: number,
    now = Date.now(),
  ): Promise<{ session: Session; fresh: boolean } | null> {
    const flat = await getFreshSession.run<string[] | null>(
      this.redis,
      [this.keys.session(id), this.keys.sessionsSeen()],
      [now, seenSince, id],
    );
    if (!flat) return null;
    const fresh = String(flat[flat.length - 1]) === "1";
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length - 1; i += 2) h[flat[i] as string] = flat[i + 1] as string;
    const session = fromHash(h);
    if (!session) return null;
    if (fresh) session.lastSeen = now;
    return { session, fresh };
  }

  async update(id: string, patch: Partial<Pick<Session, "status" | "name" | "caps" | "attrs">>): Promise<void> {
    const fields: Record<string, string> = {};
    if (patch.status !== undefined) fields.status = patch.status;
    if (patch.name !== undefined) fields.name = patch.name;
    if (patch.caps !== undefined) fields.caps = JSON.stringify(patch.caps);
    if (patch.attrs !== undefined) fields.attrs = JSON.stringify(patch.attrs);
    if (Object.keys(fields).length > 0) await this.redis.hset(this.keys.session(id), fields);
  }

  async list(protocol?: Protocol): Promise<Session[]> {
    const ids = await this.redis.zrevrange(this.keys.sessionsSeen(), 0, -1);
    const sessions = present(
      await readHashes(
        this.redis,
        ids.map((id) => this.keys.session(id)),
        fromHash,
      ),
    );
    return protocol ? sessions.filter((s) => s.protocol === protocol) : sessions;
  }

  unseenSince(ms: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.sessionsSeen(), "-inf", `(${ms}`);
  }

  async delete(id: string): Promise<void> {
    await deleteSession.run(
      this.redis,
      [this.keys.session(id), this.keys.sessionsSeen(), this.keys.other("session-former", id)],
      [id, FORMER_HOLDER_MS],
    );
  }

  async formerHolder(id: string): Promise<{ id: string; name: string; protocol: Protocol } | null> {
    const v = await this.redis.get(this.keys.other("session-former", id));
    if (!v) return null;
    const bar = v.indexOf("|");
    return { id, protocol: v.slice(0, bar) as Protocol, name: v.slice(bar + 1) };
  }
}
