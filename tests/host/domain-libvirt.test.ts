/**
 * Every domain of the corpus is accepted by a real libvirtd (a private stack,
 * /dev/kvm hidden, TCG), and what libvirt keeps (dumpxml) matches what was
 * asked: memory, vCPUs, disks and their targets, interfaces and their MACs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { domainXml } from "../../src/domain/index.ts";
import { startLibvirtStack, type LibvirtStack } from "../../src/launcher/libvirt/index.ts";
import { corpus } from "../fixtures/domain-corpus.ts";
import { command, hostTier, root } from "../lib/host.ts";

const skip = hostTier("domain-libvirt", [root, command("libvirtd", "libvirt-daemon"), command("libvirt-dbus", "libvirt-dbus"), command("dbus-daemon", "dbus")]);

describe.skipIf(skip !== null)("corpus domains in a real libvirtd", () => {
  let stack: LibvirtStack;
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-domain-libvirt-"));
  beforeAll(async () => {
    chmodSync(dir, 0o755);
    stack = await startLibvirtStack({ stateDir: join(dir, "stack"), emulation: true });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // The stack hides /dev/kvm: KVM domains are checked against the schema only (domain-schema.test.ts).
  for (const c of corpus.filter((x) => x.facts.emulation)) {
    test(`${c.name}: defined, read back, undefined`, async () => {
      const h = await stack.client.defineXml(domainXml(c.vmi, c.spec, c.facts));
      try {
        const kept = await stack.client.getXmlDesc(h);
        expect(kept).toContain("<domain type='qemu'");
        expect(kept).toContain(`<memory unit='KiB'>${c.expect.memoryKiB}</memory>`);
        expect(kept).toMatch(new RegExp(`<vcpu placement='static'>${c.expect.vcpus}</vcpu>`));
        // libvirt keeps disks grouped by bus, so compare as sets.
        const targets = [...kept.matchAll(/<target dev='([a-z]+)' bus='([a-z]+)'\/>/g)].map((m) => `${m[1]}:${m[2]}`).sort();
        expect(targets).toEqual(c.expect.disks.map(([t, b]) => `${t}:${b}`).sort());
        const macs = [...kept.matchAll(/<mac address='([0-9a-f:]+)'\/>/g)].map((m) => m[1]);
        for (const mac of c.expect.macs) expect(macs).toContain(mac);
        expect(macs.length).toBe((c.spec.domain.devices.interfaces ?? [{}]).length);
        expect(kept).toContain(`<name>${c.vmi.namespace}_${c.vmi.name}</name>`);
        if (c.spec.domain.devices.tpm !== undefined) expect(kept).toMatch(/<tpm model='tpm-tis'>\s*<backend type='emulator' version='2\.0'/);
      } finally {
        await stack.client.undefine(h, 4 /* VIR_DOMAIN_UNDEFINE_NVRAM */);
      }
    }, 60_000);
  }
});
