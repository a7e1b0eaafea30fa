/**
 * The test guest (scripts/guest/): builds it (fast when cached), boots its
 * bootable disk under QEMU/TCG with a cloud-init NoCloud ISO and user-mode
 * networking, and proves what bunvirt's other tests rely on: the serial lines,
 * the TCP service, and ACPI power-off. A second suite pushes the containerDisk
 * image into a private docker-registry on 127.0.0.1 and reads it back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { command, hostTier, root } from "../lib/host.ts";
import { buildGuest } from "./fixtures/guest/build.ts";
import { Console, delay, freePort, qmp, run, runOk, tcpRead } from "./fixtures/guest/qemu.ts";

const REPO = resolve(import.meta.dir, "../..");
const SCRIPTS = join(REPO, "scripts/guest");
const SSH_KEY = "ssh-rsa AAAAB3NzaK8L93bWxnyp test@test.com";
const HOSTNAME = "guest-image-test";
const BUILD_TIMEOUT_MS = 25 * 60_000; // a cold build compiles the guest kernel (~5 min on 2 cores)
const BOOT_TIMEOUT_MS = 5 * 60_000;



const bootSkip = hostTier("guest-image", [
  root,
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("xorrisofs", "xorriso"),
]);

describe.skipIf(bootSkip !== null)("guest image boots under QEMU/TCG", () => {
  let guest = "";
  let work = "";
  let port = 0;
  let sshPort = 0;
  let qemu: ReturnType<typeof Bun.spawn> | null = null;
  let serial: Console;
  let started = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "bunvirt-guest-image-"));
    guest = await buildGuest();

    const cidata = join(work, "cidata");
    await runOk(["mkdir", "-p", cidata]);
    writeFileSync(join(cidata, "user-data"), `#cloud-config\nssh-authorized-keys:\n- ${SSH_KEY}\n`);
    writeFileSync(join(cidata, "meta-data"), `instance-id: guest-image-test\nlocal-hostname: ${HOSTNAME}\n`);
    const iso = join(work, "cidata.iso");
    await runOk(["xorrisofs", "-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", cidata]);

    port = await freePort();
    sshPort = await freePort();
    started = performance.now();
    qemu = Bun.spawn(
      [
        "qemu-system-x86_64",
        "-machine", "q35,accel=tcg",
        "-m", "128",
        "-nodefaults",
        "-display", "none",
        "-serial", "stdio",
        // snapshot=on: the cached image is never written. bootindex: SeaBIOS
        // tries only the first hard disk, whatever order the disks come in.
        "-drive", `if=none,id=boot,file=${join(guest, "disk.img")},format=raw,snapshot=on`,
        "-device", "virtio-blk-pci,drive=boot,bootindex=1",
        "-drive", `file=${iso},if=virtio,format=raw,readonly=on`,
        "-netdev", `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:8080,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
        "-device", "virtio-net-pci,netdev=n0",
        "-qmp", `unix:${join(work, "qmp.sock")},server=on,wait=off`,
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "inherit" },
    );
    serial = new Console(qemu.stdout as ReadableStream<Uint8Array>);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (qemu !== null && qemu.exitCode === null) {
      qemu.kill("SIGKILL");
      await qemu.exited;
    }
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  test("the build is cached and complete", async () => {
    expect(await buildGuest()).toBe(guest);
    for (const f of [".done", "vmlinuz", "initrd.gz", "disk.img", "disk.qcow2", "guest.env"]) {
      expect(await Bun.file(join(guest, f)).exists()).toBe(true);
    }
    // The qcow2 holds the same disk as the raw image.
    await runOk(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", join(guest, "disk.img"), join(guest, "disk.qcow2")]);
  });

  test(
    "boots, reads cidata and the ssh key, gets a lease, says ready",
    async () => {
      await serial.waitFor(/^bunvirt-guest: booted\r?$/m, BOOT_TIMEOUT_MS);
      const booted = performance.now();
      await serial.waitFor(/^bunvirt-guest: ready\r?$/m, BOOT_TIMEOUT_MS);
      const ready = performance.now();
      console.log(
        `guest-image: under TCG, QEMU start -> booted ${((booted - started) / 1000).toFixed(1)} s, -> ready ${((ready - started) / 1000).toFixed(1)} s`,
      );
      const out = serial.text;
      expect(out).toContain("bunvirt-guest: cidata user-data ");
      expect(out).toContain("bunvirt-guest: cidata meta-data ");
      expect(out).toContain("bunvirt-guest: user-data: #cloud-config");
      expect(out).toContain(`bunvirt-guest: ssh-key: ${SSH_KEY}`);
      expect(out).toContain(`bunvirt-guest: hostname ${HOSTNAME}`);
      expect(out).toMatch(
        /^bunvirt-guest: lease 10\.0\.2\.15\/24 router 10\.0\.2\.2 dns 10\.0\.2\.3 mtu 1500\r?$/m,
      );
    },
    BOOT_TIMEOUT_MS * 2,
  );

  test(
    "answers on TCP 8080 and 22 through the user-mode network",
    async () => {
      for (const p of [port, sshPort]) {
        let said = "";
        for (let attempt = 0; attempt < 10 && !said.includes("\n"); attempt++) {
          said = await tcpRead(p, 5000);
          if (!said.includes("\n")) await delay(1000);
        }
        expect(said.trim()).toBe(`bunvirt-guest ${HOSTNAME}`);
      }
    },
    120_000,
  );

  test(
    "powers off on the ACPI power button (QMP system_powerdown)",
    async () => {
      expect(qemu).not.toBeNull();
      await qmp(join(work, "qmp.sock"), ["system_powerdown"]);
      const sent = performance.now();
      const code = await Promise.race([qemu!.exited, delay(30_000).then(() => "timeout" as const)]);
      expect(code).toBe(0);
      console.log(`guest-image: system_powerdown -> QEMU exit ${((performance.now() - sent) / 1000).toFixed(1)} s`);
      expect(serial.text).toContain("bunvirt-guest: powering off");
    },
    60_000,
  );
});

const registrySkip = hostTier("guest-registry", [
  root,
  command("docker-registry", "docker-registry"),
  command("skopeo", "skopeo"),
  command("umoci", "umoci"),
  command("curl", "curl"),
]);

describe.skipIf(registrySkip !== null)("guest containerDisk in a local registry", () => {
  let work = "";
  let env: Record<string, string> = {};
  let guest = "";
  let base = "";

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "bunvirt-guest-registry-"));
    const port = await freePort();
    env = { BUNVIRT_REGISTRY_PORT: String(port), BUNVIRT_REGISTRY_DIR: join(work, "registry") };
    base = `http://127.0.0.1:${port}/v2`;
    guest = await buildGuest();
    const pushed = (await runOk(["bash", join(SCRIPTS, "registry.sh"), "push"], env)).trim().split("\n");
    expect(pushed).toHaveLength(2);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (work !== "") {
      await run(["bash", join(SCRIPTS, "registry.sh"), "stop"], env);
      rmSync(work, { recursive: true, force: true });
    }
  });

  test("start is idempotent and the registry answers /v2/", async () => {
    const pid = readFileSync(join(work, "registry", "registry.pid"), "utf8").trim();
    const again = await run(["bash", join(SCRIPTS, "registry.sh"), "start"], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already running");
    expect(readFileSync(join(work, "registry", "registry.pid"), "utf8").trim()).toBe(pid);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  test("both names hold one layer with /disk/disk.qcow2 owned by 107:107", async () => {
    const version = /^GUEST_VERSION=(.*)$/m.exec(readFileSync(join(guest, "guest.env"), "utf8"))?.[1];
    expect(version).toBeDefined();
    const accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
    const digests: string[] = [];
    for (const [name, tag] of [
      ["bunvirt/guest", version!],
      ["kubevirt/cirros-registry-disk-demo", "devel"],
    ] as const) {
      const res = await fetch(`${base}/${name}/manifests/${tag}`, { headers: { accept } });
      expect(res.status).toBe(200);
      digests.push(res.headers.get("docker-content-digest") ?? "");
      const manifest = (await res.json()) as { layers: Array<{ digest: string }> };
      expect(manifest.layers).toHaveLength(1);
    }
    expect(digests[0]).toBe(digests[1]!);
    expect(digests[0]).toMatch(/^sha256:/);

    const manifest = (await (
      await fetch(`${base}/bunvirt/guest/manifests/${version}`, { headers: { accept } })
    ).json()) as { layers: Array<{ digest: string }> };
    const blob = new Uint8Array(await (await fetch(`${base}/bunvirt/guest/blobs/${manifest.layers[0]!.digest}`)).arrayBuffer());
    const tar = Bun.gunzipSync(blob);
    const entries = readTar(tar);
    expect(entries.map((e) => e.name)).toEqual(["disk/", "disk/disk.qcow2"]);
    for (const e of entries) expect([e.uid, e.gid]).toEqual([107, 107]);
    const disk = entries[1]!;
    const want = createHash("sha256").update(readFileSync(join(guest, "disk.qcow2"))).digest("hex");
    expect(createHash("sha256").update(disk.data).digest("hex")).toBe(want);
  });
});

interface TarEntry {
  name: string;
  uid: number;
  gid: number;
  data: Uint8Array;
}

/** Reads a ustar/pax archive: enough for a layer umoci wrote. */
function readTar(tar: Uint8Array): TarEntry[] {
  const text = (b: Uint8Array): string => new TextDecoder().decode(b).replace(/\0.*$/s, "");
  const octal = (b: Uint8Array): number => parseInt(text(b).trim() || "0", 8);
  const entries: TarEntry[] = [];
  let pax: Record<string, string> = {};
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156]!);
    const prefix = text(h.subarray(345, 500));
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = {};
      for (const rec of new TextDecoder().decode(data).split("\n")) {
        const m = /^\d+ ([^=]+)=(.*)$/.exec(rec);
        if (m) pax[m[1]!] = m[2]!;
      }
      continue;
    }
    if (type === "g") continue;
    const name = pax.path ?? (prefix ? `${prefix}/` : "") + text(h.subarray(0, 100));
    entries.push({
      name,
      uid: pax.uid !== undefined ? Number(pax.uid) : octal(h.subarray(108, 116)),
      gid: pax.gid !== undefined ? Number(pax.gid) : octal(h.subarray(116, 124)),
      data,
    });
    pax = {};
  }
  return entries;
}
