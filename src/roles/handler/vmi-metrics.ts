/**
 * The VMIs' figures in KubeVirt's metric names, types, units and label keys
 * (KubeVirt's docs/observability/metrics.md; virt-handler's domainstats):
 * every sample carries namespace, name and node; NICs add `interface` (the
 * VMI's interface name, else the tap), disks `drive` (the VMI's disk name,
 * else the target), vCPUs `id` (and `state` on the time). Only figures
 * libvirt gave are written: without a balloon driver in the guest there is
 * no available/usable/unused memory, and then no used memory either.
 * Times go from nanoseconds to seconds, memory from KiB to bytes. Pure.
 */
import type { Metrics } from "../../health/metrics.ts";
import type { StatsReply } from "../../launcher/command/schema.ts";

export interface VmiLabels {
  namespace: string;
  name: string;
  node: string;
}

const seconds = (ns: number): number => ns / 1e9;
const bytes = (kib: number): number => kib * 1024;

/** virVcpuState in KubeVirt's words. */
const vcpuState = (s: number | undefined): string => (s === 0 ? "offline" : s === 1 ? "running" : s === 2 ? "blocked" : "unknown");

type Kind = "gauge" | "counter";

/** kubevirt_vmi_info for a VMI on this node, whatever its launcher does (KubeVirt's carries more labels: os, workload, flavor, …). */
export function writeVmiInfo(m: Metrics, vmi: VmiLabels, phase: string): void {
  m.set("kubevirt_vmi_info", "Information about VirtualMachineInstances.", 1, { ...vmi, phase: phase.toLowerCase() });
}

export function writeVmiMetrics(m: Metrics, vmi: VmiLabels, s: StatsReply): void {
  const put = (kind: Kind, name: string, help: string, value: number | undefined, extra: Record<string, string> = {}): void => {
    if (value === undefined) return;
    const labels = { ...vmi, ...extra };
    if (kind === "gauge") m.set(name, help, value, labels);
    else m.setCounter(name, help, value, labels);
  };
  const b = s.balloon;
  const kib = (v: number | undefined): number | undefined => (v === undefined ? undefined : bytes(v));
  put("gauge", "kubevirt_vmi_memory_resident_bytes", "Resident set size of the process running the domain.", kib(b.rssKiB));
  put("gauge", "kubevirt_vmi_memory_domain_bytes", "The amount of memory in bytes allocated to the domain.", kib(b.currentKiB));
  put("gauge", "kubevirt_vmi_memory_available_bytes", "Amount of usable memory as seen by the domain.", kib(b.availableKiB));
  put("gauge", "kubevirt_vmi_memory_usable_bytes", "The amount of memory which can be reclaimed by balloon without pushing the guest system to swap.", kib(b.usableKiB));
  put("gauge", "kubevirt_vmi_memory_unused_bytes", "The amount of memory left completely unused by the system.", kib(b.unusedKiB));
  put("gauge", "kubevirt_vmi_memory_cached_bytes", "The amount of memory that is being used to cache I/O and is available to be reclaimed.", kib(b.diskCachesKiB));
  put("gauge", "kubevirt_vmi_memory_used_bytes", "Amount of used memory as seen by the domain (available minus usable).",
    b.availableKiB !== undefined && b.usableKiB !== undefined ? bytes(b.availableKiB - b.usableKiB) : undefined);
  put("gauge", "kubevirt_vmi_memory_swap_in_traffic_bytes", "The total amount of data read from swap space of the guest in bytes.", kib(b.swapInKiB));
  put("gauge", "kubevirt_vmi_memory_swap_out_traffic_bytes", "The total amount of memory written out to swap space of the guest in bytes.", kib(b.swapOutKiB));
  put("counter", "kubevirt_vmi_memory_pgmajfault_total", "The number of page faults when disk IO was required.", b.majorFaults);
  put("counter", "kubevirt_vmi_memory_pgminfault_total", "The number of other page faults, when disk IO was not required.", b.minorFaults);

  const ns = (v: number | undefined): number | undefined => (v === undefined ? undefined : seconds(v));
  put("counter", "kubevirt_vmi_cpu_usage_seconds_total", "Total CPU time spent in all modes (sum of both vcpu and hypervisor usage).", ns(s.cpu?.timeNs));
  put("counter", "kubevirt_vmi_cpu_user_usage_seconds_total", "Total CPU time spent in user mode.", ns(s.cpu?.userNs));
  put("counter", "kubevirt_vmi_cpu_system_usage_seconds_total", "Total CPU time spent in system mode.", ns(s.cpu?.systemNs));
  for (const c of s.vcpus) {
    const id = String(c.id);
    put("counter", "kubevirt_vmi_vcpu_seconds_total", "Total amount of time spent in each state by each vcpu (cpu_time excluding hypervisor time).", ns(c.timeNs), { id, state: vcpuState(c.state) });
    put("counter", "kubevirt_vmi_vcpu_wait_seconds_total", "Amount of time spent by each vcpu while waiting on I/O.", ns(c.waitNs), { id });
    put("counter", "kubevirt_vmi_vcpu_delay_seconds_total", "Amount of time spent by each vcpu waiting in the queue instead of running.", ns(c.delayNs), { id });
  }

  for (const n of s.nets) {
    const l = { interface: n.interface ?? n.name };
    put("counter", "kubevirt_vmi_network_receive_bytes_total", "Total network traffic received in bytes.", n.rxBytes, l);
    put("counter", "kubevirt_vmi_network_transmit_bytes_total", "Total network traffic transmitted in bytes.", n.txBytes, l);
    put("counter", "kubevirt_vmi_network_receive_packets_total", "Total network traffic received packets.", n.rxPackets, l);
    put("counter", "kubevirt_vmi_network_transmit_packets_total", "Total network traffic transmitted packets.", n.txPackets, l);
    put("counter", "kubevirt_vmi_network_receive_errors_total", "Total network received error packets.", n.rxErrors, l);
    put("counter", "kubevirt_vmi_network_transmit_errors_total", "Total network transmitted error packets.", n.txErrors, l);
    put("counter", "kubevirt_vmi_network_receive_packets_dropped_total", "The total number of rx packets dropped on vNIC interfaces.", n.rxDropped, l);
    put("counter", "kubevirt_vmi_network_transmit_packets_dropped_total", "The total number of tx packets dropped on vNIC interfaces.", n.txDropped, l);
  }

  for (const d of s.blocks) {
    const l = { drive: d.drive ?? d.name };
    put("counter", "kubevirt_vmi_storage_read_traffic_bytes_total", "Total number of bytes read from storage.", d.readBytes, l);
    put("counter", "kubevirt_vmi_storage_write_traffic_bytes_total", "Total number of written bytes.", d.writeBytes, l);
    put("counter", "kubevirt_vmi_storage_iops_read_total", "Total number of I/O read operations.", d.readRequests, l);
    put("counter", "kubevirt_vmi_storage_iops_write_total", "Total number of I/O write operations.", d.writeRequests, l);
    put("counter", "kubevirt_vmi_storage_read_times_seconds_total", "Total time spent on read operations.", ns(d.readTimeNs), l);
    put("counter", "kubevirt_vmi_storage_write_times_seconds_total", "Total time spent on write operations.", ns(d.writeTimeNs), l);
    put("counter", "kubevirt_vmi_storage_flush_requests_total", "Total storage flush requests.", d.flushRequests, l);
    put("counter", "kubevirt_vmi_storage_flush_times_seconds_total", "Total time spent on cache flushing.", ns(d.flushTimeNs), l);
  }
}
