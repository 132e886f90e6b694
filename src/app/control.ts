import { RedisControlTokenStore } from "../../adapters/redis/redis-control-token-store.js";
import { ControlTokenService } from "../domain/control/control-tokens.js";
import type { Farm } from "./farm.js";

/** How long a gateway believes an accepted control token before asking Redis again (a revoke's delay). */
export const CONTROL_TOKEN_CACHE_MS = 3000;

const built = new WeakMap<Farm, ControlTokenService>();

/** The control tokens of a farm, one service (and cache) per farm. */
export function controlTokensOf(farm: Farm): ControlTokenService {
  let service = built.get(farm);
  if (!service) {
    service = new ControlTokenService(new RedisControlTokenStore(farm.redis, farm.keys), {
      cacheMs: CONTROL_TOKEN_CACHE_MS,
    });
    built.set(farm, service);
  }
  return service;
}
