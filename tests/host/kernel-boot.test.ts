/**
 * kernelBoot from a container image on real parts: an OCI image holding the
 * guest kernel and initrd under /boot is pushed to a real registry; `bunvirt
 * run` takes both files from it and boots them directly (no boot disk), with
 * the cloud-init disk beside, in 64M.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { podNetnsPlan } from "../../src/local/pod-netns.ts";
import { command, hostTier, root } from "../lib/host.ts";
import { buildGuest } from "./fixtures/guest/build.ts";
import { buildOciImage, pushWithSkopeo } from "./fixtures/registry/images.ts";
import { startRegistry, type RunningRegistry } from "./fixtures/registry/registry.ts";
import { leftovers, startRun } from "./fixtures/run/local-run.ts";

const skip = hostTier("kernel-boot", [root, command("libvirtd", "libvirt-daemon"), command("qemu-system-x86_64", "qemu-system-x86"), command("docker-registry", "docker-registry"), command("umoci", "umoci"), command("skopeo", "skopeo")]);

describe.skipIf(skip !== null)("kernelBoot.container under bunvirt run", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-kernel-boot-"));
  chmodSync(dir, 0o755);
  let registry: RunningRegistry;

  beforeAll(async () => {
    const guest = await buildGuest("build.sh");
    registry = await startRegistry();
    const layout = join(dir, "oci");
    await buildOciImage(layout, "1", [{ add: { "/boot/vmlinuz": join(guest, "vmlinuz"), "/boot/initrd.gz": join(guest, "initrd.gz") } }]);
    await pushWithSkopeo(layout, "1", `${registry.host}/bunvirt/kernel:1`);
  }, 30 * 60_000);
  afterAll(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the kernel and initrd come from the image; the guest boots from them and reads its cloud-init disk", async () => {
    const manifest = join(dir, "vmi.yaml");
    writeFileSync(
      manifest,
      `apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: kboot
spec:
  terminationGracePeriodSeconds: 30
  domain:
    resources:
      requests:
        memory: 64M
    firmware:
      kernelBoot:
        kernelArgs: console=ttyS0 quiet
        container:
          image: bunvirt/kernel:1
          kernelPath: /boot/vmlinuz
          initrdPath: /boot/initrd.gz
    devices:
      disks:
      - name: cloudinit
        disk: {}
  volumes:
  - name: cloudinit
    cloudInitNoCloud:
      userData: |
        ssh_authorized_keys:
        - ssh-ed25519 AAAAC3kernelboot test@kernel-boot
`,
    );
    const stateDir = join(dir, "state");
    const run = startRun([manifest, "--emulation", "--registry", registry.host, "--insecure-registry", registry.host, "--state-dir", stateDir], join(dir, "console.log"));
    try {
      await run.waitForConsole(/bunvirt-guest: ready/, 120_000);
      expect(run.console()).toContain("bunvirt-guest: kernel 6.1.176-bunvirt");
      expect(run.console()).toContain("bunvirt-guest: ssh-key: ssh-ed25519 AAAAC3kernelboot test@kernel-boot");
      expect(run.console()).not.toContain("SYSLINUX"); // direct kernel boot: no boot loader ran
      expect(run.log()).toContain("took the kernel from the image");
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      expect(leftovers(stateDir, podNetnsPlan("kboot").netns)).toEqual([]);
    } finally {
      run.proc.kill("SIGKILL");
    }
  }, 300_000);
});
