import type { AttemptLimiter } from "../attempt-limiter.js";
import { CheckGate } from "../check-gate.js";
import { FarmError, invalid } from "../errors.js";
import { dummyHash, hashSecret, sha256Hex, verifySecret } from "../secrets.js";
import { newRenderKey, RENDER_KEY_PREFIX } from "./secrets.js";

/** A person who renders for the farm with SheepIt clients. */
export interface User {
  login: string;
  /** scrypt hash (src/domain/secrets.ts); never the password. */
  passwordHash: string;
  /** Whether the user's clients get frames (SheepIt status 201 when not). */
  canRender: boolean;
  /** A disabled user cannot log in and its sessions get no more frames. */
  disabled: boolean;
  /** Points credited for accepted frames. */
  points: number;
  created: string;
}

/** What is kept of a render key: its hash (the map key) and the machine it was issued to. */
export interface RenderKeyInfo {
  machine: string;
  created: string;
}

/** The port that keeps users and their render keys (adapters/redis/redis-account-store.ts). */
export interface AccountStore {
  /** Stores a new user; false when the login exists. */
  create(user: User): Promise<boolean>;
  get(login: string): Promise<User | null>;
  list(): Promise<User[]>;
  update(login: string, patch: Partial<Pick<User, "canRender" | "disabled" | "passwordHash">>): Promise<boolean>;
  delete(login: string): Promise<boolean>;
  /** Adds points; answers the new total. */
  addPoints(login: string, points: number): Promise<number>;
  /**
   * Adds a key (by hash) in place of the user's keys for the same machine (unless the machine is
   * "unknown"), keeps at most `keep` keys per user, dropping the oldest; answers how many it revoked.
   */
  addKey(login: string, keyHash: string, info: RenderKeyInfo, keep: number): Promise<number>;
  getKey(login: string, keyHash: string): Promise<RenderKeyInfo | null>;
  /** Removes every key of the user; answers how many there were. */
  revokeKeys(login: string): Promise<number>;
  countKeys(login: string): Promise<number>;
}

export interface Credentials {
  login: string;
  /** The password, or a render key issued before. */
  password: string;
  /** Hardware id or hostname: what a render key is issued for. */
  machine: string;
  /** Network address of the caller (rate limiting). */
  address: string;
}

const LOGIN_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
/** Keys kept per user: one per machine, so this only bounds a misbehaving client. */
const KEYS_PER_USER = 200;
/** The machine of a client that says neither its hwid nor its hostname: its keys are not replaced. */
export const UNKNOWN_MACHINE = "unknown";

export interface LoginLimits {
  /** Password attempts per address within the limiter's window (LOGIN_RATE_LIMIT). */
  perAddress: number;
  /** Password attempts per login from all addresses together (LOGIN_RATE_LIMIT_PER_LOGIN). */
  perLogin: number;
}

/**
 * Users: added and managed from the command line; they log in with their password or a render key
 * issued at an earlier login. Password attempts take a slot per address and per login before the
 * password is checked (given back when it is right), so parallel guesses over many processes
 * check at most the limit; render-key logins (a SHA-256 lookup of 256 random bits) are never
 * stopped by those limits, so a guesser cannot lock the owner's machines out.
 */
export class AccountService {
  /** Passwords checked (scrypt) by this service since it was made: what the limits bound. */
  passwordChecks = 0;
  /** At most 2 password checks at once in this process (more wait; past 64 waiting, refused). */
  private readonly gate = new CheckGate(2, 64);

  constructor(
    private readonly store: AccountStore,
    private readonly limiter: AttemptLimiter,
    private readonly limits: LoginLimits,
  ) {}

  async add(login: string, password: string, opts: { canRender?: boolean } = {}): Promise<User> {
    if (!LOGIN_RE.test(login)) {
      throw invalid("login", "a login is 1 to 64 letters, digits or . _ @ + - and starts with a letter or digit");
    }
    if (password.length < 8) throw invalid("password", "a password has at least 8 characters");
    if (password.startsWith(RENDER_KEY_PREFIX))
      throw invalid("password", `a password may not start with ${RENDER_KEY_PREFIX}`);
    const user: User = {
      login,
      passwordHash: await hashSecret(password),
      canRender: opts.canRender ?? true,
      disabled: false,
      points: 0,
      created: new Date().toISOString(),
    };
    if (!(await this.store.create(user))) throw new FarmError("wrong-state", `user ${login} exists already`);
    return user;
  }

  async get(login: string): Promise<User> {
    const user = await this.store.get(login);
    if (!user) throw new FarmError("not-found", `no user ${login}`);
    return user;
  }

  list(): Promise<User[]> {
    return this.store.list();
  }

  async setDisabled(login: string, disabled: boolean): Promise<void> {
    if (!(await this.store.update(login, { disabled }))) throw new FarmError("not-found", `no user ${login}`);
  }

  async setCanRender(login: string, canRender: boolean): Promise<void> {
    if (!(await this.store.update(login, { canRender }))) throw new FarmError("not-found", `no user ${login}`);
  }

  async remove(login: string): Promise<void> {
    await this.store.revokeKeys(login);
    if (!(await this.store.delete(login))) throw new FarmError("not-found", `no user ${login}`);
  }

  /** Revokes every render key of the user: its clients must log in with the password again. */
  async revokeKeys(login: string): Promise<number> {
    await this.get(login);
    return this.store.revokeKeys(login);
  }

  countKeys(login: string): Promise<number> {
    return this.store.countKeys(login);
  }

  addPoints(login: string, points: number): Promise<number> {
    return this.store.addPoints(login, points);
  }

  /**
   * Checks the credentials and answers the user with its render key for this machine: the key the
   * client logged in with, or a new one after a password login (replacing the machine's old key).
   * `forbidden` for wrong credentials, a disabled user, or a password attempt past the limits of
   * its address or login (reason `rate-limited`, answered without checking the password).
   */
  async authenticate(c: Credentials): Promise<{ user: User; renderKey: string }> {
    const badCredentials = () => new FarmError("forbidden", "wrong login or password", { reason: "bad-credentials" });
    if (c.password.startsWith(RENDER_KEY_PREFIX)) {
      const user = await this.store.get(c.login);
      if (!user || user.disabled || !(await this.store.getKey(user.login, sha256Hex(c.password)))) {
        throw badCredentials();
      }
      return { user, renderKey: c.password };
    }
    const subjects = [`addr:${c.address}`, `login:${c.login.toLowerCase()}`];
    const refused = await this.limiter.reserve([
      { subject: subjects[0] as string, limit: this.limits.perAddress },
      { subject: subjects[1] as string, limit: this.limits.perLogin },
    ]);
    if (refused !== null) {
      throw new FarmError("forbidden", "too many failed logins; try again later", { reason: "rate-limited" });
    }
    const user = await this.store.get(c.login);
    let ok: boolean;
    try {
      ok = await this.gate.run(async () => {
        this.passwordChecks++;
        return verifySecret(c.password, user?.passwordHash ?? (await dummyHash()));
      });
    } catch (err) {
      await this.limiter.refund(subjects); // not checked: the attempt does not count
      throw err;
    }
    if (!ok || !user || user.disabled) throw badCredentials();
    await this.limiter.refund(subjects);
    const renderKey = newRenderKey();
    await this.store.addKey(
      user.login,
      sha256Hex(renderKey),
      { machine: c.machine, created: new Date().toISOString() },
      KEYS_PER_USER,
    );
    return { user, renderKey };
  }
}
