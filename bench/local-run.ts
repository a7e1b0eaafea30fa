/**
 * The local run against its peers, on the same guest and disks:
 *   1. `bunvirt run` from process start to the guest's first own serial line,
 *   2. qemu-system-x86_64 started directly (goal: bunvirt <= 1.15x of this),
 *   3. QEMU with the command line libvirt ran for the same domain (read from
 *      /proc), started directly: no -S, no monitor, the NIC on QEMU's user
 *      network instead of the launcher's tap, the serial console a file,
 *   4. `virsh create` of the same domain XML into an already running libvirtd.
 * The gap to bare QEMU is split: the domain's devices and libvirt's machine
 * options (3 - 2), libvirt's start (4 - 3), bunvirt's own (1 - 4).
 * And the launcher side's memory with the VM running (bunvirt + libvirtd +
 * dbus-daemon + libvirt-dbus, and virtlogd where one runs; QEMU excluded; goal <= 100 MiB,
 * KubeVirt budgets 190 Mi for the same processes).
 *
 * And the stop (goals: the run has exited and cleaned up within 0.5 s of the
 * guest's power-off; a kill destroys the domain within 0.3 s):
 *   - SIGTERM to the run (run 1): the guest powers off on the ACPI button at
 *     once; from QEMU's exit to the run's exit,
 *   - the launcher's `kill` over its command socket (run 2, as a handler asks
 *     it): from the request to QEMU's exit, to the answer, to the run's exit.
 *
 * The memory is read --settle S seconds (default 5) after the first serial
 * line, when the start's garbage has had its chance to go; --rss-only skips
 * the timing peers (one quick memory reading).
 *
 *   bun bench/local-run.ts [MANIFEST] [--runs N] [--settle S] [--rss-only] [--argv]   (root; registry and guest built by scripts/guest)
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunvirtCommand, repoRoot } from "../tests/lib/bunvirt.ts";
import { guestRegistry, startRun } from "../tests/host/fixtures/run/local-run.ts";
import { startLibvirtStack } from "../src/launcher/libvirt/index.ts";
import { rssKiB } from "../src/launcher/libvirt/index.ts";
import { LauncherClient } from "../src/launcher/command/command-client.ts";

/** The pid of the QEMU whose command line names `stateDir`. */
function qemuPid(stateDir: string): number {
  const pid = Number(Bun.spawnSync(["pgrep", "-f", `qemu-system-x86_64.*${stateDir}/`]).stdout.toString().trim().split("\n")[0]);
  if (!(pid > 0)) throw new Error(`no QEMU for ${stateDir}`);
  return pid;
}

/** Resolves with performance.now() when `pid` is gone (polled every 5 ms). */
async function goneAt(pid: number): Promise<number> {
  while (existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8").toString())) await Bun.sleep(5);
  return performance.now();
}

/** RssAnon and RssFile of a process in KiB (the executable's pages are file-backed, shared and reclaimable). */
/** Proportional set size in KiB: each shared page divided among the processes that map it (the executable's pages shared by the run's two bunvirt processes count once in all). */
function pssKiB(pid: number): number {
  const text = existsSync(`/proc/${pid}/smaps_rollup`) ? readFileSync(`/proc/${pid}/smaps_rollup`, "utf8") : "";
  return Number(/^Pss:\s+(\d+) kB$/m.exec(text)?.[1] ?? 0);
}

function rssSplitKiB(pid: number): { anon: number; file: number } {
  const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, "utf8") : "";
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0);
  return { anon: field("RssAnon"), file: field("RssFile") + field("RssShmem") };
}

/**
 * libvirt's QEMU arguments made runnable on their own: without -S (libvirt starts it paused) and the QMP monitor,
 * without libvirt's secret object, the tap fd it passed becomes QEMU's user network, the serial console a file, and
 * the disks the bench's copies.
 */
function replayArgs(argv: readonly string[], to: { disk: string; iso: string; backing: string; serial: string }): string[] {
  // The file nodes under a format node that another one names as its backing: the backing file's.
  const nodes = argv.flatMap((a, i) => (a === "-blockdev" ? [JSON.parse(argv[i + 1]!) as { "node-name": string; file?: string; backing?: string | null }] : []));
  const backingFormats = new Set(nodes.flatMap((n) => (typeof n.backing === "string" ? [n.backing] : [])));
  const backingFiles = new Set(nodes.flatMap((n) => (backingFormats.has(n["node-name"]) && typeof n.file === "string" ? [n.file] : [])));
  const out: string[] = [argv[0]!];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1] ?? "";
    if (a === "-S" || a === "-daemonize") continue;
    if ((a === "-object" && v.includes('"qom-type":"secret"')) || (a === "-chardev" && v.includes("id=charmonitor")) || a === "-mon" || a === "-pidfile" || a === "-add-fd") {
      i++;
      continue;
    }
    if (a === "-chardev" && /id=charserial0/.test(v)) {
      out.push(a, `file,id=charserial0,path=${to.serial}`);
      i++;
      continue;
    }
    if (a === "-netdev" && v.includes('"type":"tap"')) {
      out.push(a, `user,id=${(JSON.parse(v) as { id: string }).id}`);
      i++;
      continue;
    }
    if (a === "-blockdev" && v.includes('"filename"')) {
      const b = JSON.parse(v) as { filename: string; "node-name": string };
      b.filename = b.filename.endsWith(".iso") ? to.iso : backingFiles.has(b["node-name"]) ? to.backing : to.disk;
      out.push(a, JSON.stringify(b));
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * From libvirtd's debug log, each domain start: from qemuProcessStart to the `cont` that lets the guest run, and
 * within it "Verifying and updating provided guest CPU" (on x86 libvirt reads every CPU feature with one qom-get each).
 */
function libvirtStartSteps(log: string): { start: number; cpu: number; qomGets: number }[] {
  const at = (line: string): number => Date.parse(`${line.slice(0, 23).replace(" ", "T")}Z`);
  const out: { start: number; cpu: number; qomGets: number }[] = [];
  let began = 0;
  let cpuFrom = 0;
  let cpu = 0;
  let gets = 0;
  for (const line of log.split("\n")) {
    if (line.includes("qemuProcessStart:") && line.includes("asyncJob=start")) [began, cpu, gets] = [at(line), 0, 0];
    else if (line.includes("Verifying and updating provided guest CPU")) cpuFrom = at(line);
    else if (cpuFrom > 0 && line.includes("qemuProcessLaunch:") && !line.includes("Verifying")) [cpu, cpuFrom] = [at(line) - cpuFrom, 0];
    else if (cpuFrom > 0 && line.includes("QEMU_MONITOR_SEND_MSG") && line.includes('"execute":"qom-get"')) gets++;
    else if (began > 0 && line.includes('"execute":"cont"') && line.includes("QEMU_MONITOR_SEND_MSG")) {
      out.push({ start: at(line) - began, cpu, qomGets: gets });
      began = 0;
    }
  }
  return out;
}

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const rssOnly = args.includes("--rss-only");
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : rssOnly ? 1 : 3;
const settleAt = args.indexOf("--settle");
const settleMs = (settleAt >= 0 ? Number(args[settleAt + 1]) : 5) * 1000;
const manifest = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--runs" && args[i - 1] !== "--settle") ?? join(repoRoot, "examples/vm-v1alpha1.yaml");
const firstLine = /bunvirt-guest: booted/;

const dir = mkdtempSync(join(tmpdir(), "bunvirt-bench-run-"));
chmodSync(dir, 0o755);
const registry = await guestRegistry(join(dir, "registry"));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function waitFile(file: string, re: RegExp, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(file) && re.test(readFileSync(file, "utf8")))) {
    if (Date.now() > deadline) throw new Error(`no ${re} in ${file}`);
    await Bun.sleep(20);
  }
}

const bunvirtTimes: number[] = [];
/** Each run's stderr lines with their arrival (ms after the spawn), and when its first serial line was seen. */
const timelines: { lines: { ms: number; line: string }[]; firstLineMs: number }[] = [];
const qemuTimes: number[] = [];
const stops: string[] = [];
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const virshTimes: number[] = [];
const argvTimes: number[] = [];
/** The QEMU command line libvirt ran for run 1 (from /proc), and the overlay's backing file. */
let qemuArgs: string[] = [];
/** Per virsh create: libvirt's domain start, and its guest CPU check, from libvirtd's debug log. */
let libvirtSteps: { start: number; cpu: number; qomGets: number }[] = [];
let backingFile = "";
let replayed: string[] = [];
let rss: { name: string; kib: number; anon: number; file: number; pss: number }[] = [];
// The local run's outer process only waits for the launcher inside the namespace; a pod has no such process.
let outerKiB = 0;
let outerPssKiB = 0;
let disks: { xml: string; disk: string; iso: string } | null = null;

for (let i = 0; i < runs; i++) {
  const stateDir = join(dir, `run${i}`);
  const consoleFile = join(dir, `console${i}.log`);
  const t0 = performance.now();
  const run = startRun([manifest, "--emulation", "--registry", registry.address, "--insecure-registry", registry.address, "--state-dir", stateDir], consoleFile);
  await waitFile(consoleFile, firstLine);
  bunvirtTimes.push(performance.now() - t0);
  timelines.push({ lines: run.timeline(), firstLineMs: performance.now() - t0 });
  if (i === 0) {
    await Bun.sleep(settleMs);
    // Keep copies of what this run used, for the peers.
    const pids = (name: string): number[] => Bun.spawnSync(["pgrep", "-f", name === "bunvirt" ? `run ${manifest}` : `${name}.*${stateDir}`]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
    const holder = Bun.spawnSync(["pgrep", "-f", `bunvirt-holder ${stateDir}`]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
    const dbus = Bun.spawnSync(["pgrep", "-f", `dbus-daemon --config-file=${stateDir}`]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
    const libvirtDbus = Bun.spawnSync(["pgrep", "-x", "libvirt-dbus"]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
    const all = pids("bunvirt");
    const inner = Bun.spawnSync(["pgrep", "-f", `run ${manifest}.*--inside-netns`]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
    outerKiB = all.filter((p) => !inner.includes(p)).reduce((sum, p) => sum + (rssKiB(p) ?? 0), 0);
    outerPssKiB = all.filter((p) => !inner.includes(p)).reduce((sum, p) => sum + pssKiB(p), 0);
    const groups: [string, number[]][] = [["bunvirt launcher", inner], ["libvirtd", pids("libvirtd")], ["virtlogd", pids("virtlogd")], ["dbus-daemon", dbus], ["libvirt-dbus", libvirtDbus], ["namespace holder (sh)", holder]];
    rss = groups.map(([name, ps]) => ({
      name,
      kib: ps.reduce((s, p) => s + (rssKiB(p) ?? 0), 0),
      anon: ps.reduce((s, p) => s + rssSplitKiB(p).anon, 0),
      file: ps.reduce((s, p) => s + rssSplitKiB(p).file, 0),
      pss: ps.reduce((s, p) => s + pssKiB(p), 0),
    }));
    const xml = Bun.spawnSync(["sh", "-c", `ls ${stateDir}/libvirt/etc/qemu/*.xml 2>/dev/null | head -1`]).stdout.toString().trim();
    const disk = Bun.spawnSync(["sh", "-c", `ls ${stateDir}/volumes/*.qcow2 | head -1`]).stdout.toString().trim();
    const iso = Bun.spawnSync(["sh", "-c", `ls ${stateDir}/volumes/*.iso | head -1`]).stdout.toString().trim();
    if (xml !== "" && disk !== "") {
      Bun.spawnSync(["cp", xml, join(dir, "domain.xml")]);
      const info = JSON.parse(Bun.spawnSync(["qemu-img", "info", "-U", "--output=json", disk]).stdout.toString()) as { "full-backing-filename"?: string; "backing-filename"?: string };
      const backing = info["full-backing-filename"] ?? info["backing-filename"];
      if (backing === undefined) throw new Error(`${disk} has no backing file`);
      Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", backing, join(dir, "disk.qcow2")]);
      Bun.spawnSync(["cp", iso, join(dir, "cidata.iso")]);
      qemuArgs = readFileSync(`/proc/${qemuPid(stateDir)}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
      backingFile = backing;
      disks = { xml: join(dir, "domain.xml"), disk: join(dir, "disk.qcow2"), iso: join(dir, "cidata.iso") };
    }
  }
  if (i === 0 || i === 1) {
    const qemu = qemuPid(stateDir);
    const qemuGone = goneAt(qemu);
    const asked = performance.now();
    if (i === 0) {
      run.proc.kill("SIGTERM");
      const q = await qemuGone;
      await run.proc.exited;
      stops.push(`SIGTERM to the run: the guest powered off ${s(q - asked)} after it; the run exited ${s(performance.now() - q)} after QEMU (goal <= 0.5 s)`);
    } else {
      const reply = new LauncherClient(join(stateDir, "launcher.sock")).kill();
      const q = await qemuGone;
      await reply;
      const answered = performance.now();
      await run.proc.exited;
      stops.push(`the launcher's kill: QEMU gone ${s(q - asked)} after the request (goal <= 0.3 s), answered ${s(answered - asked)}, the run exited ${s(performance.now() - asked)}`);
    }
    continue;
  }
  run.proc.kill("SIGTERM");
  await run.proc.exited;
}

const memMiB = Number(/<memory unit='KiB'>(\d+)</.exec(disks === null ? "" : readFileSync(disks.xml, "utf8"))?.[1] ?? 65536) / 1024;
if (disks !== null && !rssOnly) {
  for (let i = 0; i < runs; i++) {
    const out = join(dir, `qemu${i}.log`);
    const t0 = performance.now();
    const q = Bun.spawn(["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-m", String(memMiB), "-display", "none", "-nodefaults", "-no-user-config",
      "-drive", `file=${disks.disk},if=virtio,format=qcow2,snapshot=on`, "-drive", `file=${disks.iso},if=virtio,format=raw,readonly=on`, "-serial", `file:${out}`], { stdout: "ignore", stderr: "ignore" });
    await waitFile(out, firstLine);
    qemuTimes.push(performance.now() - t0);
    q.kill("SIGKILL");
    await q.exited;
  }
  const stack = await startLibvirtStack({ stateDir: join(dir, "virsh-stack"), emulation: true });
  try {
    // The run's own domain, but for what only a launcher can provide: its NIC on QEMU's user network instead of
    // the tap the launcher makes (the same virtio-net device, no option ROM), its serial console a file.
    const peerXml = (out: string, i: number): string => readFileSync(disks!.xml, "utf8")
      .replace(/<interface type='ethernet'>([\s\S]*?)<\/interface>/g, (_m, body: string) =>
        `<interface type='user'>${body.replace(/<target dev='[^']*' managed='no'\/>/, "").replace(/<mtu size='\d+'\/>/, "")}</interface>`)
      .replace(/<serial type='unix'>[\s\S]*?<\/serial>/, `<serial type='file'><source path='${out}'/><target port='0'/></serial>`)
      .replace(/<console type='unix'>[\s\S]*?<\/console>/, "")
      .replace(/<source file='[^']*\.qcow2'\/>/, `<source file='${disks!.disk}'/>`)
      .replace(/<source file='[^']*\.iso'\/>/, `<source file='${disks!.iso}'/>`)
      .replace(/<name>[^<]*<\/name>/, `<name>bench${i}</name>`).replace(/<uuid>[^<]*<\/uuid>/, "");
    // The QEMU command line libvirt ran for this domain (run 1's, from /proc), started directly: what the domain's
    // devices and libvirt's machine options cost the guest, without libvirt's own start (QMP, cgroups, labels).
    for (let i = 0; i < runs && qemuArgs.length > 0; i++) {
      const out = join(dir, `argv${i}.log`);
      replayed = replayArgs(qemuArgs, { disk: disks.disk, iso: disks.iso, backing: backingFile, serial: out });
      const t0 = performance.now();
      const q = Bun.spawn(replayed, { stdout: "ignore", stderr: "pipe" });
      await Promise.race([waitFile(out, firstLine), q.exited.then(async () => {
        throw new Error(`QEMU with libvirt's command line exited: ${await new Response(q.stderr).text()}\n${replayed.join(" ")}`);
      })]);
      argvTimes.push(performance.now() - t0);
      q.kill("SIGKILL");
      await q.exited;
    }
    // libvirtd's own account of its start (its debug log, QEMU's part only): where libvirt's time goes.
    const debugLog = join(dir, "libvirtd-debug.log");
    Bun.spawnSync(stack.inNamespace(["virt-admin", "-c", "libvirtd:///system", "daemon-log-outputs", `1:file:${debugLog}`]), { stdout: "ignore", stderr: "ignore" });
    Bun.spawnSync(stack.inNamespace(["virt-admin", "-c", "libvirtd:///system", "daemon-log-filters", "1:qemu.qemu_process 1:qemu.qemu_monitor 3:util 3:rpc 3:conf 3:object 3:event 3:security"]), { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < runs; i++) {
      const out = join(dir, `virsh${i}.log`);
      const xml = peerXml(out, i);
      const file = join(dir, `virsh${i}.xml`);
      writeFileSync(file, xml);
      const t0 = performance.now();
      const r = Bun.spawnSync(stack.inNamespace(["virsh", "-c", "qemu:///system", "create", file]), { stdout: "pipe", stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`virsh create: ${r.stderr.toString()}`);
      await waitFile(out, firstLine);
      virshTimes.push(performance.now() - t0);
      Bun.spawnSync(stack.inNamespace(["virsh", "-c", "qemu:///system", "destroy", `bench${i}`]), { stdout: "ignore", stderr: "ignore" });
    }
    libvirtSteps = existsSync(debugLog) ? libvirtStartSteps(readFileSync(debugLog, "utf8")) : [];
  } finally {
    await stack.stop();
  }
}

console.log(`time to the guest's first serial line (${firstLine.source}), median of ${runs}, TCG, ${manifest}`);
console.log(`  bunvirt run (process start -> line)      ${s(median(bunvirtTimes))}   runs: ${bunvirtTimes.map(s).join(", ")}`);
if (qemuTimes.length > 0) {
  console.log(`  qemu-system-x86_64 directly              ${s(median(qemuTimes))}   ratio bunvirt/qemu: ${(median(bunvirtTimes) / median(qemuTimes)).toFixed(2)}x (goal <= 1.15x)`);
  console.log(`  QEMU with libvirt's command line, direct  ${s(median(argvTimes))}   (the same domain: its devices and libvirt's machine options, no libvirt)`);
  console.log(`  virsh create into a running libvirtd     ${s(median(virshTimes))}   (the same domain; libvirtd already started)`);
  if (libvirtSteps.length > 0) {
    const starts = libvirtSteps.map((x) => x.start);
    const cpus = libvirtSteps.map((x) => x.cpu);
    console.log(`  libvirt's domain start in its debug log, qemuProcessStart -> cont: ${s(median(starts))}, of which checking the guest CPU ${s(median(cpus))} (${libvirtSteps[0]!.qomGets} qom-get calls, one per CPU feature); QEMU's own start is in both peers`);
  }
  const q = median(qemuTimes);
  console.log(`  the gap to bare QEMU, ${s(median(bunvirtTimes) - q)}: the domain's devices and options ${s(median(argvTimes) - q)}, libvirt's start ${s(median(virshTimes) - median(argvTimes))}, bunvirt's own (its private stack's start, storage, network) ${s(median(bunvirtTimes) - median(virshTimes))}`);
  if (args.includes("--argv")) console.log(`  libvirt's command line, as replayed: ${replayed.join(" ")}`);
}
// Where bunvirt's time goes, for the run with the median time: when each step's line reached the
// bench (after the spawn), in the order they came; the stack starts beside storage and network.
const milestones: [string, RegExp][] = [
  ["read, validated, pulled (cached), network namespace made", /run: network namespace/],
  ["inside it: the runner has the VMI; storage and network start", /preparing storage and setting up networking/],
  ["storage and network ready", /storage and networking ready/],
  ["libvirt stack ready (started beside them)", /stack: ready/],
  ["domain defined and started (QEMU runs)", /is running/],
];
const mid = timelines.map((t, i) => [t.firstLineMs, i] as const).sort((a, b) => a[0] - b[0])[Math.floor(timelines.length / 2)]?.[1];
if (mid !== undefined) {
  const t = timelines[mid]!;
  console.log(`where bunvirt run's time goes (run ${mid + 1}; when each line reached the bench, after the spawn):`);
  const seen = milestones.map(([label, re]) => ({ label, ms: t.lines.find((l) => re.test(l.line))?.ms }));
  for (const m of seen.filter((x) => x.ms !== undefined).sort((a, b) => a.ms! - b.ms!)) console.log(`  ${s(m.ms!).padStart(7)}  ${m.label}`);
  for (const m of seen.filter((x) => x.ms === undefined)) console.log(`     (no line)  ${m.label}`);
  console.log(`  ${s(t.firstLineMs).padStart(7)}  the guest's first serial line`);
}
console.log("stopping:");
for (const line of stops) console.log(`  ${line}`);
const total = rss.reduce((a, r) => a + r.kib, 0);
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
console.log(`launcher-side RSS with the VM running, ${settleMs / 1000} s after the first line (QEMU excluded):`);
for (const r of rss) console.log(`  ${r.name.padEnd(26)} ${mib(r.kib)}   (anonymous ${mib(r.anon)}, file-backed ${mib(r.file)}; PSS ${mib(r.pss)})`);
console.log(`  total                      ${(total / 1024).toFixed(1)} MiB (goal <= 100 MiB; KubeVirt budgets 190 Mi for these); PSS ${mib(rss.reduce((a, r) => a + r.pss, 0))}`);
console.log(`  the local run's outer bunvirt process, which only waits outside the namespace: ${mib(outerKiB)} (PSS ${mib(outerPssKiB)}: it shares the executable's pages with the launcher)`);
console.log(`  every bunvirt process of the local run: RSS summed ${mib(total + outerKiB)}, PSS summed ${mib(rss.reduce((a, r) => a + r.pss, 0) + outerPssKiB)} (goal <= 100 MiB)`);
await registry.stop();
rmSync(dir, { recursive: true, force: true });
void bunvirtCommand;
