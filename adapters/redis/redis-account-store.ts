import type { Redis } from "ioredis";
import type { AccountStore, LoginLimiter, RenderKeyInfo, User } from "../../src/domain/accounts/accounts.js";
import type { Keys } from "./keys.js";
import { present, readHashes } from "./read-hashes.js";

function fromHash(h: Record<string, string>): User | null {
  if (!h.login) return null;
  return {
    login: h.login,
    passwordHash: h.passwordHash ?? "",
    canRender: h.canRender !== "0",
    disabled: h.disabled === "1",
    points: Number(h.points ?? 0),
    created: h.created ?? "",
  };
}

/** Users in Redis: one hash per user, a set of logins, a hash of render-key hashes per user. */
export class RedisAccountStore implements AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async create(user: User): Promise<boolean> {
    const res = await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end redis.call('HSET', KEYS[1], 'login', ARGV[1], 'passwordHash', ARGV[2], 'canRender', ARGV[3], 'disabled', ARGV[4], 'points', ARGV[5], 'created', ARGV[6]) redis.call('SADD', KEYS[2], ARGV[1]) return 1",
      2,
      this.keys.user(user.login),
      this.keys.users(),
      user.login,
      user.passwordHash,
      user.canRender ? "1" : "0",
      user.disabled ? "1" : "0",
      String(user.points),
      user.created,
    );
    return res === 1;
  }

  async get(login: string): Promise<User | null> {
    return fromHash(await this.redis.hgetall(this.keys.user(login)));
  }

  async list(): Promise<User[]> {
    const logins = (await this.redis.smembers(this.keys.users())).sort();
    return present(
      await readHashes(
        this.redis,
        logins.map((l) => this.keys.user(l)),
        fromHash,
      ),
    );
  }

  async update(login: string, patch: Partial<Pick<User, "canRender" | "disabled" | "passwordHash">>): Promise<boolean> {
    const fields: string[] = [];
    if (patch.canRender !== undefined) fields.push("canRender", patch.canRender ? "1" : "0");
    if (patch.disabled !== undefined) fields.push("disabled", patch.disabled ? "1" : "0");
    if (patch.passwordHash !== undefined) fields.push("passwordHash", patch.passwordHash);
    const res = await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end return 1",
      1,
      this.keys.user(login),
      ...fields,
    );
    return res === 1;
  }

  async delete(login: string): Promise<boolean> {
    const [[, n] = []] =
      (await this.redis
        .multi()
        .del(this.keys.user(login))
        .del(this.keys.userKeys(login))
        .srem(this.keys.users(), login)
        .exec()) ?? [];
    return n === 1;
  }

  async addPoints(login: string, points: number): Promise<number> {
    const res = await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end return redis.call('HINCRBY', KEYS[1], 'points', ARGV[1])",
      1,
      this.keys.user(login),
      Math.round(points),
    );
    return Number(res);
  }

  async addKey(login: string, keyHash: string, info: RenderKeyInfo, keep: number): Promise<void> {
    const key = this.keys.userKeys(login);
    await this.redis.hset(key, keyHash, JSON.stringify(info));
    const n = await this.redis.hlen(key);
    if (n <= keep) return;
    const all = await this.redis.hgetall(key);
    const oldest = Object.entries(all)
      .map(([h, v]) => [h, (JSON.parse(v) as RenderKeyInfo).created] as const)
      .sort((a, b) => a[1].localeCompare(b[1]))
      .slice(0, n - keep)
      .map(([h]) => h);
    if (oldest.length > 0) await this.redis.hdel(key, ...oldest);
  }

  async getKey(login: string, keyHash: string): Promise<RenderKeyInfo | null> {
    const v = await this.redis.hget(this.keys.userKeys(login), keyHash);
    return v ? (JSON.parse(v) as RenderKeyInfo) : null;
  }

  async revokeKeys(login: string): Promise<number> {
    const key = this.keys.userKeys(login);
    const [[, n] = [], ,] = (await this.redis.multi().hlen(key).del(key).exec()) ?? [];
    return Number(n ?? 0);
  }

  countKeys(login: string): Promise<number> {
    return this.redis.hlen(this.keys.userKeys(login));
  }
}

/** Failed logins per subject in a fixed window: INCR, with the expiry set on the first failure. */
export class RedisLoginLimiter implements LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly windowMs: number,
  ) {}

  async failures(subject: string): Promise<number> {
    return Number((await this.redis.get(this.keys.loginFailures(subject))) ?? 0);
  }

  async recordFailure(subject: string): Promise<void> {
    const key = this.keys.loginFailures(subject);
    await this.redis.multi().incr(key).pexpire(key, this.windowMs, "NX").exec();
  }
}
