import { vmNetwork4, vmNetwork6 } from "../../network/cidr.ts";
import { macAddressProblem } from "../mac.ts";
import { joinPath, type Problem } from "../problem.ts";
import { bindingsOf, interfaceBindings } from "../v1/interface.ts";
import type { VmiSpec } from "../v1/vmi.ts";

/** Interfaces and networks pair up by name; bindings, MACs, ports and masquerade VM networks are sound. */
export function checkNetworks(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const networks = spec.networks ?? [];
  const netNames = new Set<string>();
  let podNetworks = 0;
  networks.forEach((n, i) => {
    const here = joinPath(joinPath(at, "networks"), i);
    if (netNames.has(n.name)) out.push({ path: joinPath(here, "name"), rule: `network name "${n.name}" is used more than once; network names must be unique` });
    netNames.add(n.name);
    if (n.pod === undefined) out.push({ path: here, rule: `network "${n.name}" has no source; set pod: {}` });
    else podNetworks++;
  });
  if (podNetworks > 1) out.push({ path: joinPath(at, "networks"), rule: "at most one network may be the pod network" });
  const ifaceNames = new Set<string>();
  (spec.domain.devices.interfaces ?? []).forEach((nic, i) => {
    const here = joinPath(joinPath(at, "domain.devices.interfaces"), i);
    if (ifaceNames.has(nic.name)) out.push({ path: joinPath(here, "name"), rule: `interface name "${nic.name}" is used more than once; interface names must be unique` });
    ifaceNames.add(nic.name);
    if (!netNames.has(nic.name)) out.push({ path: joinPath(here, "name"), rule: `interface "${nic.name}" has no network of the same name in networks` });
    const set = bindingsOf(nic);
    if (set.length !== 1) out.push({ path: here, rule: `interface "${nic.name}" must set exactly one binding (${interfaceBindings.join(" or ")}); it sets ${set.length === 0 ? "none" : set.join(" and ")}` });
    const mac = nic.macAddress === undefined ? null : macAddressProblem(nic.macAddress, set.length === 1 ? (set[0] ?? null) : null);
    if (mac !== null) out.push({ path: joinPath(here, "macAddress"), rule: mac });
    if (nic.ports !== undefined && nic.bridge !== undefined) {
      out.push({ path: joinPath(here, "ports"), rule: "ports may only be declared on a masquerade interface" });
    }
    const seen = new Set<string>();
    (nic.ports ?? []).forEach((p, j) => {
      const key = `${p.protocol ?? "TCP"}/${p.port}`;
      if (seen.has(key)) out.push({ path: joinPath(joinPath(joinPath(here, "ports"), j), "port"), rule: `port ${key} is declared more than once` });
      seen.add(key);
    });
  });
  // The VM network a masquerade interface takes (KubeVirt checks it only at launch; the launcher would refuse it).
  const masquerade = new Set((spec.domain.devices.interfaces ?? []).filter((nic) => nic.masquerade !== undefined).map((nic) => nic.name));
  networks.forEach((n, i) => {
    const pod = joinPath(joinPath(joinPath(at, "networks"), i), "pod");
    if (masquerade.has(n.name) && n.pod?.vmNetworkCIDR !== undefined) {
      const v = vmNetwork4(n.pod.vmNetworkCIDR);
      if (typeof v === "string") out.push({ path: joinPath(pod, "vmNetworkCIDR"), rule: v });
    }
    if (masquerade.has(n.name) && n.pod?.vmIPv6NetworkCIDR !== undefined) {
      const v = vmNetwork6(n.pod.vmIPv6NetworkCIDR);
      if (typeof v === "string") out.push({ path: joinPath(pod, "vmIPv6NetworkCIDR"), rule: v });
    }
  });
  networks.forEach((n, i) => {
    if (!ifaceNames.has(n.name)) out.push({ path: joinPath(joinPath(joinPath(at, "networks"), i), "name"), rule: `network "${n.name}" has no interface of the same name` });
  });
  return out;
}
