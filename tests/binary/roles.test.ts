/** Each role starts, serves its health app, reports real readiness and stops cleanly on SIGTERM. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunvirtCommand, freePort } from "../lib/bunvirt.ts";

const dir = mkdtempSync(join(tmpdir(), "bunvirt-roles-"));
const procs: Bun.Subprocess[] = [];
afterAll(() => procs.forEach((p) => p.kill("SIGKILL")));

async function waitFor(url: string): Promise<Response> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fetch(url);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await Bun.sleep(50);
    }
  }
}

function start(args: string[]): { proc: Bun.Subprocess<"ignore", "pipe", "pipe">; base: string; stderr: Promise<string> } {
  const port = freePort();
  const proc = Bun.spawn([...bunvirtCommand(), ...args, "--health-addr", `127.0.0.1:${port}`], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  procs.push(proc);
  // Read as it comes: a full pipe would stall the process.
  return { proc, base: `http://127.0.0.1:${port}`, stderr: new Response(proc.stderr).text() };
}

// A kubeconfig naming an API server on a closed port of 127.0.0.1.
const unreachable = join(dir, "kubeconfig");
const closedPort = freePort();
writeFileSync(
  unreachable,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${closedPort}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
);

describe.each([
  ["controller", ["--kubeconfig", unreachable], /cluster: Cannot reach the cluster at "https:\/\/127\.0\.0\.1:\d+"/],
  ["handler", ["--kubeconfig", join(dir, "missing")], /cluster: Cannot load kubeconfig: ".*missing" does not exist/],
  ["launcher", ["--state-dir", join(dir, "launcher"), "--emulation"], /domain: no VirtualMachineInstance has been synced/],
])("--role %s", (role, extra, reason) => {
  test("healthz 200, readyz 503 with the reason, metrics, clean SIGTERM", async () => {
    const { proc, base, stderr } = start(["--role", role, ...extra]);
    expect((await waitFor(`${base}/healthz`)).status).toBe(200);
    // The first attempt has to fail before the reason is known.
    let ready = await fetch(`${base}/readyz`);
    let body = await ready.text();
    for (let i = 0; i < 50 && !reason.test(body); i++) {
      await Bun.sleep(100);
      ready = await fetch(`${base}/readyz`);
      body = await ready.text();
    }
    expect(ready.status).toBe(503);
    expect(body).toMatch(reason);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`bunvirt_ready{role="${role}"} 0`);
    expect(metrics).toMatch(new RegExp(`bunvirt_build_info\\{role="${role}",version="[0-9.]+"\\} 1`));
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(await stderr).toContain(`${role}: stopped`);
  });
});

test("the controller keeps retrying the cluster while it is away", async () => {
  const { proc, base, stderr } = start(["--role", "controller", "--kubeconfig", unreachable]);
  await waitFor(`${base}/healthz`);
  await Bun.sleep(2500);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const failures = Number(/bunvirt_cluster_connect_failures_total (\d+)/.exec(metrics)?.[1] ?? 0);
  // Backoff starts at 250-500 ms and doubles: 2.5 s leaves room for at least three attempts.
  expect(failures).toBeGreaterThanOrEqual(3);
  expect((await fetch(`${base}/readyz`)).status).toBe(503);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect(await stderr).toContain("retrying with backoff");
});

test("--log-format=json: every line of a role is one JSON object with time, level, role and message; --log-level drops lower ones", async () => {
  const { proc, base, stderr } = start(["--role", "handler", "--kubeconfig", join(dir, "missing"), "--log-format=json", "--log-level=warn"]);
  await waitFor(`${base}/healthz`);
  await Bun.sleep(1500);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const lines = (await stderr).trimEnd().split("\n");
  const entries = lines.map((l) => JSON.parse(l) as { time: string; level: string; role: string; message: string });
  expect(entries.length).toBeGreaterThan(0);
  for (const e of entries) {
    expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    expect(e.role).toBe("handler");
    expect(["warn", "error"]).toContain(e.level);
  }
  expect(entries.some((e) => e.level === "warn" && /Cannot load kubeconfig/.test(e.message))).toBe(true);
  // Info lines ("serving …", "stopped") are below warn.
  expect(entries.some((e) => /stopped|serving/.test(e.message))).toBe(false);
});

test("an unknown --log-level or --log-format is a usage error", async () => {
  for (const flag of ["--log-level=loud", "--log-format=xml"]) {
    const p = Bun.spawn([...bunvirtCommand(), "--role", "handler", flag], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    expect(await p.exited).toBe(2);
    expect(await new Response(p.stderr).text()).toMatch(/Cannot use --log-(level|format) "(loud|xml)": it must be one of/);
  }
});
