export interface ClientOptions {
  url: string;
  login: string;
  password: string;
  workDir: string;
  version?: string;
  os?: string;
  bits?: string;
  hostname?: string;
  hwid?: string;
  cores?: number;
  ramKb?: number;
  /** 0 CPU+GPU, 1 CPU, 2 GPU. */
  computeMethod?: 0 | 1 | 2;
  gpu?: { type: string; model: string; ramBytes: number };
  /** -1 when unset, as real clients send it. */
  renderTimeMax?: number;
  /** The client generation (default "2022"). */
  dialect?: SheepItDialect;
  /** Newer clients: start-up log after login, background uploads (default: all but the 2020 dialect). */
  newer?: boolean;
  /** Environment for rend.exe (the fake renderer reads FAKE_RENDER_* from it). */
  renderEnv?: Record<string, string>;
  /** Skip rend.exe and write `instantImage` as the frame (benchmarks). */
  instantImage?: Buffer;
  /** Delays of the upload retries (real clients: 22 s then 44 s). */
  retryDelaysMs?: number[];
  /** Hook to observe every HTTP exchange (path, status, ms). */
  onExchange?: (what: string, ms: number) => void;
  /**
   * Every host name resolves to this address, as for a client whose DNS points `farm.example.org`
   * at the gateway: URLs (and so the Host header) keep the name, connections go here.
   */
  resolveTo?: string;
  /** Headers sent with every request (as a proxy in front of the gateway would add them). */
  headers?: Record<string, string>;
}

export type SheepItDialect = "2020" | "2022" | "2024";
