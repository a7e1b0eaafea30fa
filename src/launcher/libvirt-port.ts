/** The runner's LibvirtPort over the private stack's D-Bus client. */
import { metricsStatsMask } from "./libvirt/domain-stats.ts";
import type { LibvirtStack } from "./libvirt/index.ts";
import type { DomainHandle } from "./libvirt/index.ts";
import type { LibvirtPort, LifecycleEvent } from "./vm/ports.ts";

/** virDomainRunningReason / virDomainShutoffReason, the ones a user meets, in words. */
const reasons: Record<string, Record<number, string>> = {
  running: { 0: "unknown", 1: "booted", 2: "migrated", 3: "restored", 5: "unpaused", 10: "wakeup" },
  shutoff: { 0: "unknown", 1: "shutdown", 2: "destroyed", 3: "crashed", 4: "migrated", 5: "saved", 6: "failed" },
  paused: { 0: "unknown", 1: "paused by user", 2: "migrating", 3: "saving", 5: "I/O error", 8: "shutting down", 10: "starting up" },
};

export function libvirtPort(stack: LibvirtStack): LibvirtPort {
  const handles = new Map<string, DomainHandle>();
  const names = new Map<string, string>(); // D-Bus object path -> domain name
  const handle = async (name: string): Promise<DomainHandle> => {
    const known = handles.get(name);
    if (known !== undefined) return known;
    const h = await stack.client.lookupByName(name);
    handles.set(name, h);
    names.set(h.path, name);
    return h;
  };
  return {
    defineAndStart: async (xml) => {
      const h = await stack.client.defineXml(xml);
      handles.set(h.name, h);
      names.set(h.path, h.name);
      await stack.client.start(h);
      return h.name;
    },
    state: async (name) => {
      const s = await stack.client.getState(await handle(name));
      return { state: s.state, reason: reasons[s.state]?.[s.reason] ?? `reason ${s.reason}` };
    },
    stats: async (name) => stack.client.getStats(await handle(name), metricsStatsMask),
    shutdown: async (name) => stack.client.shutdown(await handle(name), { acpi: true }),
    destroy: async (name) => stack.client.destroy(await handle(name)),
    undefine: async (name) => {
      await stack.client.undefine(await handle(name));
      handles.delete(name);
    },
    onLifecycle: (listener) =>
      stack.client.onDomainEvent((e) => {
        const name = names.get(e.path);
        if (name === undefined) return;
        listener({ domain: name, event: e.type.toLowerCase() as LifecycleEvent["event"], detail: e.detail.toLowerCase() });
      }),
    healthy: () => stack.health().ok,
  };
}
