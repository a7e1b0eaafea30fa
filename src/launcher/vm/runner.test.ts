/**
 * The runner's sequencing with injected faults (a network setup that fails,
 * a guest that ignores ACPI) that the host tier cannot provoke on demand.
 * These ports are stand-ins and say so; the host tier runs the real ones.
 */
import { describe, expect, test } from "bun:test";
import type { VirtualMachineInstance } from "../../api/v1/vmi.ts";
import type { LibvirtPort, LifecycleEvent, RunnerPorts } from "./ports.ts";
import { VmRunner } from "./runner.ts";

function fakeLibvirt(opts: { obeysAcpi: boolean }): LibvirtPort & { calls: string[] } {
  const listeners = new Set<(e: LifecycleEvent) => void>();
  const calls: string[] = [];
  let state: "running" | "shutoff" = "shutoff";
  const stop = (domain: string, detail: string): void => {
    state = "shutoff";
    queueMicrotask(() => listeners.forEach((l) => l({ domain, event: "stopped", detail })));
  };
  return {
    calls,
    defineAndStart: async (xml) => {
      calls.push("defineAndStart");
      state = "running";
      return /<name>([^<]+)<\/name>/.exec(xml)![1]!;
    },
    state: async () => ({ state, reason: state === "running" ? "booted" : "shut off" }),
    shutdown: async (d) => {
      calls.push("shutdown");
      if (opts.obeysAcpi) stop(d, "shutdown");
    },
    destroy: async (d) => {
      calls.push("destroy");
      if (state === "running") stop(d, "destroyed");
    },
    undefine: async () => void calls.push("undefine"),
    stats: async () => ({ "state.state": 1, "cpu.time": 9, "vcpu.0.time": 5, "net.0.name": "tap0", "net.0.rx.bytes": 90, "net.1.name": "vnet9", "block.0.name": "vda", "block.0.rd.reqs": 2 }),
    onLifecycle: (l) => (listeners.add(l), () => listeners.delete(l)),
    healthy: () => true,
  };
}

const vmi: VirtualMachineInstance = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", namespace: "ns" },
  spec: { domain: { resources: { requests: { memory: "64M" } }, devices: { disks: [{ name: "root" }] } }, volumes: [{ name: "root", emptyDisk: { capacity: "1Gi" } }] },
};

function ports(libvirt: LibvirtPort, log: string[], failNetwork = false): RunnerPorts {
  return {
    libvirt,
    prepareStorage: async () => (log.push("storage"), { prepared: { root: { kind: "file", path: "/s/root.qcow2", format: "qcow2" } }, cleanup: async () => void log.push("storage cleanup") }),
    setupNetwork: async () => {
      if (failNetwork) throw new Error("Cannot create tap: injected");
      log.push("network");
      return { interfaces: { default: { tap: "tap0", mac: "02:00:00:00:00:01", ipAddresses: ["10.244.0.3"] } }, teardown: async () => void log.push("network teardown") };
    },
  };
}

const facts = { emulation: true, serialSocket: "/s/serial0" };

describe("VmRunner (stand-in ports)", () => {
  test("sync starts once; a second sync is a no-op; the guest powering off ends it cleanly", async () => {
    const lv = fakeLibvirt({ obeysAcpi: true });
    const log: string[] = [];
    const r = new VmRunner(ports(lv, log), facts, () => undefined);
    expect((await r.sync(vmi)).state).toBe("running");
    const again = await r.sync(vmi);
    expect(again.interfaces).toEqual([{ name: "default", mac: "02:00:00:00:00:01", ipAddresses: ["10.244.0.3"] }]);
    expect(lv.calls).toEqual(["defineAndStart"]);
    const s = await r.shutdown(5);
    expect(s.state).toBe("shutoff");
    expect(await r.ended).toEqual({ kind: "poweroff", detail: "the guest powered off" });
    expect(VmRunner.exitCode(await r.ended)).toBe(0);
    expect(log).toEqual(["storage", "network", "network teardown", "storage cleanup"]);
  });

  test("a guest that ignores ACPI is destroyed when the grace period ends", async () => {
    const lv = fakeLibvirt({ obeysAcpi: false });
    const r = new VmRunner(ports(lv, []), facts, () => undefined);
    await r.sync(vmi);
    await r.shutdown(0);
    expect(lv.calls).toEqual(["defineAndStart", "shutdown", "destroy", "undefine"]);
    expect((await r.ended).kind).toBe("destroyed");
  });

  test("a failure part-way undoes what was done and reports it", async () => {
    const lv = fakeLibvirt({ obeysAcpi: true });
    const log: string[] = [];
    const r = new VmRunner(ports(lv, log, true), facts, () => undefined);
    await expect(r.sync(vmi)).rejects.toThrow("injected");
    expect(log).toEqual(["storage", "storage cleanup"]);
    // No domain was defined: libvirt is not asked to destroy one (it may still be starting).
    expect(lv.calls).toEqual([]);
    expect((await r.ended).kind).toBe("failed");
  });

  test("stats name the devices by the VMI's names, and are refused when no domain runs", async () => {
    const lv = fakeLibvirt({ obeysAcpi: true });
    const r = new VmRunner(ports(lv, []), facts, () => undefined);
    await expect(r.stats()).rejects.toThrow("no domain runs: no VM synced yet");
    await r.sync(vmi);
    const s = await r.stats();
    expect(s.domain).toBe("ns_vm1");
    expect(s.cpu).toEqual({ timeNs: 9 });
    expect(s.nets).toEqual([{ name: "tap0", interface: "default", rxBytes: 90 }, { name: "vnet9" }]);
    expect(s.blocks).toEqual([{ name: "vda", drive: "root", readRequests: 2 }]);
    await r.shutdown(5);
    await expect(r.stats()).rejects.toThrow("no domain runs: the VM has ended (the guest powered off)");
  });

  test("a launcher takes one VMI only", async () => {
    const r = new VmRunner(ports(fakeLibvirt({ obeysAcpi: true }), []), facts, () => undefined);
    await r.sync(vmi);
    await expect(r.sync({ ...vmi, metadata: { name: "other", namespace: "ns" } })).rejects.toThrow(/cannot take "ns\/other"/);
  });

  test("a launcher abandoned during a sync (its stack did not start): the sync undoes its storage and network, the runner ends failed", async () => {
    const lv = fakeLibvirt({ obeysAcpi: true });
    const stackFailed = new Error("Cannot start libvirt stack: libvirtd exited");
    const log: string[] = [];
    const r = new VmRunner(ports({ ...lv, defineAndStart: async () => { throw stackFailed; } }, log), facts, () => undefined);
    const sync = r.sync(vmi);
    const abandoned = r.abandon(stackFailed.message);
    await expect(sync).rejects.toThrow("libvirtd exited");
    await abandoned;
    expect(log).toEqual(["storage", "network", "network teardown", "storage cleanup"]);
    expect(lv.calls).toEqual(["destroy", "undefine"]);
    expect(await r.ended).toEqual({ kind: "failed", detail: stackFailed.message });
  });

  test("abandoned before any sync: it ends failed with the reason; a later sync is refused", async () => {
    const lv = fakeLibvirt({ obeysAcpi: true });
    const r = new VmRunner(ports(lv, []), facts, () => undefined);
    await r.abandon("the stack did not start");
    expect(await r.ended).toEqual({ kind: "failed", detail: "the stack did not start" });
    await expect(r.sync(vmi)).rejects.toThrow("already ended");
    expect(lv.calls).toEqual([]);
  });
});
