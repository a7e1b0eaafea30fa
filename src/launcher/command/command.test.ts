/** The command API over a real unix socket, with a recording DomainManager. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LauncherClient, maxReplyBytes } from "./command-client.ts";
import { assertSocketPathSafe } from "./safe-socket.ts";
import type { StatusReply } from "./schema.ts";
import { CommandError, commandApp, serveCommands, type DomainManager } from "./command-server.ts";

const dir = mkdtempSync(join(tmpdir(), "bunvirt-cmd-"));
const calls: string[] = [];
const reply = (state: StatusReply["state"], reason: string): StatusReply => ({ state, reason, interfaces: [], ready: true });
const manager: DomainManager = {
  sync: async (vmi) => (calls.push(`sync ${vmi.metadata.name}`), reply("running", "booted")),
  shutdown: async (g) => (calls.push(`shutdown ${g}`), reply("shutoff", "shutdown by guest")),
  kill: async () => (calls.push("kill"), reply("shutoff", "destroyed")),
  status: async () => reply("running", "booted"),
  stats: async () => ({ domain: "ns_vm1", cpu: { timeNs: 7 }, balloon: { rssKiB: 100 }, vcpus: [{ id: 0, timeNs: 3 }], nets: [{ name: "tap0", interface: "default", rxBytes: 5 }], blocks: [] }),
};
const server = serveCommands(commandApp(manager), join(dir, "launcher.sock"));
const client = new LauncherClient(server.path);
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const vmi = {
  apiVersion: "kubevirt.io/v1" as const,
  kind: "VirtualMachineInstance" as const,
  metadata: { name: "vm1" },
  spec: { domain: { resources: { requests: { memory: "64M" } }, devices: {} } },
};

describe("launcher command API", () => {
  test("sync, shutdown, kill and status round-trip through the socket", async () => {
    expect((await client.sync(vmi)).state).toBe("running");
    expect((await client.shutdown(5)).reason).toBe("shutdown by guest");
    expect((await client.kill()).reason).toBe("destroyed");
    expect((await client.status()).state).toBe("running");
    expect(calls).toEqual(["sync vm1", "shutdown 5", "kill"]);
  });

  test("stats round-trip through the socket; a 409 is the launcher's refusal in words", async () => {
    expect(await client.stats()).toEqual({ domain: "ns_vm1", cpu: { timeNs: 7 }, balloon: { rssKiB: 100 }, vcpus: [{ id: 0, timeNs: 3 }], nets: [{ name: "tap0", interface: "default", rxBytes: 5 }], blocks: [] });
    const idle: DomainManager = { ...manager, stats: async () => { throw new CommandError(409, "no domain runs: no VM synced yet"); } };
    const s = serveCommands(commandApp(idle), join(dir, "idle.sock"));
    await expect(new LauncherClient(s.path).stats()).rejects.toThrow("refused /v1/stats: no domain runs: no VM synced yet");
    await s.stop();
  });

  test("stats give up when the caller's signal aborts (a stalled launcher)", async () => {
    const stalled: DomainManager = { ...manager, stats: () => new Promise(() => undefined) };
    const s = serveCommands(commandApp(stalled), join(dir, "stalled.sock"));
    await expect(new LauncherClient(s.path).stats({ signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await s.stop();
  });

  test("an endless answer is cut at the reply cap, a non-JSON one named as such (a hostile launcher)", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const endless = Bun.serve({
      unix: join(dir, "endless.sock"),
      fetch: (req) => new URL(req.url).pathname === "/v1/status"
        ? new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }), { headers: { "content-type": "application/json" } })
        : new Response("<html>", { status: 200 }),
    });
    const hostile = new LauncherClient(join(dir, "endless.sock"));
    await expect(hostile.status()).rejects.toThrow(`answered /v1/status with more than ${maxReplyBytes} bytes`);
    await expect(hostile.stats()).rejects.toThrow("answered /v1/stats with a body that is not JSON");
    await endless.stop(true);
  });

  test("an invalid request is a 400 naming the field", async () => {
    const res = await fetch("http://launcher/v1/shutdown", { method: "POST", unix: server.path, body: JSON.stringify({ graceSeconds: -1 }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "graceSeconds: must be at least 0", field: "graceSeconds" });
  });

  test("a VMI that admission refuses is a 422 naming the field", async () => {
    const bad = structuredClone(vmi);
    bad.spec.domain.resources = {} as never;
    const res = await fetch("http://launcher/v1/sync", { method: "POST", unix: server.path, body: JSON.stringify({ vmi: bad }) });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { field: string }).field).toBe("vmi.spec.domain.resources.requests.memory");
  });

  test("a VMI whose name could leave a directory is a 422 naming metadata.name", async () => {
    for (const name of ["a/../../../../../some/dir", "..", "A_B"]) {
      const bad = structuredClone(vmi);
      bad.metadata = { ...bad.metadata, name };
      const res = await fetch("http://launcher/v1/sync", { method: "POST", unix: server.path, body: JSON.stringify({ vmi: bad }) });
      expect(res.status).toBe(422);
      const reply = (await res.json()) as { field: string; error: string };
      expect(reply.field).toBe("vmi.metadata.name");
      expect(reply.error).toMatch(/DNS-1123 subdomain/);
    }
  });

  test("the client refuses to send an invalid request", async () => {
    await expect(client.shutdown(1.5)).rejects.toThrow(/must be an integer/);
  });

  test("socket paths through symlinks are refused", () => {
    const real = join(dir, "real");
    mkdirSync(real);
    symlinkSync(real, join(dir, "link"));
    expect(() => assertSocketPathSafe(join(dir, "link", "x.sock"))).toThrow(/through a symlink/);
    symlinkSync("/etc/passwd", join(dir, "evil.sock"));
    expect(() => assertSocketPathSafe(join(dir, "evil.sock"))).toThrow(/is a symlink/);
  });

  test("the client refuses a symlinked socket", async () => {
    await expect(new LauncherClient(join(dir, "evil.sock")).status()).rejects.toThrow(/is a symlink/);
  });

  test("stop() lets a request in flight get its reply, and refuses new ones", async () => {
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    const slow: DomainManager = { ...manager, shutdown: async () => (await gate, reply("shutoff", "shutdown by guest")) };
    const s = serveCommands(commandApp(slow), join(dir, "slow.sock"));
    const c = new LauncherClient(s.path);
    const inFlight = c.shutdown(5);
    await Bun.sleep(50);
    const stopped = s.stop();
    await Bun.sleep(50);
    release();
    expect((await inFlight).reason).toBe("shutdown by guest");
    await stopped;
    await expect(c.status()).rejects.toThrow();
  });
});
