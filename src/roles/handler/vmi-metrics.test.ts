import { describe, expect, test } from "bun:test";
import recorded from "../../../tests/fixtures/domain-stats/recorded-answer.json";
import { parseExposition, samplesOf } from "../../../tests/lib/prometheus-text.ts";
import { Metrics } from "../../health/metrics.ts";
import type { StatsReply } from "../../launcher/command/schema.ts";
import { parseDomainStats, type RawDomainStats } from "../../launcher/libvirt/domain-stats.ts";
import { writeVmiInfo, writeVmiMetrics } from "./vmi-metrics.ts";

const vmi = { namespace: "default", name: "testvm", node: "node-1" };
const parsed = parseDomainStats(recorded as RawDomainStats);
/** The recorded answer as the launcher sends it: devices also by the VMI's names. */
const reply: StatsReply = {
  domain: "default_testvm",
  ...parsed,
  nets: parsed.nets.map((n) => ({ ...n, interface: "default" })),
  blocks: parsed.blocks.map((b) => ({ ...b, drive: "containerdisk" })),
};

function exposition(write: (m: Metrics) => void): ReturnType<typeof parseExposition> {
  const m = new Metrics();
  write(m);
  return parseExposition(m.render());
}

describe("a VMI's figures in KubeVirt's names", () => {
  test("the recorded answer: units converted, labels namespace/name/node plus interface, drive, id/state", () => {
    const e = exposition((m) => writeVmiMetrics(m, vmi, reply));
    const one = (name: string, extra: Record<string, string> = {}): number => {
      const s = samplesOf(e, name, { ...vmi, ...extra });
      expect(s).toHaveLength(1);
      return s[0]!.value;
    };
    expect(one("kubevirt_vmi_memory_resident_bytes")).toBe(43176 * 1024);
    expect(one("kubevirt_vmi_memory_domain_bytes")).toBe(65536 * 1024);
    expect(one("kubevirt_vmi_cpu_usage_seconds_total")).toBe(0.47);
    expect(one("kubevirt_vmi_vcpu_seconds_total", { id: "0", state: "running" })).toBe(0.18);
    expect(one("kubevirt_vmi_vcpu_wait_seconds_total", { id: "0" })).toBe(0);
    expect(one("kubevirt_vmi_vcpu_delay_seconds_total", { id: "0" })).toBe(0.032428964);
    expect(one("kubevirt_vmi_network_receive_bytes_total", { interface: "default" })).toBe(90);
    expect(one("kubevirt_vmi_network_receive_packets_total", { interface: "default" })).toBe(1);
    expect(one("kubevirt_vmi_network_transmit_packets_dropped_total", { interface: "default" })).toBe(0);
    expect(one("kubevirt_vmi_storage_read_traffic_bytes_total", { drive: "containerdisk" })).toBe(512);
    expect(one("kubevirt_vmi_storage_iops_read_total", { drive: "containerdisk" })).toBe(1);
    expect(one("kubevirt_vmi_storage_read_times_seconds_total", { drive: "containerdisk" })).toBe(0.000144531);
    expect(e.types.get("kubevirt_vmi_memory_resident_bytes")).toBe("gauge");
    expect(e.types.get("kubevirt_vmi_network_receive_bytes_total")).toBe("counter");
    // No balloon driver in that guest: these are absent, not zero.
    for (const absent of ["kubevirt_vmi_memory_available_bytes", "kubevirt_vmi_memory_usable_bytes", "kubevirt_vmi_memory_used_bytes", "kubevirt_vmi_memory_unused_bytes"]) {
      expect(e.types.has(absent)).toBe(false);
    }
  });

  test("with the guest's balloon figures, used = available - usable; devices without VMI names keep libvirt's", () => {
    const withBalloon: StatsReply = { ...reply, balloon: { ...reply.balloon, availableKiB: 1000, usableKiB: 600, unusedKiB: 500 }, nets: [{ name: "vnet7", rxBytes: 1 }], blocks: [{ name: "vdb", readBytes: 2 }] };
    const e = exposition((m) => writeVmiMetrics(m, vmi, withBalloon));
    expect(samplesOf(e, "kubevirt_vmi_memory_used_bytes")[0]!.value).toBe(400 * 1024);
    expect(samplesOf(e, "kubevirt_vmi_memory_available_bytes")[0]!.value).toBe(1000 * 1024);
    expect(samplesOf(e, "kubevirt_vmi_network_receive_bytes_total")[0]!.labels.interface).toBe("vnet7");
    expect(samplesOf(e, "kubevirt_vmi_storage_read_traffic_bytes_total")[0]!.labels.drive).toBe("vdb");
  });

  test("two VMIs, one with a hostile name: each family once, label values escaped", () => {
    const other = { namespace: "ns", name: 'we"ird\\name\n', node: "node-1" };
    const e = exposition((m) => {
      writeVmiMetrics(m, vmi, reply);
      writeVmiMetrics(m, other, reply);
    });
    expect(samplesOf(e, "kubevirt_vmi_vcpu_seconds_total").map((s) => s.labels.name)).toEqual(["testvm", 'we"ird\\name\n']);
  });
});

test("kubevirt_vmi_info: 1 per VMI, its phase in lower case as KubeVirt writes it", () => {
  const m = new Metrics();
  writeVmiInfo(m, vmi, "Running");
  writeVmiInfo(m, { ...vmi, name: "other" }, "Scheduled");
  expect(samplesOf(parseExposition(m.render()), "kubevirt_vmi_info").map((s) => [s.labels.name, s.labels.phase, s.value])).toEqual([["testvm", "running", 1], ["other", "scheduled", 1]]);
});
