import { describe, expect, it } from "vitest";
import { advertisedUrls } from "./advertised-urls.js";

const nics = {
  lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
  eth0: [
    { address: "192.168.1.20", family: "IPv4", internal: false },
    { address: "fe80::1", family: "IPv6", internal: false },
    { address: "2001:db8::5", family: "IPv6", internal: false },
  ],
  wlan0: [{ address: "10.0.0.7", family: "IPv4", internal: false }],
} as unknown as Parameters<typeof advertisedUrls>[1];

describe("advertisedUrls", () => {
  it("lists one URL per non-internal IPv4 address when HOST is 0.0.0.0 and PUBLIC_URL unset", () => {
    const u = advertisedUrls(
      { HOST: "0.0.0.0", PORT: 8080, publicUrl: "http://127.0.0.1:8080", publicUrlSet: false },
      nics,
    );
    expect(u.flamenco).toEqual(["http://192.168.1.20:8080", "http://10.0.0.7:8080"]);
    expect(u.sheepit).toEqual(["http://192.168.1.20:8080/", "http://10.0.0.7:8080/"]);
    expect(u.guessed).toBe(true);
  });

  it("includes global IPv6 addresses (bracketed) when HOST is ::", () => {
    const u = advertisedUrls({ HOST: "::", PORT: 81, publicUrl: "http://127.0.0.1:81", publicUrlSet: false }, nics);
    expect(u.flamenco).toContain("http://[2001:db8::5]:81");
    expect(u.flamenco.some((x) => x.includes("fe80"))).toBe(false);
  });

  it("gives PUBLIC_URL alone when it is set", () => {
    const u = advertisedUrls(
      { HOST: "0.0.0.0", PORT: 8080, publicUrl: "https://farm.example", publicUrlSet: true },
      nics,
    );
    expect(u).toEqual({ sheepit: ["https://farm.example/"], flamenco: ["https://farm.example"], guessed: false });
  });

  it("gives HOST itself when it is one address", () => {
    const u = advertisedUrls(
      { HOST: "10.0.0.7", PORT: 9000, publicUrl: "http://10.0.0.7:9000", publicUrlSet: false },
      {},
    );
    expect(u.flamenco).toEqual(["http://10.0.0.7:9000"]);
  });
});
