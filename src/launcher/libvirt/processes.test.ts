import { describe, expect, test } from "bun:test";
import { isSharedNamespace, mountNamespaceOf, namespaceMembers, processAlive, processStartTime, rssKiB } from "./processes.ts";

describe("/proc facts", () => {
  test("this process is alive, has an RSS and a mount namespace", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(0)).toBe(false);
    expect(processAlive(2 ** 30)).toBe(false);
    expect(rssKiB(process.pid)).toBeGreaterThan(0);
    expect(processStartTime(process.pid)).toBeGreaterThan(0);
    expect(processStartTime(2 ** 30)).toBeNull();
    const ns = mountNamespaceOf("self");
    expect(ns).toMatch(/^mnt:\[\d+\]$/);
    expect(isSharedNamespace(ns!)).toBe(true);
    expect(namespaceMembers(ns!)).toContain(process.pid);
  });
});
