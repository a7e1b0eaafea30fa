/**
 * The small guest kernel (scripts/guest/build-kernel.sh): builds it (fast when
 * cached) and proves that it boots the test guest's busybox initramfs in the
 * memory the example VM gets (64M -> 62 MiB) and in 48 MiB, under QEMU/TCG on
 * q35: the serial lines of docs/guest.md, no warnings, DHCP over virtio-net,
 * the cidata ISO on virtio-blk, a TCP answer, and ACPI power-off on QMP
 * system_powerdown. Also boots a copy of the guest's bootable disk.img with
 * the small kernel through SeaBIOS + SYSLINUX, the containerDisk path.
 *
 * The initramfs is the guest's initrd.gz (scripts/guest/build.sh) without the
 * Debian kernel modules: the small kernel has no module support and has
 * everything built in, so the .ko files would only cost memory and print one
 * "warning: insmod ... failed" line each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { command, hostTier, root } from "../lib/host.ts";
import { buildGuest } from "./fixtures/guest/build.ts";
import { Console, delay, freePort, qmp, runOk, tcpRead } from "./fixtures/guest/qemu.ts";

const REPO = resolve(import.meta.dir, "../..");
const SCRIPTS = join(REPO, "scripts/guest");
const SSH_KEY = "ssh-rsa AAAAB3NzaK8L93bWxnyp test@test.com";
const HOSTNAME = "guest-kernel-test";
// A cold kernel build is ~5 min on 2 cores; the guest build ~15 s.
const BUILD_TIMEOUT_MS = 25 * 60_000;
const BOOT_TIMEOUT_MS = 3 * 60_000;
const POWEROFF_TIMEOUT_MS = 30_000;



function readEnv(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  return env;
}


/** Start LBA (sectors) of the first MBR partition of a disk image. */
function firstPartitionOffset(image: string): number {
  const mbr = new Uint8Array(512);
  const fd = openSync(image, "r");
  try {
    readSync(fd, mbr, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (mbr[510] !== 0x55 || mbr[511] !== 0xaa) throw new Error(`Cannot find an MBR in '${image}'`);
  const lba = new DataView(mbr.buffer).getUint32(446 + 8, true);
  if (lba === 0) throw new Error(`Cannot find a first partition in '${image}'`);
  return lba * 512;
}

const skip = hostTier("guest-kernel", [
  root,
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("xorrisofs", "xorriso"),
  command("cpio", "cpio"),
  command("mcopy", "mtools"),
]);

describe.skipIf(skip !== null)("small guest kernel boots in 62 and 48 MiB under QEMU/TCG", () => {
  let work = "";
  let kernelDir = "";
  let kernelEnv: Record<string, string> = {};
  let guest = "";
  let initrd = "";
  let iso = "";
  let disk = "";
  const qemus = new Set<ReturnType<typeof Bun.spawn>>();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "bunvirt-guest-kernel-"));
    guest = await buildGuest("build.sh");
    kernelDir = await buildGuest("build-kernel.sh");
    kernelEnv = readEnv(join(kernelDir, "kernel.env"));

    // The guest's initramfs without kernel modules (none to load: all built in).
    const tree = join(work, "initramfs");
    mkdirSync(tree);
    initrd = join(work, "initrd.gz");
    await runOk([
      "bash",
      "-euo",
      "pipefail",
      "-c",
      'cd "$1" && gzip -dc "$2" | cpio -id --quiet && rm -f lib/modules/*.ko && : >lib/modules/load-order && ' +
        'find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null --create --format=newc --owner=0:0 --quiet | gzip -9 -n >"$3"',
      "initramfs",
      tree,
      join(guest, "initrd.gz"),
      initrd,
    ]);

    const cidata = join(work, "cidata");
    mkdirSync(cidata);
    writeFileSync(join(cidata, "user-data"), `#cloud-config\nssh-authorized-keys:\n- ${SSH_KEY}\n`);
    writeFileSync(join(cidata, "meta-data"), `instance-id: guest-kernel-test\nlocal-hostname: ${HOSTNAME}\n`);
    iso = join(work, "cidata.iso");
    await runOk(["xorrisofs", "-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", cidata]);

    // The bootable disk with the small kernel and the module-free initramfs:
    // what build.sh makes once it uses build-kernel.sh.
    disk = join(work, "disk.img");
    await runOk(["cp", "--sparse=always", join(guest, "disk.img"), disk]);
    const fat = `${disk}@@${firstPartitionOffset(disk)}`;
    for (const [src, dst] of [
      [join(kernelDir, "bzImage"), "::/vmlinuz"],
      [initrd, "::/initrd.gz"],
    ] as const) {
      const r = Bun.spawnSync(["mcopy", "-o", "-i", fat, src, dst], { env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
      if (r.exitCode !== 0) throw new Error(`Cannot mcopy '${src}' to '${dst}' in '${disk}': ${r.stderr.toString()}`);
    }
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const q of qemus) {
      if (q.exitCode === null) {
        q.kill("SIGKILL");
        await q.exited;
      }
    }
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  /**
   * Boots QEMU with `boot` (kernel or disk arguments), waits for the guest's
   * lines, optionally reads the TCP service, presses the power button and
   * expects QEMU to exit 0.
   */
  async function bootAndPowerOff(name: string, memMiB: number, boot: string[], checkTcp: boolean): Promise<void> {
    const qmpSock = join(work, `${name}.qmp`);
    const port = await freePort();
    const started = performance.now();
    const qemu = Bun.spawn(
      [
        "qemu-system-x86_64",
        "-machine", "q35,accel=tcg",
        "-m", String(memMiB),
        "-nodefaults",
        "-display", "none",
        "-serial", "stdio",
        ...boot,
        "-drive", `file=${iso},if=virtio,format=raw,readonly=on`,
        "-netdev", `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:8080`,
        "-device", "virtio-net-pci,netdev=n0",
        "-qmp", `unix:${qmpSock},server=on,wait=off`,
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    qemus.add(qemu);
    const serial = new Console(qemu.stdout as ReadableStream<Uint8Array>);
    const stderr = new Response(qemu.stderr).text();

    await serial.waitFor(/^bunvirt-guest: booted\r?$/m, BOOT_TIMEOUT_MS);
    const booted = performance.now();
    await serial.waitFor(/^bunvirt-guest: ready\r?$/m, BOOT_TIMEOUT_MS);
    const ready = performance.now();
    console.log(
      `guest-kernel: ${name}: -m ${memMiB}, under TCG, QEMU start -> booted ${((booted - started) / 1000).toFixed(1)} s, -> ready ${((ready - started) / 1000).toFixed(1)} s`,
    );

    const out = serial.text;
    const release = (kernelEnv.KERNEL_RELEASE ?? "?").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    expect(out).toMatch(new RegExp(`^bunvirt-guest: kernel ${release}\\r?$`, "m"));
    expect(out).toMatch(/^bunvirt-guest: cidata device \/dev\/vd[a-z]\r?$/m);
    expect(out).toContain(`bunvirt-guest: ssh-key: ${SSH_KEY}`);
    expect(out).toContain(`bunvirt-guest: hostname ${HOSTNAME}`);
    expect(out).toMatch(/^bunvirt-guest: lease 10\.0\.2\.15\/24 router 10\.0\.2\.2 dns 10\.0\.2\.3 mtu 1500\r?$/m);
    // No module warnings, acpid started, both ports listen.
    expect(out).not.toContain("bunvirt-guest: warning");

    if (checkTcp) {
      let said = "";
      for (let attempt = 0; attempt < 10 && !said.includes("\n"); attempt++) {
        said = await tcpRead(port, 5000);
        if (!said.includes("\n")) await delay(1000);
      }
      expect(said.trim()).toBe(`bunvirt-guest ${HOSTNAME}`);
    }

    await qmp(qmpSock, ["system_powerdown"]);
    const sent = performance.now();
    const code = await Promise.race([qemu.exited, delay(POWEROFF_TIMEOUT_MS).then(() => "timeout" as const)]);
    if (code !== 0) throw new Error(`QEMU did not power off cleanly (${code}); stderr: ${await stderr}; console:\n${serial.text}`);
    console.log(`guest-kernel: ${name}: system_powerdown -> QEMU exit ${((performance.now() - sent) / 1000).toFixed(1)} s`);
    expect(serial.text).toContain("bunvirt-guest: powering off");
  }

  test("the build is cached, complete and module-free", async () => {
    const t0 = performance.now();
    expect(await buildGuest("build-kernel.sh")).toBe(kernelDir);
    expect(performance.now() - t0).toBeLessThan(5000);
    for (const f of [".done", "bzImage", "config", "kernel.env", "SHA256SUMS"]) {
      expect(await Bun.file(join(kernelDir, f)).exists()).toBe(true);
    }
    expect(kernelDir).toContain(`/kernel-${kernelEnv.KERNEL_SOURCE_VERSION}-${kernelEnv.KERNEL_CONFIG_HASH}`);
    const config = readFileSync(join(kernelDir, "config"), "utf8");
    expect(config).toContain("# CONFIG_MODULES is not set");
    for (const opt of ["VIRTIO_BLK", "VIRTIO_NET", "SCSI_VIRTIO", "SATA_AHCI", "BLK_DEV_SR", "ISO9660_FS", "ACPI_BUTTON", "INPUT_EVDEV", "PACKET", "SMP"]) {
      expect(config).toContain(`\nCONFIG_${opt}=y\n`);
    }
    // Small: Debian's generic vmlinuz is ~8 MB.
    const size = Bun.file(join(kernelDir, "bzImage")).size;
    console.log(`guest-kernel: ${kernelEnv.KERNEL_RELEASE} bzImage ${size} bytes (${kernelDir})`);
    expect(size).toBeLessThan(4 * 1024 * 1024);
  });

  test(
    "direct kernel boot in 62 MiB (the example's 64M): lines, TCP, power button",
    async () => {
      await bootAndPowerOff(
        "kernel-62",
        62,
        ["-kernel", join(kernelDir, "bzImage"), "-initrd", initrd, "-append", "console=ttyS0 quiet"],
        true,
      );
    },
    BOOT_TIMEOUT_MS * 2 + POWEROFF_TIMEOUT_MS,
  );

  test(
    "direct kernel boot in 48 MiB",
    async () => {
      await bootAndPowerOff(
        "kernel-48",
        48,
        ["-kernel", join(kernelDir, "bzImage"), "-initrd", initrd, "-append", "console=ttyS0 quiet"],
        false,
      );
    },
    BOOT_TIMEOUT_MS * 2 + POWEROFF_TIMEOUT_MS,
  );

  test(
    "disk.img with the small kernel boots in 62 MiB through SeaBIOS + SYSLINUX",
    async () => {
      await bootAndPowerOff(
        "disk-62",
        62,
        [
          "-drive", `if=none,id=boot,file=${disk},format=raw,snapshot=on`,
          "-device", "virtio-blk-pci,drive=boot,bootindex=1",
        ],
        false,
      );
    },
    BOOT_TIMEOUT_MS * 2 + POWEROFF_TIMEOUT_MS,
  );
});
