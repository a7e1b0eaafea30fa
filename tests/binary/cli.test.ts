/** The CLI as users run it: exit codes and messages of validate and convert. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, runBunvirt } from "../lib/bunvirt.ts";

const seed = join(repoRoot, "examples/vm-v1alpha1.yaml");
const dir = mkdtempSync(join(tmpdir(), "bunvirt-cli-"));

describe("bunvirt CLI", () => {
  test("--version", async () => {
    const r = await runBunvirt(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bunvirt \d+\.\d+\.\d+\n$/);
  });

  test("validate accepts the seed manifest", async () => {
    const r = await runBunvirt(["validate", seed]);
    expect(r.stdout).toContain('document 1 (VirtualMachine "myvm"): valid');
    expect(r.code).toBe(0);
  });

  test("validate reports each problem with document, path and rule, exit 1", async () => {
    const bad = join(dir, "bad.yaml");
    const text = await Bun.file(seed).text();
    writeFileSync(bad, `${text}---\n${text.replace("bus: virtio", "bus: floppy").replace("name: myvm", "name: second")}`);
    const r = await runBunvirt(["validate", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('document 1 (VirtualMachine "myvm"): valid');
    expect(r.stdout).toContain(`${bad}: document 2 (VirtualMachine "second"): spec.domain.devices.disks[0].disk.bus: must be one of "virtio", "sata", "scsi", "usb"`);
  });

  test("validate reads JSON from stdin", async () => {
    const r = await runBunvirt(["validate", "-"], { stdin: JSON.stringify({ apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "x" }, spec: { domain: { devices: {} } } }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("spec.domain.resources.requests.memory: memory must be given");
  });

  test("convert round-trips the seed through v1", async () => {
    const v1 = await runBunvirt(["convert", "--to", "v1", seed]);
    expect(v1.code).toBe(0);
    expect(v1.stdout).toContain("apiVersion: kubevirt.io/v1\n");
    expect(v1.stdout).toContain("runStrategy: Always");
    const v1File = join(dir, "v1.yaml");
    writeFileSync(v1File, v1.stdout);
    const back = await runBunvirt(["convert", "--to", "v1alpha1", "-o", "json", v1File]);
    expect(back.code).toBe(0);
    const original = (await runBunvirt(["convert", "--to", "v1alpha1", "-o", "json", seed])).stdout;
    expect(JSON.parse(back.stdout)).toEqual(JSON.parse(original));
  });

  test("usage errors exit 2", async () => {
    expect((await runBunvirt(["convert", "--to", "v2", seed])).code).toBe(2);
    expect((await runBunvirt(["frobnicate"])).code).toBe(2);
    expect((await runBunvirt(["--role", "janitor"])).code).toBe(2);
  });

  test("a node heartbeat timeout the handler's 60 s beats would outrun is refused, exit 2", async () => {
    const r = await runBunvirt(["--role", "controller", "--node-heartbeat-timeout", "30"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--node-heartbeat-timeout "30" must be longer than the handler's heartbeat interval (60 s)`);
  });

  test("with --log-format json the error that ends bunvirt is a JSON line too", async () => {
    const r = await runBunvirt(["--role", "controller", "--log-format", "json", "--node-heartbeat-timeout", "30"]);
    expect(r.code).toBe(2);
    const line = JSON.parse(r.stderr.trim().split("\n")[0]!) as Record<string, string>;
    expect(line).toMatchObject({ level: "error", role: "controller" });
    expect(line.message).toContain("--node-heartbeat-timeout");
  });

  test("a missing file is a clear error", async () => {
    const r = await runBunvirt(["validate", join(dir, "nope.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("nope.yaml");
  });

  test("run --log-format json: bunvirt run's own lines are JSON objects (a refused manifest here)", async () => {
    const bad = join(dir, "bad-run.yaml");
    writeFileSync(bad, (await Bun.file(seed).text()).replace("bus: virtio", "bus: floppy"));
    const r = await runBunvirt(["run", bad, "--log-format", "json"]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split("\n").map((l) => JSON.parse(l) as { time: string; level: string; role: string; message: string });
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatchObject({ level: "error", role: "run" });
    expect(lines.some((l) => l.message.includes("spec.domain.devices.disks[0].disk.bus: must be one of"))).toBe(true);
    expect(Number.isNaN(Date.parse(lines[0]!.time))).toBe(false);
    // Text, the default, is the bare line.
    const text = await runBunvirt(["run", bad]);
    expect(text.stderr).toMatch(/^\S+bad-run.yaml: document 1 .*disk.bus: must be one of/m);
  });
});
