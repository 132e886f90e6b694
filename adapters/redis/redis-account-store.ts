import type { Redis } from "ioredis";
import {
  type AccountStore,
  type RenderKeyInfo,
  UNKNOWN_MACHINE,
  type User,
} from "../../src/domain/accounts/accounts.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";
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

/**
 * KEYS[1] the user's keys (hash: key hash -> JSON info); ARGV: the new key's hash, its info, its
 * machine ("" to replace none), how many keys to keep. Removes the keys of the same machine, adds
 * the new one, drops the oldest past the cap; answers how many keys it removed.
 */
const addRenderKey = new LuaScript(
  "add-render-key",
  `local removed = 0
local all = redis.call('HGETALL', KEYS[1])
local kept = {}
for i = 1, #all, 2 do
  local ok, info = pcall(cjson.decode, all[i + 1])
  local created = ok and type(info) == 'table' and tostring(info.created or '') or ''
  if ARGV[3] ~= '' and ok and type(info) == 'table' and info.machine == ARGV[3] then
    redis.call('HDEL', KEYS[1], all[i])
    removed = removed + 1
  else
    kept[#kept + 1] = { all[i], created }
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local over = #kept + 1 - tonumber(ARGV[4])
if over > 0 then
  table.sort(kept, function(a, b) return a[2] < b[2] end)
  for i = 1, over do
    redis.call('HDEL', KEYS[1], kept[i][1])
    removed = removed + 1
  end
end
return removed`,
);

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

  async addKey(login: string, keyHash: string, info: RenderKeyInfo, keep: number): Promise<number> {
    const machine = info.machine === UNKNOWN_MACHINE ? "" : info.machine;
    return Number(
      await addRenderKey.run(this.redis, [this.keys.userKeys(login)], [keyHash, JSON.stringify(info), machine, keep]),
    );
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
