/**
 * A network namespace standing in for a pod, for the local run: a veth pair
 * with the pod end as eth0 inside, an address on each end and a default
 * route, as a CNI plugin leaves a pod. The VM is then reachable from the
 * host at the "pod IP".
 */
import { createHash } from "node:crypto";
import { must, remove as removeQuietly } from "../network/exec.ts";

export interface PodNetns {
  name: string;
  podIp: string;
  hostIp: string;
  prefixLength: number;
  /** Removes the namespace and the host end of the veth. */
  remove(): Promise<void>;
}

/** Derives a stable /24 in 10.200.0.0/16 and interface names from the VM's name. */
export function podNetnsPlan(vmName: string): { netns: string; hostVeth: string; subnet: number } {
  const h = createHash("sha256").update(vmName).digest();
  const tag = h.subarray(0, 3).toString("hex");
  return { netns: `bunvirt-${vmName}`.slice(0, 40), hostVeth: `bvh-${tag}`, subnet: 1 + (h[3]! % 250) };
}

export async function createPodNetns(vmName: string): Promise<PodNetns> {
  const plan = podNetnsPlan(vmName);
  const third = plan.subnet;
  const hostIp = `10.200.${third}.1`;
  const podIp = `10.200.${third}.2`;
  const existing = await must(["ip", "netns", "list"]);
  if (existing.split("\n").some((l) => l.split(" ")[0] === plan.netns)) {
    // Left by a run that was killed before it could clean up: nothing runs in it any more.
    const users = (await must(["ip", "netns", "pids", plan.netns])).trim();
    if (users !== "") throw new Error(`Cannot create network namespace "${plan.netns}": another run of "${vmName}" uses it (pids ${users.split("\n").join(", ")})`);
    await removeQuietly(["ip", "netns", "del", plan.netns]);
    await removeQuietly(["ip", "link", "del", plan.hostVeth]);
  }
  const created: (() => Promise<unknown>)[] = [];
  const remove = async (): Promise<void> => {
    for (const undo of created.reverse()) await undo().catch(() => undefined);
    created.length = 0;
  };
  try {
    await must(["ip", "netns", "add", plan.netns]);
    created.push(() => removeQuietly(["ip", "netns", "del", plan.netns]));
    await must(["ip", "link", "add", plan.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", plan.netns]);
    created.push(() => removeQuietly(["ip", "link", "del", plan.hostVeth]));
    await must(["ip", "addr", "add", `${hostIp}/24`, "dev", plan.hostVeth]);
    await must(["ip", "link", "set", plan.hostVeth, "up"]);
    const inNs = (...args: string[]): Promise<unknown> => must(["ip", "-n", plan.netns, ...args]);
    await inNs("link", "set", "lo", "up");
    await inNs("addr", "add", `${podIp}/24`, "dev", "eth0");
    await inNs("link", "set", "eth0", "up");
    await inNs("route", "add", "default", "via", hostIp);
  } catch (e) {
    await remove();
    throw e;
  }
  return { name: plan.netns, podIp, hostIp, prefixLength: 24, remove };
}
