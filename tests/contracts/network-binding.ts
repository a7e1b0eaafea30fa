/**
 * The contract every NetworkBinding keeps, as a bun:test suite both
 * bindings run (tests/host/network.test.ts registers it once per binding).
 * The binding runs inside a pod network namespace in a process of its own,
 * so the harness (the host test) provides fresh pods and runs setup and
 * teardown there; each call is a new process, as a launcher restart is.
 *
 * 1. setup builds a tap on the bridge and returns a PreparedInterface
 *    (tap, MAC, the pod's MTU) plus addresses and the DHCP lease;
 * 2. a second setup reuses what exists: same result, namespace unchanged
 *    (but for carrier state, which the kernel settles asynchronously);
 * 3. teardown restores the namespace exactly (addresses, links, routes of
 *    every table, the nftables ruleset, the forwarding sysctls) and removes
 *    the state file; setup works again afterwards;
 * 4. teardown is idempotent, and a no-op when nothing was set up;
 * 5. bad input is refused with a clear error before anything is created;
 *    so are devices it did not make (a tap, a bridge of the same name) and
 *    a setup of another binding or another spec over an existing one.
 *
 * Not a *.test.ts file: the unit tier (bunfig root = src) must not run it.
 */
import { describe, expect, test } from "bun:test";
import type { BindingContext, BindingKind, BindingResult } from "../../src/network/binding.ts";
import { type NamespaceSnapshot, withoutCarrier } from "../../src/network/snapshot.ts";
import type { Interface, Network } from "../../src/network/spec.ts";

/**
 * A fresh pod namespace, as CNI leaves it: `podInterface` with an IPv4 address,
 * MTU and default route, and settled: what the kernel does by itself after a
 * link comes up (its IPv6 link-local address, DAD's tentative flag, their
 * routes) is done before pod() returns, so snapshots differ only by what a
 * binding changed.
 */
export interface ContractPod {
  /** The pod interface's MAC, MTU and IPv4 address ("ADDRESS/PREFIX") before any binding ran. */
  podInterface: { name: string; mac: string; mtu: number; address: string };
  snapshot(): Promise<NamespaceSnapshot>;
  /** Runs the binding's setup in a new process inside the pod; rejects with the binding's error message. */
  setup(kind: BindingKind, nic: Interface, network: Network | undefined, ctx?: Partial<BindingContext>): Promise<BindingResult>;
  teardown(kind: BindingKind, nic: Interface, network: Network | undefined, ctx?: Partial<BindingContext>): Promise<void>;
  /** The state file's text, or null when there is none. */
  state(): string | null;
  /** Runs `ip ARGS...` inside the pod; returns stdout. */
  ip(args: string[]): Promise<string>;
  /** `ip -j -d link show DEV` inside the pod, parsed; null when there is no such device. */
  link(dev: string): Promise<Record<string, unknown> | null>;
}

export interface ContractHarness {
  pod(): Promise<ContractPod>;
}

export interface BadInput {
  what: string;
  nic: Interface;
  network: Network | undefined;
  ctx?: Partial<BindingContext>;
  error: RegExp;
}

export interface BindingContractCase {
  kind: BindingKind;
  nic: Interface;
  network: Network;
  /** Inputs this binding must refuse (the generic ones are added by the contract). */
  badInputs: BadInput[];
  /** Binding-specific checks of the first setup's result. */
  checkResult(result: BindingResult, pod: ContractPod): void;
  /** Test timeout in ms. */
  timeout?: number;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function withoutMac(r: BindingResult): unknown {
  return { ...r, mac: "", dhcp: { ...r.dhcp, lease: { ...r.dhcp.lease, clientMac: "" } } };
}

/**
 * The bad inputs every binding refuses: what admission cannot know (the pod's
 * devices, the launcher's names). Bad specs are admission's (src/api/admission).
 */
function genericBadInputs(c: BindingContractCase): BadInput[] {
  return [
    { what: "a pod interface that does not exist", nic: c.nic, network: c.network, ctx: { podInterface: "eth9" }, error: /pod interface "eth9" does not exist/ },
    { what: "a pod interface without a global IPv4 address", nic: c.nic, network: c.network, ctx: { podInterface: "lo" }, error: /pod interface "lo" has no IPv4 address/ },
    { what: "a tap name longer than 15 characters", nic: c.nic, network: c.network, ctx: { tap: "tap-with-a-long-name" }, error: /tap "tap-with-a-long-name" must be 1 to 15 characters long/ },
    { what: "an existing tap that is not there", nic: c.nic, network: c.network, ctx: { existingTap: true, tap: "nosuchtap" }, error: /tap "nosuchtap" should exist/ },
  ];
}

export function bindingContract(c: BindingContractCase, harness: ContractHarness): void {
  const timeout = c.timeout ?? 30_000;
  describe(`${c.kind} binding keeps the NetworkBinding contract`, () => {
    test(
      "setup: a tap on the bridge, the pod's MTU, a unicast MAC, a DHCP lease for that MAC",
      async () => {
        const pod = await harness.pod();
        const result = await pod.setup(c.kind, c.nic, c.network);
        expect(result.binding).toBe(c.kind);
        expect(result.name).toBe(c.nic.name);
        expect(result.mtu).toBe(pod.podInterface.mtu);
        expect(result.mac).toMatch(MAC);
        expect(parseInt(result.mac.slice(0, 2), 16) & 1).toBe(0);
        expect(result.dhcp.lease.clientMac).toBe(result.mac);
        expect(result.dhcp.lease.mtu).toBe(pod.podInterface.mtu);
        expect(result.dhcp.iface).toBe(result.bridge);
        const tap = await pod.link(result.tap);
        expect(tap).toMatchObject({ master: result.bridge, mtu: pod.podInterface.mtu, linkinfo: { info_kind: "tun", info_data: { type: "tap", user: "root", multi_queue: false } } });
        expect(await pod.link(result.bridge)).toMatchObject({ linkinfo: { info_kind: "bridge" }, mtu: pod.podInterface.mtu });
        expect(pod.state()).not.toBeNull();
        c.checkResult(result, pod);
      },
      timeout,
    );

    test(
      "a second setup in a new process (a launcher restart) reuses everything and returns the same result",
      async () => {
        const pod = await harness.pod();
        const first = await pod.setup(c.kind, c.nic, c.network);
        const afterFirst = withoutCarrier(await pod.snapshot());
        const second = await pod.setup(c.kind, c.nic, c.network);
        expect(second).toEqual(first);
        // Carrier state settles asynchronously after setup; everything else must be untouched.
        expect(withoutCarrier(await pod.snapshot())).toEqual(afterFirst);
      },
      timeout,
    );

    test(
      "a second setup repairs a missing tap and returns the same result",
      async () => {
        const pod = await harness.pod();
        const first = await pod.setup(c.kind, c.nic, c.network);
        expect(await pod.link(first.tap)).not.toBeNull();
        // The tap vanishes behind the binding's back; the next setup makes it again.
        await pod.ip(["link", "del", "dev", first.tap]);
        expect(await pod.setup(c.kind, c.nic, c.network)).toEqual(first);
        expect(await pod.link(first.tap)).toMatchObject({ master: first.bridge, mtu: pod.podInterface.mtu });
      },
      timeout,
    );

    test(
      "teardown restores the namespace exactly; setup works again after it",
      async () => {
        const pod = await harness.pod();
        const before = await pod.snapshot();
        const first = await pod.setup(c.kind, c.nic, c.network);
        await pod.teardown(c.kind, c.nic, c.network);
        expect(await pod.snapshot()).toEqual(before);
        expect(pod.state()).toBeNull();
        const again = await pod.setup(c.kind, c.nic, c.network);
        // A MAC the binding chose at random is chosen anew after a teardown.
        expect(withoutMac(again)).toEqual(withoutMac(first));
        await pod.teardown(c.kind, c.nic, c.network);
        expect(await pod.snapshot()).toEqual(before);
      },
      timeout,
    );

    test(
      "teardown is idempotent, and a no-op when nothing was set up",
      async () => {
        const pod = await harness.pod();
        const before = await pod.snapshot();
        await pod.teardown(c.kind, c.nic, c.network);
        expect(await pod.snapshot()).toEqual(before);
        await pod.setup(c.kind, c.nic, c.network);
        await pod.teardown(c.kind, c.nic, c.network);
        await pod.teardown(c.kind, c.nic, c.network);
        expect(await pod.snapshot()).toEqual(before);
        expect(pod.state()).toBeNull();
      },
      timeout,
    );

    test(
      "devices it did not make are not taken over; a different setup over an existing one is refused",
      async () => {
        const pod = await harness.pod();
        const pristine = await pod.snapshot();
        const refused = async (ctx: Partial<BindingContext> | undefined, nic: Interface, network: Network | undefined, error: RegExp): Promise<void> => {
          // Carrier state may still be settling after an earlier setup; the rest must not move.
          const before = withoutCarrier(await pod.snapshot());
          const state = pod.state();
          const message = await pod.setup(c.kind, nic, network, ctx).then(
            () => "(setup succeeded)",
            (e: unknown) => (e instanceof Error ? e.message : String(e)),
          );
          expect(message).toMatch(error);
          expect(withoutCarrier(await pod.snapshot())).toEqual(before);
          expect(pod.state()).toBe(state);
        };
        await pod.ip(["tuntap", "add", "dev", "tap0", "mode", "tap"]);
        await refused(undefined, c.nic, c.network, /tap "tap0" already exists and was not made by an earlier setup/);
        await pod.ip(["link", "del", "dev", "tap0"]);
        await pod.ip(["link", "add", "k6t-eth0", "type", "bridge"]);
        await refused(undefined, c.nic, c.network, /bridge "k6t-eth0" already exists and was not made by an earlier setup/);
        await pod.ip(["link", "del", "dev", "k6t-eth0"]);

        const first = await pod.setup(c.kind, c.nic, c.network);
        const other: BindingKind = c.kind === "masquerade" ? "bridge" : "masquerade";
        const before = withoutCarrier(await pod.snapshot());
        const message = await pod.setup(other, { name: c.nic.name, [other]: {} }, c.network).then(
          () => "(setup succeeded)",
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
        expect(message).toMatch(new RegExp(`this namespace holds a ${c.kind} binding on "eth0"`));
        expect(withoutCarrier(await pod.snapshot())).toEqual(before);
        await refused(undefined, { ...c.nic, macAddress: "02:00:00:00:00:42" }, c.network, /was set up for other input .* tear it down first/);
        expect(await pod.setup(c.kind, c.nic, c.network)).toEqual(first);
        await pod.teardown(c.kind, c.nic, c.network);
        expect(await pod.snapshot()).toEqual(pristine);
      },
      timeout,
    );

    test(
      "bad input is refused with a clear error before anything is created",
      async () => {
        const pod = await harness.pod();
        const before = await pod.snapshot();
        for (const bad of [...genericBadInputs(c), ...c.badInputs]) {
          let message = "";
          try {
            await pod.setup(c.kind, bad.nic, bad.network, bad.ctx);
            message = "(setup succeeded)";
          } catch (e) {
            message = e instanceof Error ? e.message : String(e);
          }
          expect({ what: bad.what, message }).toEqual({ what: bad.what, message: expect.stringMatching(bad.error) });
          expect({ what: bad.what, message }).toEqual({ what: bad.what, message: expect.stringMatching(new RegExp(`^Cannot set up ${c.kind} binding for interface "`)) });
          expect({ what: bad.what, snapshot: await pod.snapshot() }).toEqual({ what: bad.what, snapshot: before });
          expect({ what: bad.what, state: pod.state() }).toEqual({ what: bad.what, state: null });
        }
      },
      timeout * 2,
    );
  });
}
