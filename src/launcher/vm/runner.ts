/**
 * One VM's lifecycle inside its launcher: sync (prepare storage and network,
 * build the domain, define and start it), graceful shutdown (ACPI, then
 * destroy when the grace period ends), kill, status; when the domain stops,
 * clean up storage and network and report how it ended.
 */
import { applyVmiDefaults } from "../../api/defaults.ts";
import type { VirtualMachineInstance } from "../../api/v1/vmi.ts";
import { deviceNames, domainName, domainXml, type DeviceNames, type LauncherFacts, type VmiIdentity } from "../../domain/index.ts";
import type { StatsReply, StatusReply } from "../command/schema.ts";
import { parseDomainStats } from "../libvirt/domain-stats.ts";
import type { DomainManager } from "../command/command-server.ts";
import { CommandError } from "../command/command-server.ts";
import { exitCodes, outcomeOfStop, type Outcome } from "./outcome.ts";
import { logAbout } from "../../log/logger.ts";
import type { LifecycleEvent, PreparedNetwork, PreparedStorage, RunnerPorts } from "./ports.ts";

/** Facts the launcher gathered before any VMI arrived. */
export type BaseFacts = Omit<LauncherFacts, "volumes" | "interfaces">;

interface Running {
  vmi: VmiIdentity;
  uid: string | undefined;
  domain: string;
  storage: PreparedStorage;
  network: PreparedNetwork;
  startedAt: Date;
  /** libvirt's device names -> the VMI's, for the stats. */
  devices: DeviceNames;
}

export class VmRunner implements DomainManager {
  #running: Running | null = null;
  #graceSeconds = 30;
  #outcome: Outcome | null = null;
  #busy: Promise<unknown> = Promise.resolve();
  #endedResolve!: (o: Outcome) => void;
  /** Resolves once the VM has ended and everything it used is cleaned up. */
  readonly ended: Promise<Outcome>;
  readonly #unsubscribe: () => void;

  constructor(
    private readonly ports: RunnerPorts,
    private readonly facts: BaseFacts,
    private readonly log: (msg: string) => void,
  ) {
    this.ended = new Promise((resolve) => (this.#endedResolve = resolve));
    this.#unsubscribe = ports.libvirt.onLifecycle((e) => void this.#onEvent(e));
  }

  /** Runs one operation at a time. */
  #exclusive<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(op, op);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  sync(vmi: VirtualMachineInstance): Promise<StatusReply> {
    return this.#exclusive(async () => {
      const identity: VmiIdentity = { namespace: vmi.metadata.namespace ?? "default", name: vmi.metadata.name ?? "vmi", ...(vmi.metadata.uid !== undefined ? { uid: vmi.metadata.uid } : {}) };
      if (this.#running !== null) {
        if (this.#running.vmi.name !== identity.name || this.#running.vmi.namespace !== identity.namespace || this.#running.uid !== identity.uid) {
          throw new CommandError(409, `this launcher runs "${this.#running.vmi.namespace}/${this.#running.vmi.name}"; it cannot take "${identity.namespace}/${identity.name}"`);
        }
        return this.#status();
      }
      if (this.#outcome !== null) throw new CommandError(409, `the VM has already ended (${this.#outcome.detail}); a launcher runs one VM once`);
      logAbout(this.log, { kind: "VirtualMachineInstance", ...identity });
      await this.#start(identity, vmi);
      return this.#status();
    });
  }

  async #start(vmi: VmiIdentity, manifest: VirtualMachineInstance): Promise<void> {
    const spec = applyVmiDefaults(manifest.spec);
    this.#graceSeconds = spec.terminationGracePeriodSeconds ?? 30;
    const undo: (() => Promise<void>)[] = [];
    let defining = false;
    try {
      // Storage and network are independent of each other (and of libvirt, which may still be starting): side by side.
      this.log("preparing storage and setting up networking");
      const [s, n] = await Promise.allSettled([this.ports.prepareStorage(spec, vmi), this.ports.setupNetwork(spec, vmi)]);
      if (s.status === "fulfilled") undo.push(() => s.value.cleanup());
      if (n.status === "fulfilled") undo.push(() => n.value.teardown());
      if (s.status === "rejected") throw s.reason;
      if (n.status === "rejected") throw n.reason;
      const storage = s.value;
      const network = n.value;
      this.log("storage and networking ready");
      const xml = domainXml(vmi, spec, {
        ...this.facts,
        volumes: storage.prepared,
        interfaces: network.interfaces,
        ...(storage.kernelBoot !== undefined ? { kernelBoot: storage.kernelBoot } : {}),
      });
      this.log("defining and starting the domain");
      defining = true;
      const domain = await this.ports.libvirt.defineAndStart(xml);
      this.#running = { vmi, uid: vmi.uid, domain, storage, network, startedAt: new Date(), devices: deviceNames(xml) };
      this.log(`domain "${domain}" is running`);
    } catch (e) {
      if (defining) {
        const name = domainName(vmi.namespace, vmi.name);
        await this.ports.libvirt.destroy(name).catch(() => undefined);
        await this.ports.libvirt.undefine(name).catch(() => undefined);
      }
      for (const step of undo.reverse()) await step().catch((err: unknown) => this.log(`cleanup after a failed start: ${(err as Error).message}`));
      this.#finish({ kind: "failed", detail: (e as Error).message });
      throw e;
    }
  }

  async #onEvent(e: LifecycleEvent): Promise<void> {
    const r = this.#running;
    if (r === null || e.domain !== r.domain) return;
    if (e.event === "stopped" || e.event === "crashed") {
      this.#running = null;
      const outcome = e.event === "crashed" ? { kind: "crashed" as const, detail: "the guest crashed" } : outcomeOfStop(e.detail);
      this.log(`domain "${r.domain}" stopped: ${outcome.detail}; cleaning up`);
      // QEMU is gone: the definition, the network and the disks no longer depend on each other.
      await Promise.all([
        this.ports.libvirt.undefine(r.domain).catch((err: unknown) => this.log(`undefine: ${(err as Error).message}`)),
        r.network.teardown().catch((err: unknown) => this.log(`network teardown: ${(err as Error).message}`)),
        r.storage.cleanup().catch((err: unknown) => this.log(`storage cleanup: ${(err as Error).message}`)),
      ]);
      this.#finish(outcome);
    }
  }

  #finish(outcome: Outcome): void {
    if (this.#outcome !== null) return;
    this.#outcome = outcome;
    this.#unsubscribe();
    this.#endedResolve(outcome);
  }

  shutdown(graceSeconds: number): Promise<StatusReply> {
    return this.#exclusive(async () => {
      const r = this.#running;
      if (r === null) {
        if (this.#outcome === null) this.#finish({ kind: "poweroff", detail: "shut down before it started" });
        return this.#status();
      }
      this.log(`asking the guest to shut down (ACPI), ${graceSeconds} s before it is destroyed`);
      await this.ports.libvirt.shutdown(r.domain).catch((e: unknown) => this.log(`ACPI shutdown: ${(e as Error).message}`));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<"grace over">((resolve) => (timer = setTimeout(() => resolve("grace over"), graceSeconds * 1000)));
      const first = await Promise.race([this.ended, graceOver]);
      clearTimeout(timer);
      if (first === "grace over" && this.#running !== null) {
        this.log("grace period over: destroying the domain");
        await this.ports.libvirt.destroy(r.domain);
      }
      await this.ended;
      return this.#status();
    });
  }

  /**
   * The launcher cannot go on (its libvirt stack did not start): ends the
   * runner as failed once an operation in progress has finished (a sync then
   * has undone its storage and network). Nothing runs: no domain could start.
   */
  abandon(detail: string): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#running === null) this.#finish({ kind: "failed", detail });
    });
  }

  kill(): Promise<StatusReply> {
    return this.#exclusive(async () => {
      const r = this.#running;
      if (r !== null) {
        await this.ports.libvirt.destroy(r.domain);
        await this.ended;
      } else if (this.#outcome === null) {
        this.#finish({ kind: "destroyed", detail: "killed before it started" });
      }
      return this.#status();
    });
  }

  status(): Promise<StatusReply> {
    return this.#status();
  }

  /** Not exclusive: a scrape must not wait behind a shutdown's grace period. */
  async stats(): Promise<StatsReply> {
    const r = this.#running;
    if (r === null) throw new CommandError(409, this.#outcome === null ? "no domain runs: no VM synced yet" : `no domain runs: the VM has ended (${this.#outcome.detail})`);
    const s = parseDomainStats(await this.ports.libvirt.stats(r.domain));
    const drive = (name: string): string | undefined => r.devices.drives[name];
    const iface = (name: string): string | undefined => r.devices.interfaces[name];
    return {
      domain: r.domain,
      ...s,
      nets: s.nets.map((n) => ({ ...n, ...(iface(n.name) !== undefined ? { interface: iface(n.name)! } : {}) })),
      blocks: s.blocks.map((b) => ({ ...b, ...(drive(b.name) !== undefined ? { drive: drive(b.name)! } : {}) })),
    };
  }

  async #status(): Promise<StatusReply> {
    const ready = this.ports.libvirt.healthy();
    const r = this.#running;
    if (r === null) {
      return { state: this.#outcome === null ? "absent" : "shutoff", reason: this.#outcome?.detail ?? "no VM synced yet", interfaces: [], ready };
    }
    const s = await this.ports.libvirt.state(r.domain).catch(() => null);
    return {
      state: s?.state ?? "nostate",
      reason: s?.reason ?? "libvirt did not answer",
      domain: r.domain,
      startedAt: r.startedAt.toISOString(),
      interfaces: Object.entries(r.network.interfaces).map(([name, i]) => ({
        name,
        mac: i.mac,
        ipAddresses: i.ipAddresses ?? [],
        ...(i.podInterface !== undefined ? { podInterface: i.podInterface } : {}),
      })),
      ready,
    };
  }

  /** The synced VMI's terminationGracePeriodSeconds (KubeVirt's default, 30, before a sync). */
  get graceSeconds(): number {
    return this.#graceSeconds;
  }

  /** The exit code for the outcome (see outcome.ts). */
  static exitCode(o: Outcome): number {
    return exitCodes[o.kind];
  }
}
