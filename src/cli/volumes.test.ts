import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TempDirs, mountedSecret } from "../../tests/lib/storage.ts";
import { UsageError } from "./usage.ts";
import { parseClaimFlag, parseRegistryLimits, parseSecretFlag, volumesCommand } from "./volumes.ts";

const dirs = new TempDirs();
afterAll(() => dirs.dispose());

const manifest = `apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: cli-vm
  namespace: test
  uid: 11111111-2222-3333-4444-555555555555
spec:
  hostname: cli-host
  domain:
    resources:
      requests:
        memory: 64M
    devices:
      disks:
      - name: data
        disk: {}
      - name: cloudinit
        disk: {}
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: my-claim
  - name: cloudinit
    cloudInitNoCloud:
      secretRef:
        name: my-secret
`;

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await volumesCommand(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

describe("volume flags", () => {
  test("--claim NAME=PATH[:SIZE]", () => {
    expect(parseClaimFlag("c=/claims/c:10Gi")).toEqual({ name: "c", mount: { path: "/claims/c", capacity: 10 * 2 ** 30 } });
    expect(parseClaimFlag("c=/claims/c")).toEqual({ name: "c", mount: { path: "/claims/c" } });
    expect(parseClaimFlag("c=/dev/disk/by-path/pci-0000:00:1f.2")).toEqual({ name: "c", mount: { path: "/dev/disk/by-path/pci-0000:00:1f.2" } });
    expect(parseClaimFlag("c=/a:b:1G")).toEqual({ name: "c", mount: { path: "/a:b", capacity: 1e9 } });
    expect(() => parseClaimFlag("/claims/c")).toThrow(UsageError);
    expect(() => parseClaimFlag("c=")).toThrow("gives no PATH");
    expect(() => parseClaimFlag("c=/x:0")).toThrow("not a positive quantity");
  });

  test("--secret NAME=DIR", () => {
    expect(parseSecretFlag("s=/run/s")).toEqual({ name: "s", dir: "/run/s" });
    expect(() => parseSecretFlag("s=")).toThrow(UsageError);
  });
});

describe("bunvirt volumes", () => {
  test("prepare prints one JSON line per volume; cleanup removes what prepare made", async () => {
    const root = await dirs.make();
    const file = join(root, "vmi.yaml");
    await writeFile(file, manifest);
    await mkdir(join(root, "claims", "my-claim"), { recursive: true });
    const secret = await mountedSecret(join(root, "secret"), { userdata: "#cloud-config\n" });
    const stateDir = join(root, "state", "vm");
    const flags = ["--state-dir", stateDir, "--claim", `my-claim=${join(root, "claims", "my-claim")}:16Mi`, "--secret", `my-secret=${secret}`];
    const prepared = await run(["prepare", file, ...flags]);
    expect(prepared.err).toEqual([]);
    expect(prepared.code).toBe(0);
    expect(prepared.out.map((l) => JSON.parse(l) as unknown)).toEqual([
      { name: "data", kind: "persistentVolumeClaim", path: join(root, "claims", "my-claim", "disk.img"), format: "raw", readOnly: false, block: false, bytesFetched: null, cacheHit: null },
      { name: "cloudinit", kind: "cloudInitNoCloud", path: join(stateDir, "cloudinit.cidata.iso"), format: "raw", readOnly: true, block: false, bytesFetched: null, cacheHit: null },
    ]);
    expect((await stat(join(root, "claims", "my-claim", "disk.img"))).size).toBe(16 * 2 ** 20);
    const again = await run(["prepare", file, ...flags]);
    expect(again.out).toEqual(prepared.out);
    const cleaned = await run(["cleanup", file, "--state-dir", stateDir]);
    expect(cleaned.code).toBe(0);
    expect(cleaned.out.map((l) => JSON.parse(l) as unknown)).toEqual([
      { name: "data", kind: "persistentVolumeClaim", removed: [] },
      { name: "cloudinit", kind: "cloudInitNoCloud", removed: [join(stateDir, "cloudinit.cidata.iso")] },
    ]);
    expect(await readdir(stateDir)).toEqual([]);
    expect((await stat(join(root, "claims", "my-claim", "disk.img"))).size).toBe(16 * 2 ** 20); // the claim stays
  });

  test("a failed prepare says why, names the volume, and leaves no state directory behind", async () => {
    const root = await dirs.make();
    const file = join(root, "vmi.yaml");
    await writeFile(file, manifest);
    await mkdir(join(root, "claims", "my-claim"), { recursive: true });
    const stateDir = join(root, "state", "vm");
    const r = await run(["prepare", file, "--state-dir", stateDir, "--claim", `my-claim=${join(root, "claims", "my-claim")}`]);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toContain('Cannot prepare volume "data": claim "my-claim" holds no disk.img and its capacity is unknown');
    expect(await readdir(root)).toEqual(["claims", "vmi.yaml"]);
    expect(await readdir(join(root, "claims", "my-claim"))).toEqual([]);
  });

  test("an invalid manifest is refused with admission's problems", async () => {
    const root = await dirs.make();
    const file = join(root, "bad.yaml");
    await writeFile(file, manifest.replace("claimName: my-claim", "claimName: my-claim\n    emptyDisk:\n      capacity: 1Gi"));
    const r = await run(["prepare", file, "--state-dir", join(root, "s")]);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toContain("spec.volumes[0]");
  });

  test("usage errors", async () => {
    await expect(volumesCommand(["prepare"], () => undefined, () => undefined)).rejects.toThrow(UsageError);
    await expect(volumesCommand(["frobnicate", "x"], () => undefined, () => undefined)).rejects.toThrow('volumes needs "prepare" or "cleanup"');
    await expect(volumesCommand(["prepare", "x.yaml"], () => undefined, () => undefined)).rejects.toThrow("needs --state-dir DIR");
  });
});

describe("parseRegistryLimits", () => {
  test("seconds and sizes; nothing given leaves the puller's defaults", () => {
    expect(parseRegistryLimits({})).toEqual({});
    expect(parseRegistryLimits({ "registry-timeout": "2.5", "max-disk-size": "100Gi" })).toEqual({ timeoutMs: 2500, maxDiskBytes: 100 * 2 ** 30 });
  });
  test("refuses what is not a positive number of seconds or a size", () => {
    for (const t of ["0", "-1", "abc", "1e3"]) expect(() => parseRegistryLimits({ "registry-timeout": t })).toThrow(`--registry-timeout "${t}" is not a positive number of seconds`);
    expect(() => parseRegistryLimits({ "registry-timeout": "100000" })).toThrow("more than a day");
    for (const s of ["0", "-1Gi", "big", "1e30"]) expect(() => parseRegistryLimits({ "max-disk-size": s })).toThrow(`--max-disk-size must be`);
  });
});
