/**
 * The runner's libvirt port over a stack that is still starting, with a
 * stand-in for the stack's D-Bus client (the host tier runs the real one):
 * calls wait for the stack, lifecycle listeners are attached once it is up,
 * a failed start fails the calls with its reason.
 */
import { describe, expect, test } from "bun:test";
import type { DomainEvent, DomainHandle } from "./libvirt/client.ts";
import type { LibvirtStack } from "./libvirt/index.ts";
import { libvirtPort } from "./libvirt-port.ts";
import type { LifecycleEvent } from "./vm/ports.ts";

function fakeStack(calls: string[]): { stack: LibvirtStack; emit(e: Partial<DomainEvent>): void } {
  const listeners = new Set<(e: DomainEvent) => void>();
  const handle: DomainHandle = { name: "ns_vm1", uuid: "u", path: "/org/libvirt/QEMU/domain/_u" };
  const client = {
    defineXml: async () => (calls.push("define"), handle),
    start: async () => void calls.push("start"),
    onDomainEvent: (l: (e: DomainEvent) => void) => (listeners.add(l), () => listeners.delete(l)),
  };
  return {
    stack: { client, health: () => ({ ok: true, summary: "ok" }) } as unknown as LibvirtStack,
    emit: (e) => listeners.forEach((l) => l({ type: "Stopped", detail: "Shutdown", typeCode: 5, detailCode: 0, path: handle.path, uuid: null, ...e } as DomainEvent)),
  };
}

describe("libvirt port over a starting stack", () => {
  test("a define waits for the stack; the listener attached before it is up hears the domain's events; healthy once up", async () => {
    const calls: string[] = [];
    const f = fakeStack(calls);
    const { promise, resolve } = Promise.withResolvers<LibvirtStack>();
    const port = libvirtPort(promise);
    const heard: LifecycleEvent[] = [];
    port.onLifecycle((e) => heard.push(e));
    expect(port.healthy()).toBe(false);
    let name: string | null = null;
    const defined = port.defineAndStart("<domain><name>ns_vm1</name></domain>").then((n) => (name = n));
    await Bun.sleep(5);
    expect(calls).toEqual([]);
    resolve(f.stack);
    await defined;
    expect(name!).toBe("ns_vm1");
    expect(calls).toEqual(["define", "start"]);
    expect(port.healthy()).toBe(true);
    f.emit({});
    expect(heard).toEqual([{ domain: "ns_vm1", event: "stopped", detail: "shutdown" }]);
  });

  test("a stack that cannot start fails the calls with its reason; a listener removed before it was up is never attached", async () => {
    const { promise, reject } = Promise.withResolvers<LibvirtStack>();
    const port = libvirtPort(promise);
    const off = port.onLifecycle(() => undefined);
    off();
    const defined = port.defineAndStart("<domain/>");
    reject(new Error("Cannot start libvirt stack: libvirtd exited"));
    await expect(defined).rejects.toThrow("libvirtd exited");
    expect(port.healthy()).toBe(false);
  });
});
