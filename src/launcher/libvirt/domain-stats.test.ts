import { expect, test } from "bun:test";
import recorded from "../../../tests/fixtures/domain-stats/recorded-answer.json";
import { metricsStatsMask, parseDomainStats, unwrapStatsAnswer, type RawDomainStats } from "./domain-stats.ts";

test("the mask asks for state, cpu-total, balloon, vcpu, interface and block", () => {
  expect(metricsStatsMask).toBe(1 | 2 | 4 | 8 | 16 | 32);
});

test("a recorded real answer (QEMU without a guest balloon driver) parses into its figures", () => {
  const s = parseDomainStats(recorded as RawDomainStats);
  expect(s.state).toEqual({ state: 1, reason: 1 });
  expect(s.cpu).toEqual({ timeNs: 470000000, userNs: 280000000, systemNs: 190000000 });
  // Only what libvirt had: no available/usable/unused without the guest's balloon driver.
  expect(s.balloon).toEqual({ currentKiB: 65536, maximumKiB: 65536, rssKiB: 43176 });
  expect(s.vcpus).toEqual([{ id: 0, state: 1, timeNs: 180000000, waitNs: 0, delayNs: 32428964 }]);
  expect(s.nets).toEqual([{ name: "vnet0", rxBytes: 90, rxPackets: 1, rxErrors: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0 }]);
  expect(s.blocks).toEqual([{
    name: "vda", path: (recorded as RawDomainStats)["block.0.path"] as string,
    readRequests: 1, readBytes: 512, readTimeNs: 144531, writeRequests: 0, writeBytes: 0, writeTimeNs: 0, flushRequests: 0, flushTimeNs: 0,
  }]);
});

test("an answer with only some groups gives only those figures, never zeros", () => {
  const s = parseDomainStats({ "vcpu.1.time": 5, "net.0.rx.bytes": 7, "block.0.name": "sda" });
  expect(s).toEqual({ balloon: {}, vcpus: [{ id: 1, timeNs: 5 }], nets: [], blocks: [{ name: "sda" }] });
});

test("a net entry without a name is left out; indexes need not be dense", () => {
  const s = parseDomainStats({ "net.0.rx.bytes": 1, "net.2.name": "tap1", "net.2.tx.bytes": 3 });
  expect(s.nets).toEqual([{ name: "tap1", txBytes: 3 }]);
});

test("D-Bus variants (twice wrapped, as libvirt-dbus sends them) and BigInts are unwrapped", () => {
  const v = (signature: string, value: unknown) => ({ signature, value });
  expect(unwrapStatsAnswer({ "cpu.time": v("v", v("t", 12345678901234n)), "net.0.name": v("v", v("s", "tap0")), odd: v("v", v("ai", [1])) }))
    .toEqual({ "cpu.time": 12345678901234, "net.0.name": "tap0" });
  expect(() => unwrapStatsAnswer([1])).toThrow(/not a dictionary/);
});
