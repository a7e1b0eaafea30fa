import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { providerContract } from "../../../tests/contracts/storage-provider.ts";
import { StorageError, type Volume } from "../provider.ts";
import { contextOf, mountedSecret, noCloudFixtures, recordingLog, TempDirs } from "../../../tests/lib/storage.ts";
import { readIso } from "../../../tests/lib/iso9660-read.ts";
import { cidataPath, noCloudProvider } from "./no-cloud-provider.ts";

providerContract("cloudInitNoCloud", noCloudProvider, noCloudFixtures(new TempDirs()), { formatCheck: "magic" });

const dirs = new TempDirs();
afterAll(() => dirs.dispose());

const SECRET = "p4ssw0rd-never-printed";

async function setup(data: Record<string, string>): Promise<{ stateDir: string; secretDir: string }> {
  const root = await dirs.make();
  const stateDir = join(root, "state");
  await mkdir(stateDir);
  return { stateDir, secretDir: await mountedSecret(join(root, "secret"), data) };
}

/** The files of a cidata ISO by their Rock Ridge names. */
function filesOf(iso: Uint8Array): Record<string, string> {
  const image = readIso(iso);
  expect(image.primary.volumeId).toBe("cidata");
  return Object.fromEntries(image.primary.entries.map((e) => [e.rockRidge?.name ?? e.identifier, new TextDecoder().decode(e.data)]));
}

const ci = (c: NonNullable<Volume["cloudInitNoCloud"]>): Volume => ({ name: "cloudinitdisk", cloudInitNoCloud: c });

describe("cloudInitNoCloud", () => {
  test("writes a cidata ISO with meta-data, user-data and network-config", async () => {
    const { stateDir } = await setup({});
    const ctx = contextOf({ stateDir, vmi: { namespace: "prod", name: "web", uid: "uid-42", hostname: "web-host" } });
    const r = await noCloudProvider().prepare(ci({ userData: "#cloud-config\nhostname: x\n", networkData: "version: 2\n" }), ctx);
    expect(r).toEqual({ name: "cloudinitdisk", kind: "cloudInitNoCloud", path: cidataPath(stateDir, "cloudinitdisk"), format: "raw", readOnly: true, block: false });
    expect(filesOf(new Uint8Array(await readFile(r.path)))).toEqual({
      "meta-data": '{"instance-id":"uid-42","local-hostname":"web-host"}\n',
      "user-data": "#cloud-config\nhostname: x\n",
      "network-config": "version: 2\n",
    });
  });

  test("no network-config file without network data", async () => {
    const { stateDir } = await setup({});
    const r = await noCloudProvider().prepare(ci({ userDataBase64: Buffer.from("#cloud-config\n").toString("base64") }), contextOf({ stateDir }));
    expect(Object.keys(filesOf(new Uint8Array(await readFile(r.path)))).sort()).toEqual(["meta-data", "user-data"]);
  });

  test("reads userData (camel case) when userdata is absent, and networkData likewise", async () => {
    const { stateDir, secretDir } = await setup({ userData: "#cloud-config\nfrom: camel\n", networkData: "version: 1\n" });
    const ctx = contextOf({ stateDir, secrets: { s: secretDir } });
    const r = await noCloudProvider().prepare(ci({ secretRef: { name: "s" }, networkDataSecretRef: { name: "s" } }), ctx);
    const files = filesOf(new Uint8Array(await readFile(r.path)));
    expect(files["user-data"]).toBe("#cloud-config\nfrom: camel\n");
    expect(files["network-config"]).toBe("version: 1\n");
  });

  test("prefers userdata over userData, as KubeVirt does", async () => {
    const { stateDir, secretDir } = await setup({ userdata: "lower\n", userData: "camel\n" });
    const r = await noCloudProvider().prepare(ci({ secretRef: { name: "s" } }), contextOf({ stateDir, secrets: { s: secretDir } }));
    expect(filesOf(new Uint8Array(await readFile(r.path)))["user-data"]).toBe("lower\n");
  });

  test("a Secret's content is in no log line, error or result", async () => {
    const { stateDir, secretDir } = await setup({ userdata: `#cloud-config\npassword: ${SECRET}\n`, networkdata: `bad: ${SECRET}` });
    const log = recordingLog();
    const ctx = contextOf({ stateDir, secrets: { s: secretDir }, log });
    const r = await noCloudProvider().prepare(ci({ secretRef: { name: "s" }, networkDataSecretRef: { name: "s" } }), ctx);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(log.lines.join("\n")).not.toContain(SECRET);
    expect(log.lines.length).toBeGreaterThan(0);
    // An error about the same Secret names it and its keys only.
    const e = await noCloudProvider().prepare(ci({ secretRef: { name: "s" }, networkDataSecretRef: { name: "missing" } }), ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StorageError);
    expect((e as Error).message).toBe('Cannot prepare volume "cloudinitdisk": the network-data Secret "missing" is not mounted in this pod (looked for keys "networkdata", "networkData")');
    expect(JSON.stringify(e, Object.getOwnPropertyNames(e))).not.toContain(SECRET);
  });

  test("a key that leads out of the Secret's directory is refused", async () => {
    const root = await dirs.make();
    await mkdir(join(root, "state"));
    await mkdir(join(root, "secret"));
    await writeFile(join(root, "host-file"), "host");
    await symlink(join(root, "host-file"), join(root, "secret", "userdata"));
    const e = await noCloudProvider().prepare(ci({ secretRef: { name: "s" } }), contextOf({ stateDir: join(root, "state"), secrets: { s: join(root, "secret") } })).catch((x: unknown) => x);
    expect((e as StorageError).code).toBe("unsafe");
    expect((e as Error).message).toContain('key "userdata" of the user-data Secret "s" leads outside its directory');
  });

  test("Secret data may exceed 2048 bytes (KubeVirt's limit is on inline data)", async () => {
    const { stateDir, secretDir } = await setup({ userdata: `#cloud-config\n#${"x".repeat(5000)}\n` });
    const r = await noCloudProvider().prepare(ci({ secretRef: { name: "s" } }), contextOf({ stateDir, secrets: { s: secretDir } }));
    expect((await stat(r.path)).size).toBeGreaterThan(5000);
  });

  test("changed data replaces the ISO; unchanged data leaves it untouched", async () => {
    const { stateDir } = await setup({});
    const ctx = contextOf({ stateDir });
    const first = await noCloudProvider().prepare(ci({ userData: "one\n" }), ctx);
    const s1 = await stat(first.path);
    await noCloudProvider().prepare(ci({ userData: "one\n" }), ctx);
    expect((await stat(first.path)).ino).toBe(s1.ino);
    await noCloudProvider().prepare(ci({ userData: "two\n" }), ctx);
    expect(filesOf(new Uint8Array(await readFile(first.path)))["user-data"]).toBe("two\n");
  });
});
