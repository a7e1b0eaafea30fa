/**
 * The runner's LibvirtPort over the private stack's D-Bus client. The stack
 * may still be starting: each call waits for it (and fails as its start
 * did), lifecycle listeners are attached once it is up, and it is not
 * healthy until then.
 */
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

export function libvirtPort(starting: Promise<LibvirtStack>): LibvirtPort {
  let up: LibvirtStack | undefined;
  starting.then((st) => (up = st), () => undefined);
  const handles = new Map<string, DomainHandle>();
  const names = new Map<string, string>(); // D-Bus object path -> domain name
  const handle = async (name: string): Promise<DomainHandle> => {
    const known = handles.get(name);
    if (known !== undefined) return known;
    const h = await (await starting).client.lookupByName(name);
    handles.set(name, h);
    names.set(h.path, name);
    return h;
  };
  const client = async (): Promise<LibvirtStack["client"]> => (await starting).client;
  return {
    defineAndStart: async (xml) => {
      const c = await client();
      const h = await c.defineXml(xml);
      handles.set(h.name, h);
      names.set(h.path, h.name);
      await c.start(h);
      return h.name;
    },
    state: async (name) => {
      const s = await (await client()).getState(await handle(name));
      return { state: s.state, reason: reasons[s.state]?.[s.reason] ?? `reason ${s.reason}` };
    },
    stats: async (name) => (await client()).getStats(await handle(name), metricsStatsMask),
    shutdown: async (name) => (await client()).shutdown(await handle(name), { acpi: true }),
    destroy: async (name) => (await client()).destroy(await handle(name)),
    undefine: async (name) => {
      await (await client()).undefine(await handle(name));
      handles.delete(name);
    },
    onLifecycle: (listener) => {
      let off: (() => void) | undefined;
      let removed = false;
      // Attached before any define can happen: the define waits on the same promise, after this.
      starting.then((st) => {
        if (removed) return;
        off = st.client.onDomainEvent((e) => {
          const name = names.get(e.path);
          if (name === undefined) return;
          listener({ domain: name, event: e.type.toLowerCase() as LifecycleEvent["event"], detail: e.detail.toLowerCase() });
        });
      }, () => undefined);
      return () => {
        removed = true;
        off?.();
      };
    },
    healthy: () => up?.health().ok ?? false,
  };
}
