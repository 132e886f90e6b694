import { FarmError, invalid } from "../errors.js";
import { hashSecret, sha256Hex, verifySecret } from "../secrets.js";
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
  /** Adds a key (by hash); keeps at most `keep` keys per user, dropping the oldest. */
  addKey(login: string, keyHash: string, info: RenderKeyInfo, keep: number): Promise<void>;
  getKey(login: string, keyHash: string): Promise<RenderKeyInfo | null>;
  /** Removes every key of the user; answers how many there were. */
  revokeKeys(login: string): Promise<number>;
  countKeys(login: string): Promise<number>;
}

/** Counts failed logins per subject within a window (adapters/redis: a counter with expiry). */
export interface LoginLimiter {
  failures(subject: string): Promise<number>;
  recordFailure(subject: string): Promise<void>;
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

/**
 * Users: added and managed from the command line; they log in with their password or a render key
 * issued at an earlier login. Failed logins are limited per login and per address.
 */
export class AccountService {
  constructor(
    private readonly store: AccountStore,
    private readonly limiter: LoginLimiter,
    private readonly opts: { maxFailedLogins: number },
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
   * client logged in with, or a new one after a password login. `forbidden` for wrong
   * credentials, a disabled user, or too many failed logins of this login or address.
   */
  async authenticate(c: Credentials): Promise<{ user: User; renderKey: string }> {
    const subjects = [`login:${c.login.toLowerCase()}`, `addr:${c.address}`];
    const counts = await Promise.all(subjects.map((s) => this.limiter.failures(s)));
    if (counts.some((n) => n >= this.opts.maxFailedLogins)) {
      throw new FarmError("forbidden", "too many failed logins; try again later", { reason: "rate-limited" });
    }
    const user = await this.store.get(c.login);
    let renderKey: string | undefined;
    if (user && !user.disabled) {
      if (c.password.startsWith(RENDER_KEY_PREFIX)) {
        if (await this.store.getKey(user.login, sha256Hex(c.password))) renderKey = c.password;
      } else if (await verifySecret(c.password, user.passwordHash)) {
        renderKey = newRenderKey();
        await this.store.addKey(
          user.login,
          sha256Hex(renderKey),
          { machine: c.machine, created: new Date().toISOString() },
          KEYS_PER_USER,
        );
      }
    }
    if (!user || user.disabled || !renderKey) {
      await Promise.all(subjects.map((s) => this.limiter.recordFailure(s)));
      throw new FarmError("forbidden", "wrong login or password", { reason: "bad-credentials" });
    }
    return { user, renderKey };
  }
}
