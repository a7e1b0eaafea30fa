/**
 * hostDisk on the cluster tier's real node (kubelet, containerd, the
 * launcher image): the controller runs with --host-disk-dirs naming one
 * directory; a VMI whose DiskOrCreate host disk lies below it runs, its
 * launcher pod mounts the directory as a hostPath, the file is made there at
 * its capacity for QEMU's user and the guest sees the disk; the webhook
 * refuses a hostDisk below no allowed directory at `kubectl apply`, saying
 * how to allow it, and nothing is made there; deleting the VMI keeps the
 * disk.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { qemuAccount } from "../../src/launcher/state-dir.ts";
import { clusterTier } from "../lib/cluster-node.ts";
import { type E2eCluster, startE2e, until } from "../lib/e2e-cluster.ts";
import { exampleGuestImage, serialLogInLauncher } from "../lib/e2e-target.ts";

const skip = clusterTier("cluster hostDisk");
const MiB = 1024 * 1024;

function vmi(name: string, path: string): string {
  return `apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: ${name}
  namespace: default
spec:
  terminationGracePeriodSeconds: 5
  domain:
    resources:
      requests:
        memory: 128M
    devices:
      autoattachPodInterface: false
      disks:
      - name: root
        disk: {}
      - name: data
        disk: {}
  volumes:
  - name: root
    containerDisk:
      image: ${exampleGuestImage}
  - name: data
    hostDisk:
      path: ${path}
      type: DiskOrCreate
      capacity: 100Mi
`;
}

describe.skipIf(skip !== null)("hostDisk on the test node", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-cluster-hostdisk-"));
  chmodSync(dir, 0o755);
  const allowed = join(dir, "allowed");
  const outside = join(dir, "outside");
  let e: E2eCluster;

  beforeAll(async () => {
    mkdirSync(allowed, { mode: 0o755 });
    mkdirSync(outside, { mode: 0o755 });
    e = await startE2e({ roles: false });
    const controller = e.startRole("controller", [...e.controllerArgs(), "--host-disk-dirs", allowed]);
    const handler = e.startRole("handler", e.handlerArgs());
    for (const p of [controller, handler]) await e.ready(p);
  }, 1_800_000);
  afterAll(async () => {
    await e?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a VMI with a DiskOrCreate host disk below the allowed directory runs; the guest sees the disk bunvirt made there", async () => {
    const file = join(dir, "vmi-hd.yaml");
    const disk = join(allowed, "vm1.img");
    writeFileSync(file, vmi("vmi-hd", disk));
    await e.kubectlOk(["apply", "-f", file]);
    const running = await until("the VMI vmi-hd Running", 300, async () => {
      const v = await e.get("vmi", "vmi-hd");
      return v?.status?.phase === "Running" ? v : null;
    }, async () => `${JSON.stringify((await e.get("vmi", "vmi-hd"))?.status)}\n${await e.logs()}`);
    const pods = JSON.parse(await e.kubectlOk(["get", "pods", "-n", "default", "-l", `kubevirt.io/created-by=${running.metadata.uid}`, "-o", "json"])).items as { metadata: { name: string }; spec: { volumes: { hostPath?: { path: string; type: string } }[] } }[];
    expect(pods).toHaveLength(1);
    const pod = pods[0]!;
    expect(pod.spec.volumes.filter((v) => v.hostPath !== undefined).map((v) => v.hostPath)).toEqual([{ path: allowed, type: "DirectoryOrCreate" }]);
    const serial = await until("the guest's disk sizes on its serial console", 240, async () => {
      const r = await e.kubectl(["exec", "-n", "default", pod.metadata.name, "-c", "compute", "--", "cat", serialLogInLauncher]);
      return /bunvirt-guest: disks (.*)/.exec(r.stdout)?.[1] ?? null;
    }, e.logs);
    expect(serial.trim().split(" ")).toContain(`vdb=${(100 * MiB) / 512}`);
    const made = statSync(disk);
    const qemu = qemuAccount();
    expect([made.size, made.uid, made.gid, made.mode & 0o7777]).toEqual([100 * MiB, qemu.uid, qemu.gid, 0o660]);

    await e.kubectlOk(["delete", "vmi", "vmi-hd", "-n", "default", "--wait=true", "--timeout=120s"]);
    await until("the launcher pod gone", 120, async () => ((JSON.parse(await e.kubectlOk(["get", "pods", "-n", "default", "-o", "json"])).items as unknown[]).length === 0 ? true : null), e.logs);
    // The disk outlives the VM.
    expect(statSync(disk).size).toBe(100 * MiB);
  }, 900_000);

  test("a hostDisk below no allowed directory is refused at kubectl apply, saying how to allow it; nothing is made", async () => {
    const file = join(dir, "vmi-outside.yaml");
    writeFileSync(file, vmi("vmi-outside", join(outside, "vm1.img")));
    const r = await e.kubectl(["apply", "-f", file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.volumes[1].hostDisk.path");
    expect(r.stderr).toContain(`is not below a directory allowed for host disks (allowed: "${allowed}"); allow its directory with the setting host-disk-dirs of ConfigMap bunvirt-config`);
    expect(await e.get("vmi", "vmi-outside")).toBeNull();
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(outside, "vm1.img"))).toBe(false);
  }, 120_000);
});
