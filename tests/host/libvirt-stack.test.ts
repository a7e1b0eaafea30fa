/**
 * The launcher's private libvirt stack on a real host: libvirtd,
 * dbus-daemon and libvirt-dbus in a private mount namespace, driven only
 * through D-Bus. Proves: a domain defined and started (TCG, an empty machine
 * sitting in SeaBIOS) with its Started event; libvirtd killed with SIGKILL is
 * reported down, restarted, and reconnects to the still running QEMU; destroy
 * gives a Stopped event; two stacks side by side; the capability cache seed;
 * stop() leaves no processes and no mounts.
 *
 *   bun test --timeout 600000 ./tests/host/libvirt-stack.test.ts
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { command, hostTier, root } from "../lib/host.ts";
import {
  processAlive,
  processStartTime,
  startLibvirtStack,
  type DomainEvent,
  type DomainHandle,
  type LibvirtStack,
  type StackHealth,
} from "../../src/launcher/libvirt/index.ts";

const reason = hostTier("libvirt-stack", [
  root,
  command("libvirtd", "libvirt-daemon"),
  command("libvirt-dbus", "libvirt-dbus"),
  command("dbus-daemon", "dbus"),
  command("qemu-system-x86_64", "qemu-system-x86"),
]);

const DOMAIN = "bunvirt-stack-test";

/** An empty machine: no disks, no kernel; SeaBIOS finds nothing to boot and waits. */
function domainXml(name: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>`;
}

function mountNamespace(pid: number | "self"): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** (root within its filesystem, mount point) of every mount a process sees. */
function mounts(pid: number | "self"): { root: string; mountPoint: string }[] {
  return readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const fields = line.split(" ");
      return { root: fields[3] ?? "", mountPoint: fields[4] ?? "" };
    });
}

function membersOf(namespace: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => mountNamespace(pid) === namespace && processAlive(pid));
}

/** Alive and still the same process (pids wrap at 32768 here and get reused). */
function sameProcessAlive(pid: number, startTime: number | null): boolean {
  return startTime !== null && processAlive(pid) && processStartTime(pid) === startTime;
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Cannot see ${what} within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

describe.skipIf(reason !== null)("private libvirt stack (host)", () => {
  const workDir = reason === null ? mkdtempSync("/tmp/bunvirt-lvs-") : "/nonexistent";
  const seedDir = join(workDir, "caps-seed");
  const started: LibvirtStack[] = [];
  const logs: string[] = [];
  const log = (tag: string) => (line: string) => logs.push(`${tag} ${line}`);
  /** Every process the stacks ever reported (pid -> start time): all must be gone at the end. */
  const seen = new Map<number, number | null>();
  const rememberPid = (pid: number): void => {
    seen.set(pid, processStartTime(pid));
  };
  const remember = (stack: LibvirtStack): void => {
    for (const pid of Object.values(stack.pids())) if (pid !== null) rememberPid(pid);
  };

  let a: LibvirtStack | undefined;
  let b: LibvirtStack | undefined;
  let dom: DomainHandle | undefined;
  let qemuPid = 0;
  let qemuStart: number | null = null;
  const events: DomainEvent[] = [];

  afterAll(async () => {
    for (const stack of started) {
      await stack.stop().catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
    }
    if (reason === null) rmSync(workDir, { recursive: true, force: true });
    if (process.env.BUNVIRT_TEST_VERBOSE === "1") console.log(logs.join("\n"));
  });

  test("starts a stack in its own mount namespace", async () => {
    a = await startLibvirtStack({ stateDir: join(workDir, "a"), emulation: true, capabilityCacheSeed: seedDir, log: log("[a]") });
    started.push(a);
    remember(a);
    const health = a.health();
    expect(health.ok).toBe(true);
    expect(health.components.map((c) => [c.name, c.state])).toEqual([
      ["namespace", "running"],
      ["libvirtd", "running"],
      ["dbus-daemon", "running"],
      ["libvirt-dbus", "running"],
    ]);
    expect(a.namespace).toMatch(/^mnt:\[\d+\]$/);
    expect(a.namespace).not.toBe(mountNamespace("self"));
    for (const [name, pid] of Object.entries(a.pids())) {
      expect(pid, name).not.toBeNull();
      expect(processAlive(pid!), name).toBe(true);
      expect(mountNamespace(pid!), name).toBe(a.namespace);
    }
    // The bind mounts exist inside the namespace only.
    const ours = (pid: number | "self"): string[] =>
      mounts(pid)
        .filter((m) => m.root.includes(basename(workDir)))
        .map((m) => `${m.root.slice(m.root.indexOf(basename(workDir)) + basename(workDir).length)} on ${m.mountPoint}`);
    expect(ours(a.pids().libvirtd!)).toEqual([
      "/a/run on /run/libvirt",
      "/a/lib on /var/lib/libvirt",
      "/a/cache on /var/cache/libvirt",
      "/a/var-log on /var/log",
      "/a/log on /var/log/libvirt",
      "/a/etc on /etc/libvirt",
      ...(existsSync("/dev/kvm") ? ["/a/kvm-mask on /dev/kvm"] : []),
    ]);
    expect(ours("self")).toEqual([]);
  });

  test("defines and starts a domain; Started arrives as a D-Bus event", async () => {
    if (!a) throw new Error("Cannot run: no stack");
    a.client.onDomainEvent((e) => events.push(e));
    const definedEvent = a.client.waitForDomainEvent((e) => e.type === "Defined", 60_000);
    dom = await a.client.defineXml(domainXml(DOMAIN));
    expect(dom.name).toBe(DOMAIN);
    expect(dom.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await definedEvent).uuid).toBe(dom.uuid);
    expect(await a.client.getState(dom)).toEqual({ state: "shutoff", reason: expect.any(Number) });

    const startedEvent = a.client.waitForDomainEvent((e) => e.type === "Started" && e.uuid === dom?.uuid, 120_000);
    await a.client.start(dom);
    expect((await startedEvent).detail).toBe("Booted");
    expect((await a.client.getState(dom)).state).toBe("running");
    expect((await a.client.listDomains()).map((d) => d.name)).toContain(DOMAIN);
    expect(await a.client.getXmlDesc(dom)).toContain(`<uuid>${dom.uuid}</uuid>`);

    qemuPid = await until("the QEMU pid file", 10_000, () => a?.domainPid(DOMAIN));
    qemuStart = processStartTime(qemuPid);
    rememberPid(qemuPid);
    expect(processAlive(qemuPid)).toBe(true);
    expect(mountNamespace(qemuPid)).toBe(a.namespace);

    // Errors keep libvirt's words.
    await expect(a.client.start(dom)).rejects.toThrow(`Cannot start domain "${DOMAIN}": Requested operation is not valid: domain is already running`);
    await expect(a.client.defineXml("<domain type='qemu'><name>broken</name></domain>")).rejects.toThrow('Cannot define domain "broken":');

    // After the first start, the capability cache was saved for the next stack.
    await until("the saved capability cache", 10_000, () => existsSync(seedDir) && readdirSync(seedDir).some((f) => f.endsWith(".xml")));
  });

  test("libvirtd killed with SIGKILL: reported down, restarted, the domain keeps running", async () => {
    if (!a || !dom) throw new Error("Cannot run: no domain");
    const changes: StackHealth[] = [];
    const unsubscribe = a.onHealthChange((h) => changes.push(h));
    const oldPid = a.pids().libvirtd!;
    const oldStart = processStartTime(oldPid);
    process.kill(oldPid, "SIGKILL");

    const down = await until("libvirtd reported down", 10_000, () => {
      const h = a?.health();
      return h && !h.ok && h.down.some((c) => c.name === "libvirtd") ? h : null;
    });
    const libvirtd = down.components.find((c) => c.name === "libvirtd")!;
    expect(["down", "starting"]).toContain(libvirtd.state);
    expect(changes.some((h) => h.down.some((c) => c.name === "libvirtd" && c.reason === "killed by SIGKILL"))).toBe(true);

    const healthy = await a.waitUntilReady(120_000);
    unsubscribe();
    expect(healthy.ok).toBe(true);
    const newPid = a.pids().libvirtd!;
    expect(newPid).not.toBe(oldPid);
    expect(sameProcessAlive(oldPid, oldStart)).toBe(false);
    expect(processAlive(newPid)).toBe(true);
    expect(healthy.components.find((c) => c.name === "libvirtd")?.restarts).toBe(1);
    remember(a);

    // The same QEMU, reconnected by the new libvirtd, seen through the client.
    expect((await a.client.getState(dom)).state).toBe("running");
    expect(sameProcessAlive(qemuPid, qemuStart)).toBe(true);
    expect(await a.domainPid(DOMAIN)).toBe(qemuPid);

    // Events flow again after the reconnect.
    const suspended = a.client.waitForDomainEvent((e) => e.type === "Suspended", 30_000);
    await a.client.suspend(dom);
    expect((await suspended).detail).toBe("Paused");
    expect((await a.client.getState(dom)).state).toBe("paused");
    const resumed = a.client.waitForDomainEvent((e) => e.type === "Resumed", 30_000);
    await a.client.resume(dom);
    expect((await resumed).detail).toBe("Unpaused");
  });

  test("ACPI shutdown is requested; destroy gives Stopped and shutoff", async () => {
    if (!a || !dom) throw new Error("Cannot run: no domain");
    // SeaBIOS without an OS ignores the power button: the request is accepted, nothing stops.
    await a.client.shutdown(dom, { acpi: true });
    await Bun.sleep(500);
    expect((await a.client.getState(dom)).state).toBe("running");

    const stopped = a.client.waitForDomainEvent((e) => e.type === "Stopped" && e.uuid === dom?.uuid, 60_000);
    await a.client.destroy(dom);
    expect((await stopped).detail).toBe("Destroyed");
    expect((await a.client.getState(dom)).state).toBe("shutoff");
    await until("QEMU gone", 10_000, () => !sameProcessAlive(qemuPid, qemuStart));

    const undefined_ = a.client.waitForDomainEvent((e) => e.type === "Undefined", 30_000);
    await a.client.undefine(dom);
    expect((await undefined_).detail).toBe("Removed");
    expect((await a.client.listDomains()).map((d) => d.name)).not.toContain(DOMAIN);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["Defined", "Started", "Suspended", "Resumed", "Stopped", "Undefined"]));
  });

  test("two stacks side by side, the second seeded from the first's capability cache", async () => {
    if (!a) throw new Error("Cannot run: no stack");
    b = await startLibvirtStack({ stateDir: join(workDir, "b"), emulation: true, capabilityCacheSeed: seedDir, log: log("[b]") });
    started.push(b);
    remember(b);
    expect(b.seededCapabilities.length).toBeGreaterThan(0);
    expect(b.namespace).not.toBe(a.namespace);
    expect(a.health().ok).toBe(true);

    // The same domain name in both: separate libvirtds, separate QEMUs.
    const [da, db] = await Promise.all([a.client.createXml(domainXml(DOMAIN)), b.client.createXml(domainXml(DOMAIN))]);
    expect(da.uuid).not.toBe(db.uuid);
    expect((await a.client.getState(da)).state).toBe("running");
    expect((await b.client.getState(db)).state).toBe("running");
    expect((await a.client.listDomains()).map((d) => d.uuid)).toEqual([da.uuid]);
    expect((await b.client.listDomains()).map((d) => d.uuid)).toEqual([db.uuid]);
    const qa = await until("QEMU of a", 10_000, () => a?.domainPid(DOMAIN));
    const qb = await until("QEMU of b", 10_000, () => b?.domainPid(DOMAIN));
    expect(qa).not.toBe(qb);
    expect(mountNamespace(qa)).toBe(a.namespace);
    expect(mountNamespace(qb)).toBe(b.namespace);
    rememberPid(qa);
    rememberPid(qb);
    // Left running on purpose: stop() must take QEMU down too.
  });

  test("stop() leaves no processes and no mounts", async () => {
    if (!a || !b) throw new Error("Cannot run: no stacks");
    const namespaces = [a.namespace, b.namespace];
    const stateDirs = [a.stateDir, b.stateDir];
    await Promise.all([a.stop(), b.stop()]);
    for (const [pid, start] of seen) expect(sameProcessAlive(pid, start), `pid ${pid}`).toBe(false);
    for (const ns of namespaces) expect(membersOf(ns)).toEqual([]);
    expect(mounts("self").filter((m) => m.root.includes(basename(workDir)))).toEqual([]);
    for (const dir of stateDirs) expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(dir);
    for (const stack of [a, b]) {
      expect(stack.health().components.every((c) => c.state === "stopped")).toBe(true);
      expect(Object.values(stack.pids()).every((p) => p === null)).toBe(true);
    }
    // Idempotent.
    await a.stop();
  });
});
