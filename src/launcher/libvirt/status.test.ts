import { describe, expect, test } from "bun:test";
import { describeExit, summarize, type ComponentStatus } from "./status.ts";

const running = (name: ComponentStatus["name"]): ComponentStatus => ({ name, state: "running", pid: 1, restarts: 0, reason: null, since: 0 });

describe("stack health", () => {
  test("ok when everything runs and the client is through", () => {
    const h = summarize([running("namespace"), running("libvirtd")], { connected: true, synced: true, reason: null });
    expect(h.ok).toBe(true);
    expect(h.summary).toBe("ok");
    expect(h.down).toEqual([]);
  });

  test("names what is down and why", () => {
    const down: ComponentStatus = { name: "libvirtd", state: "down", pid: null, restarts: 2, reason: "killed by SIGKILL", since: 0 };
    const h = summarize([running("namespace"), down], { connected: true, synced: false, reason: "waiting" });
    expect(h.ok).toBe(false);
    expect(h.summary).toBe("libvirtd down: killed by SIGKILL (restart 2)");
    expect(h.down.map((c) => c.name)).toEqual(["libvirtd"]);
  });

  test("client not through while all components run", () => {
    const h = summarize([running("libvirtd")], { connected: false, synced: false, reason: "ECONNREFUSED" });
    expect(h.summary).toBe("D-Bus client not through to libvirtd: ECONNREFUSED");
  });

  test("exit descriptions", () => {
    expect(describeExit(null, "SIGKILL", "noise")).toBe("killed by SIGKILL");
    expect(describeExit(null, "SIGSEGV", "last words")).toBe("killed by SIGSEGV: last words");
    expect(describeExit(1, null, "Disconnected from D-Bus.")).toBe("exited with status 1: Disconnected from D-Bus.");
  });
});
