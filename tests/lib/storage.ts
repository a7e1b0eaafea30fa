/**
 * Test helpers for the providers (unit tier beside the code, and the host
 * tier): temporary directories that are all removed at the end, contexts,
 * volumes, mounted-Secret directories laid out as kubelet does, and the
 * contract fixtures of the providers that need no external tool.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContractFixtures } from "../contracts/storage-provider.ts";
import type { ClaimMount, StorageLog, Volume, VolumeContext } from "../../src/storage/provider.ts";

/** Temporary directories made during a suite, removed by `dispose`. */
export class TempDirs {
  private readonly made: string[] = [];

  async make(prefix = "bunvirt-storage-"): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.made.push(dir);
    return dir;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** A log that keeps every line, to prove what was (not) logged. */
export function recordingLog(): StorageLog & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (message: string, fields?: Readonly<Record<string, string | number | boolean>>): void => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, info: put("info"), warn: put("warn") };
}

export interface ContextParts {
  stateDir: string;
  claims?: Record<string, ClaimMount>;
  secrets?: Record<string, string>;
  registry?: VolumeContext["registry"];
  vmi?: VolumeContext["vmi"];
  log?: StorageLog;
}

export function contextOf(parts: ContextParts): VolumeContext {
  return {
    stateDir: parts.stateDir,
    claims: parts.claims ?? {},
    secrets: parts.secrets ?? {},
    ...(parts.registry !== undefined ? { registry: parts.registry } : {}),
    vmi: parts.vmi ?? { namespace: "default", name: "testvm", uid: "6b2c7d4e-0000-4000-8000-000000000001" },
    log: parts.log ?? recordingLog(),
  };
}

/**
 * A Secret directory as kubelet mounts it: the data in a timestamped
 * directory, "..data" a symlink to it, each key a symlink to "..data/KEY".
 */
export async function mountedSecret(dir: string, data: Readonly<Record<string, string | Uint8Array>>): Promise<string> {
  const stamp = "..2025_01_01_00_00_00.000000001";
  await mkdir(join(dir, stamp), { recursive: true });
  for (const [key, value] of Object.entries(data)) await writeFile(join(dir, stamp, key), value);
  await symlink(stamp, join(dir, "..data"));
  for (const key of Object.keys(data)) await symlink(join("..data", key), join(dir, key));
  return dir;
}

/** A minimal qcow2 v3 header (enough for format detection), optionally naming a backing file. */
export function qcow2Header(virtualSize: number, backing?: string): Uint8Array {
  const bytes = new Uint8Array(4096);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x514649fb);
  view.setUint32(4, 3);
  if (backing !== undefined) {
    const name = new TextEncoder().encode(backing);
    view.setBigUint64(8, 1024n);
    view.setUint32(16, name.length);
    bytes.set(name, 1024);
  }
  view.setUint32(20, 16);
  view.setBigUint64(24, BigInt(virtualSize));
  view.setUint32(100, 104);
  return bytes;
}

const MiB = 1024 * 1024;
/** A size no ext4 file can have (its limit is 16 TiB): truncating to it fails part-way with EFBIG. */
export const tooLargeForExt4 = 64 * 1024 * 1024 * MiB;

/** True when the temp directory's file system refuses a file of `tooLargeForExt4` (so a create can be made to fail part-way). */
export function tempFsRefusesHugeFiles(): boolean {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-probe-"));
  try {
    const fd = openSync(join(dir, "probe"), "w");
    try {
      ftruncateSync(fd, tooLargeForExt4);
      return false;
    } catch {
      return true;
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Contract fixtures of persistentVolumeClaim in filesystem mode (no external tool needed). */
export function pvcFixtures(dirs: TempDirs): ContractFixtures {
  const base = async (claimName = "data"): Promise<{ stateDir: string; claimDir: string; claimName: string }> => {
    const root = await dirs.make("bunvirt-pvc-");
    const stateDir = join(root, "state");
    const claimDir = join(root, "claims", claimName);
    await mkdir(stateDir, { recursive: true });
    await mkdir(claimDir, { recursive: true });
    return { stateDir, claimDir, claimName };
  };
  const volume = (claimName: string, readOnly?: boolean): Volume => ({
    name: "datadisk",
    persistentVolumeClaim: { claimName, ...(readOnly !== undefined ? { readOnly } : {}) },
  });
  return {
    good: async () => {
      const b = await base();
      return {
        volume: volume(b.claimName),
        ctx: contextOf({ stateDir: b.stateDir, claims: { [b.claimName]: { path: b.claimDir, capacity: 64 * MiB } } }),
        watch: [b.stateDir, b.claimDir],
        keeps: [join(b.claimDir, "disk.img")],
      };
    },
    failing: [
      ...(tempFsRefusesHugeFiles()
        ? [{
            title: "creating disk.img fails after its temporary file exists (EFBIG)",
            error: /cannot create ".*disk\.img": .*(too large|EFBIG)/i,
            make: async () => {
              const b = await base();
              return {
                volume: volume(b.claimName),
                ctx: contextOf({ stateDir: b.stateDir, claims: { [b.claimName]: { path: b.claimDir, capacity: tooLargeForExt4 } } }),
                watch: [b.stateDir, b.claimDir],
              };
            },
          }]
        : []),
      {
        title: "the claim is not mounted",
        error: /claim "data" is not mounted in this pod/,
        make: async () => {
          const b = await base();
          return { volume: volume("data"), ctx: contextOf({ stateDir: b.stateDir, claims: {} }), watch: [b.stateDir, b.claimDir] };
        },
      },
    ],
    bad: [
      {
        title: "no disk.img and no capacity given",
        error: /holds no disk\.img and its capacity is unknown/,
        make: async () => {
          const b = await base();
          return { volume: volume(b.claimName), ctx: contextOf({ stateDir: b.stateDir, claims: { [b.claimName]: { path: b.claimDir } } }), watch: [b.stateDir, b.claimDir] };
        },
      },
      {
        title: "disk.img is a symlink out of the claim",
        error: /disk\.img" is a symlink to "\/etc\/passwd", outside the claim directory/,
        make: async () => {
          const b = await base();
          await symlink("/etc/passwd", join(b.claimDir, "disk.img"));
          return {
            volume: volume(b.claimName),
            ctx: contextOf({ stateDir: b.stateDir, claims: { [b.claimName]: { path: b.claimDir, capacity: 64 * MiB } } }),
            watch: [b.stateDir, b.claimDir],
          };
        },
      },
      {
        title: "read-only claim without disk.img",
        error: /holds no disk\.img .* it is read-only/,
        make: async () => {
          const b = await base();
          return {
            volume: volume(b.claimName, true),
            ctx: contextOf({ stateDir: b.stateDir, claims: { [b.claimName]: { path: b.claimDir, capacity: 64 * MiB } } }),
            watch: [b.stateDir, b.claimDir],
          };
        },
      },
      {
        title: "a volume name that is not a DNS label",
        error: /the name "\.\.\/escape" is not a DNS-1123 label/,
        make: async () => {
          const b = await base();
          return {
            volume: { ...volume(b.claimName), name: "../escape" },
            ctx: contextOf({ stateDir: b.stateDir, claims: { [b.claimName]: { path: b.claimDir, capacity: 64 * MiB } } }),
            watch: [b.stateDir, b.claimDir],
          };
        },
      },
    ],
    dispose: () => dirs.dispose(),
  };
}

/** Contract fixtures of cloudInitNoCloud (no external tool needed). */
export function noCloudFixtures(dirs: TempDirs): ContractFixtures {
  const stateDir = async (): Promise<string> => {
    const root = await dirs.make("bunvirt-cidata-");
    await mkdir(join(root, "state"));
    return root;
  };
  const ci = (c: NonNullable<Volume["cloudInitNoCloud"]>): Volume => ({ name: "cloudinitdisk", cloudInitNoCloud: c });
  return {
    good: async () => {
      const root = await stateDir();
      const secret = await mountedSecret(join(root, "secret"), { userdata: "#cloud-config\npassword: s3cret-from-secret\n" });
      return {
        volume: ci({ secretRef: { name: "my-user-data" }, networkData: "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n" }),
        ctx: contextOf({ stateDir: join(root, "state"), secrets: { "my-user-data": secret } }),
      };
    },
    failing: [
      {
        title: "the Secret has none of the keys",
        error: /the user-data Secret "my-user-data" has none of the keys "userdata", "userData"/,
        make: async () => {
          const root = await stateDir();
          const secret = await mountedSecret(join(root, "secret"), { other: "x" });
          return { volume: ci({ secretRef: { name: "my-user-data" } }), ctx: contextOf({ stateDir: join(root, "state"), secrets: { "my-user-data": secret } }) };
        },
      },
    ],
    bad: [
      {
        title: "the Secret is not mounted",
        error: /the user-data Secret "absent" is not mounted in this pod \(looked for keys "userdata", "userData"\)/,
        make: async () => {
          const root = await stateDir();
          return { volume: ci({ secretRef: { name: "absent" } }), ctx: contextOf({ stateDir: join(root, "state") }) };
        },
      },
      {
        title: "user data over 2048 bytes",
        error: /user data is 2049 bytes; at most 2048 are allowed/,
        make: async () => {
          const root = await stateDir();
          return { volume: ci({ userData: "x".repeat(2049) }), ctx: contextOf({ stateDir: join(root, "state") }) };
        },
      },
      {
        title: "base64 user data over 2048 bytes after decoding",
        error: /user data is 2100 bytes after base64 decoding; at most 2048/,
        make: async () => {
          const root = await stateDir();
          return { volume: ci({ userDataBase64: Buffer.from("y".repeat(2100)).toString("base64") }), ctx: contextOf({ stateDir: join(root, "state") }) };
        },
      },
      {
        title: "base64 that does not decode",
        error: /userDataBase64 is not valid base64/,
        make: async () => {
          const root = await stateDir();
          return { volume: ci({ userDataBase64: "not base64!" }), ctx: contextOf({ stateDir: join(root, "state") }) };
        },
      },
      {
        title: "two user data sources",
        error: /sets userData and secretRef; set one user data source/,
        make: async () => {
          const root = await stateDir();
          return { volume: ci({ userData: "#cloud-config\n", secretRef: { name: "s" } }), ctx: contextOf({ stateDir: join(root, "state") }) };
        },
      },
      {
        title: "the state directory does not exist",
        error: /the state directory ".*nowhere" does not exist/,
        make: async () => {
          const root = await stateDir();
          return { volume: ci({ userData: "#cloud-config\n" }), ctx: contextOf({ stateDir: join(root, "nowhere") }), watch: [root] };
        },
      },
    ],
    dispose: () => dirs.dispose(),
  };
}
