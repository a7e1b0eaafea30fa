/**
 * vCPUs and CPU model. Topology from cpu.sockets/cores/threads (each default
 * 1). Model: host-model, host-passthrough or a named QEMU model; under
 * emulation the host modes are impossible, so TCG's most capable model
 * ("maximum") stands in, and a named model is kept. The Hyper-V enlightened
 * VMCS needs the host CPU's vmx (KubeVirt requires it the same way); under
 * emulation there are no enlightenments.
 */
import type { Configurator } from "../context.ts";
import { hypervState } from "../../api/hyperv-dependencies.ts";
import { el } from "../xml.ts";

export const cpu: Configurator = ({ spec, facts }) => {
  const c = spec.domain.cpu ?? {};
  const sockets = c.sockets ?? 1;
  const cores = c.cores ?? 1;
  const threads = c.threads ?? 1;
  const topology = el("topology", { sockets, dies: 1, cores, threads });
  const model = c.model ?? "host-model";
  const hostMode = model === "host-model" || model === "host-passthrough";
  const hyperv = spec.domain.features?.hyperv;
  const vmx = !facts.emulation && hyperv !== undefined && hypervState(hyperv, "evmcs") === "on" && el("feature", { policy: "require", name: "vmx" });
  let node;
  if (hostMode && facts.emulation) node = el("cpu", { mode: "maximum", check: "none" }, topology);
  else if (hostMode) node = el("cpu", { mode: model, check: "none" }, topology, vmx);
  else node = el("cpu", { mode: "custom", match: "exact", check: "none" }, el("model", { fallback: "allow" }, model), topology, vmx);
  return {
    vcpu: [el("vcpu", { placement: "static" }, sockets * cores * threads)],
    cpu: [node],
  };
};
