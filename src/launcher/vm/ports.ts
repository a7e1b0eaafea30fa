/**
 * What the VM runner needs from the world, as interfaces: libvirt (over
 * D-Bus in production), storage providers, network bindings. The runner
 * itself only sequences them, so it can be read as the lifecycle it is.
 */
import type { VmiSpec } from "../../api/v1/vmi.ts";
import type { PreparedInterface, PreparedVolume, VmiIdentity } from "../../domain/index.ts";
import type { RawDomainStats } from "../libvirt/domain-stats.ts";

export type LibvirtState = "nostate" | "running" | "blocked" | "paused" | "shutdown" | "shutoff" | "crashed" | "pmsuspended";

/** A domain lifecycle event, as libvirt reports it. */
export interface LifecycleEvent {
  domain: string;
  event: "defined" | "undefined" | "started" | "suspended" | "resumed" | "stopped" | "shutdown" | "pmsuspended" | "crashed";
  /** libvirt's detail, in words where known (e.g. "shutdown", "destroyed", "crashed", "failed"). */
  detail: string;
}

export interface LibvirtPort {
  /** Defines and starts; returns the domain name. */
  defineAndStart(xml: string): Promise<string>;
  state(domain: string): Promise<{ state: LibvirtState; reason: string } | null>;
  /** ACPI power button. */
  shutdown(domain: string): Promise<void>;
  destroy(domain: string): Promise<void>;
  undefine(domain: string): Promise<void>;
  /** libvirt's stats of the domain (state, cpu, balloon, vcpu, interface, block), flat as libvirt gives them. */
  stats(domain: string): Promise<RawDomainStats>;
  onLifecycle(listener: (e: LifecycleEvent) => void): () => void;
  /** libvirt and its helpers are up. */
  healthy(): boolean;
}

export interface PreparedStorage {
  prepared: Record<string, PreparedVolume>;
  /** Kernel and initrd taken from kernelBoot.container, when the VMI boots that way. */
  kernelBoot?: { kernel: string; initrd?: string };
  cleanup(): Promise<void>;
}

export interface PreparedNetwork {
  /** Each interface; `ipAddresses`: what the VMI's status reports (src/network/vmi-addresses.ts). */
  interfaces: Record<string, PreparedInterface & { ipAddresses?: string[]; podInterface?: string }>;
  teardown(): Promise<void>;
}

export interface RunnerPorts {
  libvirt: LibvirtPort;
  prepareStorage(spec: VmiSpec, vmi: VmiIdentity): Promise<PreparedStorage>;
  setupNetwork(spec: VmiSpec, vmi: VmiIdentity): Promise<PreparedNetwork>;
}
