import type { Redis } from "ioredis";
import type { ControlToken, ControlTokenStore } from "../../src/domain/control/control-tokens.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/** KEYS: tokens, hashes. ARGV: name, hash, record JSON. 1 when added, 0 when the name is taken. */
const addToken = new LuaScript(
  "control-token-add",
  `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1`,
);

/** KEYS: tokens, hashes, used. ARGV: name. 1 when revoked, 0 when there was no such token. */
const revokeToken = new LuaScript(
  "control-token-revoke",
  `local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if ok and type(rec) == 'table' and rec.hash then redis.call('HDEL', KEYS[2], rec.hash) end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1`,
);

/** KEYS: hashes, used. ARGV: hash, name, time. Records a use only while the token exists. */
const touchToken = new LuaScript(
  "control-token-touch",
  `if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`,
);

/** Control tokens in three hashes: name → {hash, created}, hash → name, name → last used. */
export class RedisControlTokenStore implements ControlTokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async add(name: string, hash: string, created: string): Promise<boolean> {
    const k = this.keys;
    const res = await addToken.run(
      this.redis,
      [k.controlTokens(), k.controlTokenHashes()],
      [name, hash, JSON.stringify({ hash, created })],
    );
    return res === 1;
  }

  async list(): Promise<ControlToken[]> {
    const [records, used] = await Promise.all([
      this.redis.hgetall(this.keys.controlTokens()),
      this.redis.hgetall(this.keys.controlTokensUsed()),
    ]);
    return Object.entries(records)
      .map(([name, raw]) => {
        let created = "";
        try {
          created = String((JSON.parse(raw) as { created?: string }).created ?? "");
        } catch {
          // A damaged record still lists (and can be revoked).
        }
        return { name, created, lastUsed: used[name] ?? "" };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async revoke(name: string): Promise<boolean> {
    const k = this.keys;
    const res = await revokeToken.run(
      this.redis,
      [k.controlTokens(), k.controlTokenHashes(), k.controlTokensUsed()],
      [name],
    );
    return res === 1;
  }

  async nameOf(hash: string): Promise<string | null> {
    return this.redis.hget(this.keys.controlTokenHashes(), hash);
  }

  async touch(name: string, hash: string, at: string): Promise<void> {
    await touchToken.run(this.redis, [this.keys.controlTokenHashes(), this.keys.controlTokensUsed()], [hash, name, at]);
  }
}
