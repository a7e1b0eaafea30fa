/**
 * Benchmark: the launcher's private libvirt stack (src/launcher/libvirt).
 * Prints figures only; no assertions. Needs root and the Debian packages
 * libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-dbus, dbus, qemu-system-x86.
 *
 *   bun bench/libvirt-stack.ts [rounds]     (default 3)
 *
 * Each round starts stacks in fresh state directories with emulation (TCG):
 *   - cold:   an empty capability cache seed (libvirt probes QEMU on the first define/create)
 *   - seeded: seeded from the cache the cold stack saved after its first domain start
 * and times startLibvirtStack() until the D-Bus client gets through to
 * libvirtd, the first DomainCreateXML of a 64 MiB empty machine (until the
 * call returns; the domain is running then) and its Destroy. With a domain running, it reads
 * VmRSS of libvirtd + dbus-daemon + libvirt-dbus (QEMU apart) and
 * compares with KubeVirt's virt-launcher, whose overhead for the same roles
 * is ~190 MiB; our goal is <= 100 MiB. A last stack loads every libvirtd driver
 * Debian ships instead of only QEMU's, to show what the restriction saves.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { rssKiB, startLibvirtStack, type LibvirtStack } from "../src/launcher/libvirt/index.ts";

const rounds = Number(process.argv[2] ?? 3);
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new Error(`Cannot run benchmark: rounds "${process.argv[2]}" is not a positive integer`);
}
if (process.getuid?.() !== 0) throw new Error("Cannot run benchmark: needs root (mount namespaces, libvirtd)");

const KUBEVIRT_OVERHEAD_MIB = 190;
const GOAL_MIB = 100;
const DAEMONS = ["libvirtd", "dbus-daemon", "libvirt-dbus"] as const;

const XML = `<domain type='qemu'>
  <name>bench</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>`;

interface Sample {
  readyMs: number;
  firstCreateMs: number;
  destroyMs: number;
  rss: Record<(typeof DAEMONS)[number] | "qemu", number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

async function measure(workDir: string, name: string, seedDir: string, drivers?: readonly string[]): Promise<Sample> {
  const started = Bun.nanoseconds();
  const stack: LibvirtStack = await startLibvirtStack({
    stateDir: join(workDir, name),
    emulation: true,
    capabilityCacheSeed: seedDir,
    ...(drivers ? { drivers } : {}),
  });
  try {
    const readyMs = (Bun.nanoseconds() - started) / 1e6;
    const createStart = Bun.nanoseconds();
    const domain = await stack.client.createXml(XML);
    const firstCreateMs = (Bun.nanoseconds() - createStart) / 1e6;
    const qemu = (await stack.domainPid("bench")) ?? 0;
    await Bun.sleep(1_000); // let QEMU and the daemons settle
    const pids = stack.pids();
    const rss = { libvirtd: 0, "dbus-daemon": 0, "libvirt-dbus": 0, qemu: rssKiB(qemu) ?? 0 };
    for (const d of DAEMONS) rss[d] = rssKiB(pids[d] ?? 0) ?? 0;
    await stack.saveCapabilityCache();
    const destroyStart = Bun.nanoseconds();
    await stack.client.destroy(domain);
    const destroyMs = (Bun.nanoseconds() - destroyStart) / 1e6;
    return { readyMs, firstCreateMs, destroyMs, rss };
  } finally {
    await stack.stop();
  }
}

function report(label: string, samples: Sample[]): number {
  const ready = median(samples.map((s) => s.readyMs));
  const create = median(samples.map((s) => s.firstCreateMs));
  const destroy = median(samples.map((s) => s.destroyMs));
  const total = median(samples.map((s) => DAEMONS.reduce((sum, d) => sum + s.rss[d], 0)));
  const parts = DAEMONS.map((d) => `${d} ${mib(median(samples.map((s) => s.rss[d])))}`).join(", ");
  console.log(`${label.padEnd(30)} ready ${ready.toFixed(0).padStart(5)} ms   first create ${create.toFixed(0).padStart(5)} ms   destroy ${destroy.toFixed(0).padStart(5)} ms   daemons RSS ${mib(total).padStart(9)}`);
  console.log(`${"".padEnd(30)} ${parts}; QEMU ${mib(median(samples.map((s) => s.rss.qemu)))}`);
  return total;
}

const workDir = mkdtempSync("/tmp/bunvirt-lvs-bench-");
try {
  const cold: Sample[] = [];
  const seeded: Sample[] = [];
  for (let i = 0; i < rounds; i++) {
    const seedDir = join(workDir, `seed-${i}`);
    cold.push(await measure(workDir, `cold-${i}`, seedDir));
    const saved = readdirSync(seedDir).filter((f) => f.endsWith(".xml"));
    if (saved.length === 0) throw new Error(`Cannot run the seeded round: no capability cache was saved to "${seedDir}"`);
    seeded.push(await measure(workDir, `seeded-${i}`, seedDir));
  }
  const systemDrivers = readdirSync("/usr/lib/x86_64-linux-gnu/libvirt/connection-driver")
    .map((f) => /^libvirt_driver_(\w+)\.so$/.exec(f)?.[1])
    .filter((d): d is string => d !== undefined);
  // A capability cache is only valid for the driver set that wrote it: this one starts cold.
  const allDrivers = await measure(workDir, "all-drivers", join(workDir, "seed-all"), systemDrivers);

  console.log(`private libvirt stack, TCG, ${rounds} round(s), medians; 64 MiB empty machine`);
  report("cold capability cache", cold);
  const ours = report("seeded capability cache", seeded);
  report(`all ${systemDrivers.length} drivers, cold, 1 run`, [allDrivers]);
  console.log(`KubeVirt virt-launcher overhead for these roles: ~${KUBEVIRT_OVERHEAD_MIB} MiB; ours: ${mib(ours)} (${((ours / 1024 / KUBEVIRT_OVERHEAD_MIB) * 100).toFixed(0)}% of it)`);
  console.log(`goal: <= ${GOAL_MIB} MiB for libvirtd + dbus-daemon + libvirt-dbus: ${ours / 1024 <= GOAL_MIB ? "met" : "NOT met"}`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
