import { describe, expect, test } from "bun:test";
import type { DomainManager } from "./command-server.ts";
import type { StatusReply } from "./schema.ts";
import { startingManager } from "./starting-manager.ts";

const running: StatusReply = { state: "running", reason: "booted", interfaces: [], ready: true };
const vmi = { apiVersion: "kubevirt.io/v1" as const, kind: "VirtualMachineInstance" as const, metadata: { name: "vm1" }, spec: { domain: { devices: {} } } };

function recording(calls: string[]): DomainManager {
  return {
    sync: async (v) => (calls.push(`sync ${v.metadata.name}`), running),
    shutdown: async (g) => (calls.push(`shutdown ${g}`), running),
    kill: async () => (calls.push("kill"), running),
    status: async () => running,
    stats: async () => ({ domain: "ns_vm1", balloon: {}, vcpus: [], nets: [], blocks: [] }),
  };
}

describe("the command API while the launcher starts", () => {
  test("status answers absent and not ready until the stack is up; sync reaches the runner at once (it prepares while the stack starts)", async () => {
    const calls: string[] = [];
    const { promise, resolve } = Promise.withResolvers<void>();
    const m = startingManager(recording(calls), promise);
    expect(await m.status()).toEqual({ state: "absent", reason: "the launcher is starting", interfaces: [], ready: false });
    expect((await m.sync(vmi as never)).state).toBe("running");
    expect(calls).toEqual(["sync vm1"]);
    expect((await m.status()).reason).toBe("the launcher is starting");
    resolve();
    await promise;
    expect(await m.status()).toEqual(running);
    await m.shutdown(5);
    await m.kill();
    expect(calls).toEqual(["sync vm1", "shutdown 5", "kill"]);
  });

  test("stats are refused (409) while starting, and come from the runner once started", async () => {
    const { promise, resolve } = Promise.withResolvers<void>();
    const m = startingManager(recording([]), promise);
    await expect(m.stats()).rejects.toMatchObject({ status: 409, message: "no domain runs: the launcher is starting" });
    resolve();
    await promise;
    expect((await m.stats()).domain).toBe("ns_vm1");
  });

  test("a stack that failed to start: status says why and is not ready", async () => {
    const { promise, reject } = Promise.withResolvers<void>();
    const m = startingManager(recording([]), promise);
    reject(new Error("libvirtd exited"));
    await promise.catch(() => undefined);
    expect(await m.status()).toEqual({ state: "absent", reason: "the launcher failed to start: libvirtd exited", interfaces: [], ready: false });
  });
});
