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
  test("status answers absent and not ready; sync waits for the start and then goes to the runner", async () => {
    const calls: string[] = [];
    const { promise, resolve } = Promise.withResolvers<DomainManager>();
    const m = startingManager(promise);
    expect(await m.status()).toEqual({ state: "absent", reason: "the launcher is starting", interfaces: [], ready: false });
    let synced: StatusReply | null = null;
    const sync = m.sync(vmi as never).then((r) => (synced = r));
    await Bun.sleep(10);
    expect(synced).toBeNull();
    expect(calls).toEqual([]);
    resolve(recording(calls));
    await sync;
    expect(synced!.state).toBe("running");
    expect(await m.status()).toEqual(running);
    await m.shutdown(5);
    await m.kill();
    expect(calls).toEqual(["sync vm1", "shutdown 5", "kill"]);
  });

  test("stats are refused (409) while starting, and come from the runner once started", async () => {
    const { promise, resolve } = Promise.withResolvers<DomainManager>();
    const m = startingManager(promise);
    await expect(m.stats()).rejects.toMatchObject({ status: 409, message: "no domain runs: the launcher is starting" });
    resolve(recording([]));
    await promise;
    await Bun.sleep(0);
    expect((await m.stats()).domain).toBe("ns_vm1");
  });

  test("a failed start fails the commands that wait for it, with why", async () => {
    const { promise, reject } = Promise.withResolvers<DomainManager>();
    const m = startingManager(promise);
    const sync = m.sync(vmi as never);
    reject(new Error("libvirtd exited"));
    await expect(sync).rejects.toThrow("Cannot run the command: the launcher failed to start (libvirtd exited)");
    await expect(m.kill()).rejects.toThrow("libvirtd exited");
    expect((await m.status()).ready).toBe(false);
  });
});
