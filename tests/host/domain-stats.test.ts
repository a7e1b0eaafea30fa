/**
 * libvirt's domain stats through the launcher's private stack and
 * libvirt-dbus (org.libvirt.Domain.GetStats), on a real QEMU: a machine with
 * a qcow2 disk and an ethernet NIC on a tap libvirt makes. The answer parses
 * into figures that are there and grow (cpu, vCPU time, the disk by its
 * target, the NIC by its tap, the balloon's current size). With
 * BUNVIRT_RECORD_STATS=1 the raw answer is written to
 * tests/fixtures/domain-stats/recorded-answer.json (the parser's unit test reads it).
 *
 *   flock /tmp/bunvirt-host.lock bun test --timeout 600000 ./tests/host/domain-stats.test.ts
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../lib/bunvirt.ts";
import { command, hostTier, root } from "../lib/host.ts";
import { metricsStatsMask, parseDomainStats } from "../../src/launcher/libvirt/domain-stats.ts";
import { startLibvirtStack, type DomainHandle, type LibvirtStack } from "../../src/launcher/libvirt/index.ts";

const reason = hostTier("domain-stats", [
  root,
  command("libvirtd", "libvirt-daemon"),
  command("libvirt-dbus", "libvirt-dbus"),
  command("dbus-daemon", "dbus"),
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("qemu-img", "qemu-utils"),
]);

const DOMAIN = "bunvirt-stats-test";

function domainXml(disk: string): string {
  return `<domain type='qemu'>
  <name>${DOMAIN}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='ethernet'><model type='virtio'/></interface>
    <memballoon model='virtio'/>
  </devices>
</domain>`;
}

describe.skipIf(reason !== null)("domain stats over libvirt-dbus (host)", () => {
  const workDir = reason === null ? mkdtempSync("/tmp/bunvirt-stats-") : "/nonexistent";
  let stack: LibvirtStack | undefined;
  let dom: DomainHandle | undefined;

  afterAll(async () => {
    if (stack !== undefined && dom !== undefined) await stack.client.destroy(dom).catch(() => undefined);
    await stack?.stop().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
    if (reason === null) rmSync(workDir, { recursive: true, force: true });
  });

  test("GetStats answers state, cpu, balloon, vcpu, interface and block figures that grow", async () => {
    chmodSync(workDir, 0o755); // QEMU runs as libvirt-qemu
    const disk = join(workDir, "disk.qcow2");
    const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"]);
    expect(made.exitCode).toBe(0);
    stack = await startLibvirtStack({ stateDir: join(workDir, "stack"), emulation: true, log: () => undefined });
    dom = await stack.client.createXml(domainXml(disk));
    await Bun.sleep(2000);
    const raw1 = await stack.client.getStats(dom, metricsStatsMask);
    await Bun.sleep(1500);
    const raw2 = await stack.client.getStats(dom, metricsStatsMask);
    if (process.env.BUNVIRT_RECORD_STATS === "1") {
      writeFileSync(join(repoRoot, "tests/fixtures/domain-stats/recorded-answer.json"), JSON.stringify(raw2, null, 2) + "\n");
    }
    const [a, b] = [parseDomainStats(raw1), parseDomainStats(raw2)];
    expect(b.state?.state).toBe(1); // running
    expect(b.cpu?.timeNs).toBeGreaterThan(a.cpu!.timeNs!);
    expect(b.vcpus).toHaveLength(1);
    // The guest has nothing to boot: once SeaBIOS gives up, its vCPU halts and stops gathering time (QEMU's own keeps growing).
    expect(a.vcpus[0]!.timeNs!).toBeGreaterThan(0);
    expect(b.vcpus[0]!.timeNs).toBeGreaterThanOrEqual(a.vcpus[0]!.timeNs!);
    expect(b.balloon.currentKiB).toBe(65536);
    expect(b.balloon.rssKiB).toBeGreaterThan(0);
    expect(b.blocks.map((x) => [x.name, x.path])).toEqual([["vda", disk]]);
    // SeaBIOS reads the boot sector.
    expect(b.blocks[0]!.readRequests).toBeGreaterThan(0);
    expect(b.nets).toHaveLength(1);
    expect(b.nets[0]!.name).toMatch(/^vnet\d+$/);
    expect(typeof b.nets[0]!.rxBytes).toBe("number");
  });
});
