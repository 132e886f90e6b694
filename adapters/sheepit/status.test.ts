import { describe, expect, it } from "vitest";
import { JobRequestStatus } from "../../contracts/sheepit/index.js";
import { FarmError } from "../../src/domain/errors.js";
import { sheepitStatus } from "./status.js";

describe("sheepitStatus", () => {
  it("answers a storage failure at request-job as 204 (server internal error, 2024 clients), bad input as 400", () => {
    expect(sheepitStatus("jobrequest", new FarmError("storage", "disk gone"))).toBe(JobRequestStatus.serverError);
    expect(JobRequestStatus.serverError).toBe(204);
    expect(sheepitStatus("jobrequest", new FarmError("invalid", "ram_max"))).toBe(400);
    expect(sheepitStatus("jobrequest", new FarmError("unauthenticated", "no session"))).toBe(202);
    // Not a FarmError: an internal failure, answered HTTP 503 by the route kit.
    expect(sheepitStatus("jobrequest", new Error("boom"))).toBeNull();
  });
});
