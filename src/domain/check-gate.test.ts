import { describe, expect, it } from "vitest";
import { CheckGate } from "./check-gate.js";
import { isFarmError } from "./errors.js";

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("CheckGate", () => {
  it("runs at most `concurrent` checks at once, queues `waiting` more and refuses the rest as unavailable", async () => {
    const gate = new CheckGate(2, 3);
    let running = 0;
    let peak = 0;
    const holds = Array.from({ length: 5 }, deferred);
    const runs = holds.map((h) =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await h.promise;
        running--;
        return "ok";
      }),
    );
    const refused = await gate.run(async () => "never").catch((e: unknown) => e);
    expect(isFarmError(refused, "unavailable")).toBe(true);
    for (const h of holds) {
      await Promise.resolve();
      h.resolve();
    }
    expect(await Promise.all(runs)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(peak).toBe(2);
    // A failing check frees its place.
    await expect(gate.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run(async () => "again")).toBe("again");
  });
});
