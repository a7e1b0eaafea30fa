/**
 * Dedicated CPUs: vCPU n pinned to the n-th CPU the launcher may use, and
 * with isolateEmulatorThread QEMU's own threads to the CPU after the
 * vCPUs' (KubeVirt's virt-launcher does the same with its pod's cpuset).
 * Too few CPUs for the VM is an error naming the field.
 */
import { DomainError, type Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const cputune: Configurator = ({ spec, facts }) => {
  const c = spec.domain.cpu ?? {};
  if (c.dedicatedCpuPlacement !== true) return {};
  const vcpus = (c.sockets ?? 1) * (c.cores ?? 1) * (c.threads ?? 1);
  const isolate = c.isolateEmulatorThread === true;
  const need = vcpus + (isolate ? 1 : 0);
  const cpus = facts.cpus ?? [];
  if (cpus.length < need) {
    throw new DomainError("spec.domain.cpu.dedicatedCpuPlacement", `needs ${need} host CPUs (${vcpus} vCPUs${isolate ? " and the emulator thread" : ""}); the launcher may use ${cpus.length} (${cpus.join(",") || "none"})`);
  }
  const pins = Array.from({ length: vcpus }, (_, i) => el("vcpupin", { vcpu: i, cpuset: cpus[i]! }));
  const emulator = isolate ? [el("emulatorpin", { cpuset: cpus[vcpus]! })] : [];
  return { cputune: [el("cputune", {}, ...pins, ...emulator)] };
};
