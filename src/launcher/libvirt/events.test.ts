import { describe, expect, test } from "bun:test";
import { domainEventDetail, domainEventType, domainStateName } from "./events.ts";

describe("libvirt enums", () => {
  test("domain states", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(domainStateName)).toEqual(["nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"]);
    expect(domainStateName(42)).toBe("nostate");
  });

  test("event types and details", () => {
    expect(domainEventType(2)).toBe("Started");
    expect(domainEventType(5)).toBe("Stopped");
    expect(domainEventType(9)).toBeNull();
    expect(domainEventDetail("Stopped", 1)).toBe("Destroyed");
    expect(domainEventDetail("Started", 0)).toBe("Booted");
    expect(domainEventDetail("Shutdown", 1)).toBe("Guest");
    expect(domainEventDetail("Crashed", 7)).toBe("Unknown(7)");
  });
});
