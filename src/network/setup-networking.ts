/**
 * The launcher's entry point: connect every interface of a VMI to the pod
 * network from inside the pod's network namespace (the current one), and
 * start the per-VM DHCP server of each binding in this process.
 *
 * Defaults: the spec goes through applyVmiDefaults first (it is idempotent),
 * so a VMI without interfaces and networks gets the pod network with
 * masquerade, as KubeVirt's autoattachPodInterface does.
 *
 * The spec must have been admitted (src/api/admission): interfaces and
 * networks pair up, one binding each, sound MACs and ports. Only what
 * admission cannot know (the pod's device names) is checked here.
 *
 * One pod network, so at most one interface: the DHCP server binds
 * 0.0.0.0:67 and can run only once per namespace, and the bindings keep
 * their state per pod interface.
 */
import { applyVmiDefaults } from "../api/defaults.ts";
import { derivedMac } from "../api/mac.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { BindingContext, BindingFactory, BindingKind, BindingResult, NetworkBinding } from "./binding.ts";
import { bridgeBinding } from "./bridge/binding.ts";
import { type DhcpLink, type DhcpServer, startDhcpServer } from "./dhcp/index.ts";
import { runAll } from "./exec.ts";
import { masqueradeBinding } from "./masquerade/binding.ts";
import { defaultStateDir } from "./state.ts";
import { bindingOf, contextProblems } from "./validate.ts";

/** The binding factories by kind. */
export const bindings: Record<BindingKind, BindingFactory> = {
  masquerade: masqueradeBinding,
  bridge: bridgeBinding,
};

export interface NetworkingOptions {
  /** Where bindings keep their state across launcher restarts (default "/var/run/bunvirt/network"). */
  stateDir?: string;
  /** The pod's interface (default "eth0"). */
  podInterface?: string;
  /** Default "/etc/resolv.conf". */
  resolvConf?: string;
  /** Host name for the guest when the spec sets none (KubeVirt: the VMI's name). */
  hostname?: string;
  /** "namespace/name" of the VMI: MACs of masquerade interfaces without macAddress are derived from it (stable); random when absent. */
  vmiKey?: string;
  /** Tap device per interface name (default "tap<index>", the index in spec.domain.devices.interfaces). */
  taps?: Record<string, string>;
  /** The taps exist already and are to be used as they are (tests: veth ends). */
  existingTaps?: boolean;
  tapOwner?: number;
  multiQueue?: boolean;
  /** Start the DHCP servers (default true). */
  dhcp?: boolean;
  /** For tests: the DHCP server's link helper and ports. */
  dhcpOptions?: { link?: DhcpLink; port?: number; clientPort?: number };
  log?: (line: string) => void;
}

export interface Networking {
  /** By interface name; each is a PreparedInterface for the domain converter. */
  interfaces: Record<string, BindingResult>;
  /** The DHCP servers started, by interface name. */
  dhcpServers: Record<string, DhcpServer>;
  /** Stops the DHCP servers and tears the bindings down; idempotent. */
  teardown(): Promise<void>;
}

interface Planned {
  binding: NetworkBinding;
  ctx: BindingContext;
}

function plan(spec: VmiSpec, opts: NetworkingOptions): Planned[] {
  const interfaces = spec.domain.devices.interfaces ?? [];
  const networks = spec.networks ?? [];
  const problems: string[] = [];
  const planned: Planned[] = [];
  interfaces.forEach((nic, index) => {
    const network = networks.find((n) => n.name === nic.name);
    const kind = bindingOf(nic);
    if (kind === null) {
      problems.push(`interface "${nic.name}" sets no binding or several; the spec was not admitted`);
      return;
    }
    const ctx: BindingContext = {
      podInterface: opts.podInterface ?? "eth0",
      tap: opts.taps?.[nic.name] ?? `tap${index}`,
      stateDir: opts.stateDir ?? defaultStateDir,
      ...(opts.existingTaps !== undefined ? { existingTap: opts.existingTaps } : {}),
      ...(opts.tapOwner !== undefined ? { tapOwner: opts.tapOwner } : {}),
      ...(opts.multiQueue !== undefined ? { multiQueue: opts.multiQueue } : {}),
      ...(opts.resolvConf !== undefined ? { resolvConf: opts.resolvConf } : {}),
      ...((spec.hostname ?? opts.hostname) !== undefined ? { hostname: spec.hostname ?? opts.hostname } : {}),
      ...(opts.vmiKey !== undefined ? { defaultMac: derivedMac(opts.vmiKey, nic.name) } : {}),
      ...(opts.log !== undefined ? { log: opts.log } : {}),
    };
    problems.push(...contextProblems(ctx));
    planned.push({ binding: bindings[kind](nic, network), ctx });
  });
  if (problems.length > 0) throw new Error(`Cannot set up networking: ${[...new Set(problems)].join("; ")}`);
  return planned;
}

export async function setupNetworking(input: VmiSpec, opts: NetworkingOptions = {}): Promise<Networking> {
  const spec = applyVmiDefaults(input);
  const planned = plan(spec, opts);
  const log = opts.log ?? ((): void => {});
  const interfaces: Record<string, BindingResult> = {};
  const dhcpServers: Record<string, DhcpServer> = {};
  const done: Planned[] = [];

  let stopped: Promise<void> | null = null;
  const teardown = (): Promise<void> => {
    stopped ??= runAll("tear down networking", [
      ...Object.values(dhcpServers).map((s) => () => s.stop()),
      ...[...done].reverse().map((p) => () => p.binding.teardown(p.ctx)),
    ]);
    return stopped;
  };

  try {
    for (const p of planned) {
      done.push(p);
      const result = await p.binding.setup(p.ctx);
      interfaces[result.name] = result;
      if (opts.dhcp !== false) {
        dhcpServers[result.name] = await startDhcpServer(result.dhcp.lease, {
          iface: result.dhcp.iface,
          logger: log,
          ...(opts.dhcpOptions?.link !== undefined ? { link: opts.dhcpOptions.link } : {}),
          ...(opts.dhcpOptions?.port !== undefined ? { port: opts.dhcpOptions.port } : {}),
          ...(opts.dhcpOptions?.clientPort !== undefined ? { clientPort: opts.dhcpOptions.clientPort } : {}),
        });
      }
    }
  } catch (cause) {
    await teardown().catch((e: unknown) => log(`networking: cleanup after failed setup: ${e instanceof Error ? e.message : String(e)}`));
    throw cause;
  }
  return { interfaces, dhcpServers, teardown };
}
