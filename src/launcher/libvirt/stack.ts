/**
 * A private libvirt stack for one VM: libvirtd (QEMU driver only),
 * a dbus-daemon on a socket in the state directory and libvirt-dbus on that
 * bus, all inside one private mount namespace in which the state directory's
 * run/, lib/, cache/, var-log/, log/ and etc/ sit over /run/libvirt,
 * /var/lib/libvirt, /var/cache/libvirt, /var/log (swtpm's logs),
 * /var/log/libvirt and /etc/libvirt, and (emulation)
 * /dev/kvm is a root-only empty file. That is the local run's layout
 * ("namespace", on a shared host; needs CAP_SYS_ADMIN). In a pod ("pod") the
 * container has its own filesystem: the pod mounts those six directories of
 * the state volume at the system paths themselves (launcherPod), the stack
 * checks that they are the same directories and runs the daemons directly,
 * and /dev/kvm is absent under emulation (the pod does not request it).
 *
 * No virtlogd: qemu.conf's `stdio_handler = "file"` has QEMU write the
 * serial console log and libvirtd the domain's QEMU log themselves (16-17
 * MiB less RSS per VM); the launcher bounds their size (../log-bound.ts).
 *
 * Why libvirtd, not virtqemud: Debian 12's libvirt 9.0 packages ship only the
 * monolithic libvirtd (no virtqemud binary). LIBVIRT_DRIVER_DIR limits it to
 * the QEMU driver, which is what virtqemud would be.
 *
 * The stack supervises every process: a death is reported (health(),
 * onHealthChange) and the process restarted with backoff; after a restart the
 * D-Bus client is brought back through to libvirtd. QEMU is not a child of
 * libvirtd's process lifetime: its status XML lives under run/qemu and its
 * monitor socket under lib/qemu, so a restarted libvirtd reconnects to it.
 */
import { chmod, chown, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { backoffDelay, type BackoffPolicy, type RestartPolicy } from "../../retry/backoff.ts";
import { defaultCapabilityCacheSeed, saveCapabilityCache, seedCapabilityCache } from "./capability-cache.ts";
import { LibvirtClient, type LibvirtClientOptions } from "./client.ts";
import { dbusConf, libvirtClientConf, libvirtdConf, qemuConf } from "./config.ts";
import { SupervisedDaemon, type DaemonSpec } from "./daemon.ts";
import { DEFAULT_DRIVERS, prepareDriverDir } from "./drivers.ts";
import { inNamespaceArgv } from "./holder-script.ts";
import { NamespaceHolder } from "./namespace.ts";
import { bindMounts, busAddress, checkPodMounts, checkStackPaths, daemonPidFile, domainPidFile, stackPaths, SYSTEM_PATHS, type StackPaths } from "./paths.ts";
import { isSharedNamespace, namespaceMembers, processAlive, processName } from "./processes.ts";
import { summarize, type ComponentName, type DaemonName, type StackHealth } from "./status.ts";
import { canConnectUnix, socketExists } from "./unix-socket.ts";
import { detectVersions, type StackVersions } from "./versions.ts";
import { openBus } from "./bus.ts";
import { libcChildWaits } from "./child-waits.ts";
import { startOrphanReaper, type OrphanReaper } from "./orphan-reaper.ts";
import { SWTPM_CONFIG_HOME, swtpmConfigFiles, swtpmDirs } from "./swtpm.ts";
import { qemuUser } from "../qemu-user.ts";

export interface LibvirtStackOptions {
  /** All runtime directories live below it; created if missing. Kept by stop(). */
  readonly stateDir: string;
  /** true: hide /dev/kvm from libvirtd so domains use TCG without KVM re-probing. */
  readonly emulation: boolean;
  /**
   * Where the system paths come from: "namespace" (default) bind-mounts the
   * state directory's over them in a private mount namespace; "pod" expects
   * the pod to have mounted them there (see StackLayout).
   */
  readonly layout?: StackLayout;
  /**
   * Directory to seed the QEMU capability cache from, and to which the fresh
   * cache is saved after the first domain start. Default
   * /var/cache/bunvirt/libvirt-caps-<libvirt version>-<qemu version> (with a
   * "-drivers-…" suffix when `drivers` is not the default).
   */
  readonly capabilityCacheSeed?: string;
  /** Every output line of the daemons ("libvirtd[123]: …") and of the supervisor ("stack: …"). */
  readonly log?: (line: string) => void;
  /** libvirtd connection drivers to load. Default ["qemu"]. */
  readonly drivers?: readonly string[];
  /** How long startLibvirtStack may take before it gives up. Default 60 s. */
  readonly readyTimeoutMs?: number;
  readonly client?: LibvirtClientOptions;
  /** Restart policy of the daemons. Default daemonRestarts (src/retry/backoff.ts). */
  readonly backoff?: RestartPolicy;
  /**
   * true: this process becomes the subreaper of the stack and waits for each
   * orphan (QEMU) as it ends (orphan-reaper.ts), so a stop does not wait for
   * PID 1. For a process that owns its children (a launcher); default false.
   */
  readonly reapOrphans?: boolean;
}

/** "namespace": the local run's private mount namespace; "pod": the pod's own mounts, no namespace. */
export type StackLayout = "namespace" | "pod";

export interface LibvirtStack {
  readonly stateDir: string;
  readonly paths: StackPaths;
  /** D-Bus address of the private bus. */
  readonly busAddress: string;
  /** The D-Bus client on the private bus (reconnected by the stack after restarts). */
  readonly client: LibvirtClient;
  readonly versions: StackVersions;
  /** Where the capability cache was seeded from and is saved to. */
  readonly capabilityCacheSeed: string;
  /** Capability cache files copied in from the seed at start. */
  readonly seededCapabilities: readonly string[];
  /** "mnt:[<inode>]" of the private mount namespace; "" in the "pod" layout. */
  readonly namespace: string;
  health(): StackHealth;
  /** Called on every change of health(); returns an unsubscribe function. */
  onHealthChange(listener: (health: StackHealth) => void): () => void;
  /** Resolves once health().ok; rejects with the current summary after `timeoutMs` (default 60 s). */
  waitUntilReady(timeoutMs?: number): Promise<StackHealth>;
  pids(): Readonly<Record<ComponentName, number | null>>;
  /** Pid of a running domain's QEMU (from libvirt's pid file), or null. */
  domainPid(domainName: string): Promise<number | null>;
  /** argv running a command inside the stack's namespace (e.g. virsh), while the holder runs. */
  inNamespace(argv: readonly string[]): string[];
  /** Saves the capability cache to the seed directory now; returns the files written. */
  saveCapabilityCache(): Promise<string[]>;
  /** Stops everything the stack started (daemons, QEMU), ends the namespace (and so its mounts). */
  stop(): Promise<void>;
}

interface Binaries {
  readonly libvirtd: string;
  readonly dbusDaemon: string;
  readonly libvirtDbus: string;
  readonly qemu: string;
}

const SEARCH_PATH = `${process.env.PATH ?? ""}:/usr/sbin:/usr/bin:/sbin:/bin`;

function findBinaries(): Binaries {
  const find = (name: string, pkg: string): string => {
    const path = Bun.which(name, { PATH: SEARCH_PATH });
    if (path === null) throw new Error(`"${name}" is not installed (Debian package ${pkg})`);
    return path;
  };
  return {
    libvirtd: find("libvirtd", "libvirt-daemon"),
    dbusDaemon: find("dbus-daemon", "dbus-daemon"),
    libvirtDbus: find("libvirt-dbus", "libvirt-dbus"),
    qemu: find("qemu-system-x86_64", "qemu-system-x86"),
  };
}

async function prepareStateDir(paths: StackPaths): Promise<void> {
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const swtpm = swtpmDirs(paths);
  for (const dir of [paths.run, paths.lib, paths.cache, paths.varLog, paths.log, paths.etc, paths.pids, paths.dbus, swtpm.configHome, swtpm.localca]) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  }
  await chmod(paths.dbus, 0o700);
  // swtpm runs as QEMU's account and its local CA writes its keys there.
  const qemu = qemuUser();
  await chown(swtpm.localca, qemu.uid, qemu.gid);
  await chmod(swtpm.localca, 0o700);
  await Promise.all([
    ...Object.entries(swtpmConfigFiles()).map(([name, text]) => writeFile(join(swtpm.configHome, name), text)),
    writeFile(join(paths.etc, "libvirtd.conf"), libvirtdConf()),
    writeFile(join(paths.etc, "qemu.conf"), qemuConf(qemu)),
    writeFile(join(paths.etc, "libvirt.conf"), libvirtClientConf()),
    writeFile(paths.busConfig, dbusConf(paths.busSocket)),
    writeFile(paths.kvmMask, "", { mode: 0o600 }),
  ]);
  // writeFile's mode only applies on creation; the mask must be root-only.
  await chmod(paths.kvmMask, 0o600);
}

/** Pinging libvirtd until it answers: 25-50 ms, doubling to 0.5-1 s. */
const pingBackoff: BackoffPolicy = { initialMs: 50, factor: 2, maxMs: 1_000, jitter: 0.5 };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class PrivateLibvirtStack implements LibvirtStack {
  readonly stateDir: string;
  readonly paths: StackPaths;
  readonly busAddress: string;
  readonly client: LibvirtClient;
  readonly versions: StackVersions;
  readonly capabilityCacheSeed: string;
  readonly seededCapabilities: readonly string[];

  readonly #log: (line: string) => void;
  /** null in the "pod" layout. */
  readonly #holder: NamespaceHolder | null;
  readonly #daemons: Record<DaemonName, SupervisedDaemon>;
  readonly #listeners = new Set<(health: StackHealth) => void>();
  #lastHealthKey = "";
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #synced = false;
  #syncReason: string | null = "starting";
  #syncing = false;
  #capsSaved = false;
  #saving: Promise<unknown> = Promise.resolve();
  readonly #reapOrphans: boolean;
  #reaper: OrphanReaper | null = null;

  constructor(init: {
    paths: StackPaths;
    versions: StackVersions;
    seed: string;
    seeded: readonly string[];
    binaries: Binaries;
    driverDir: string | null;
    emulation: boolean;
    layout: StackLayout;
    options: LibvirtStackOptions;
  }) {
    const { paths, binaries, options } = init;
    this.paths = paths;
    this.stateDir = paths.stateDir;
    this.busAddress = busAddress(paths);
    this.versions = init.versions;
    this.capabilityCacheSeed = init.seed;
    this.seededCapabilities = init.seeded;
    this.#reapOrphans = options.reapOrphans === true;
    const userLog = options.log ?? (() => {});
    this.#log = (line) => {
      try {
        userLog(line);
      } catch {
        // a broken log sink must not break supervision
      }
    };
    this.client = new LibvirtClient(() => openBus(paths.busSocket, { connectTimeoutMs: 5_000 }), options.client ?? {});
    this.client.onDisconnect((reason) => {
      this.#setSynced(false, `bus connection lost: ${reason}`);
    });
    this.client.onDomainEvent((event) => {
      if (event.type === "Started" && !this.#capsSaved) {
        this.#capsSaved = true;
        this.#saving = this.saveCapabilityCache().then(
          (files) => files.length > 0 && this.#log(`stack: saved QEMU capability cache ${files.join(", ")} to ${this.capabilityCacheSeed}`),
          (error) => this.#log(`stack: ${errorText(error)}`),
        );
      }
    });

    const onChange = (): void => this.#onComponentChange();
    const backoff = options.backoff;
    const holder = init.layout === "pod"
      ? null
      : new NamespaceHolder(bindMounts(paths, init.emulation), {
          log: this.#log,
          onChange,
          ...(backoff ? { backoff } : {}),
        });
    this.#holder = holder;
    const wrap = async (argv: readonly string[]): Promise<string[]> => (holder === null ? [...argv] : inNamespaceArgv(await holder.currentPid(), argv));
    const ctx = { wrap, log: this.#log, onChange, ...(backoff ? { backoff } : {}) };
    // MALLOC_ARENA_MAX: glibc gives each thread of libvirtd and libvirt-dbus an arena of its own that keeps what it once held.
    const env: Record<string, string> = { PATH: SEARCH_PATH, LC_ALL: "C", HOME: process.env.HOME ?? "/root", MALLOC_ARENA_MAX: "1" };
    const spec = (s: DaemonSpec): SupervisedDaemon => new SupervisedDaemon(s, ctx);
    this.#daemons = {
      libvirtd: spec({
        name: "libvirtd",
        argv: [binaries.libvirtd, "-f", join(paths.etc, "libvirtd.conf"), "-p", daemonPidFile(paths, "libvirtd")],
        // XDG_CONFIG_HOME: swtpm_setup, which libvirtd runs with its environment, finds the stack's configuration (swtpm.ts).
        env: { ...env, XDG_CONFIG_HOME: SWTPM_CONFIG_HOME, ...(init.driverDir !== null ? { LIBVIRT_DRIVER_DIR: init.driverDir } : {}) },
        ready: () => socketExists(paths.libvirtdSocket),
        readyTimeoutMs: 60_000,
        prepare: () => rm(paths.libvirtdSocket, { force: true }),
      }),
      "dbus-daemon": spec({
        name: "dbus-daemon",
        argv: [binaries.dbusDaemon, `--config-file=${paths.busConfig}`, "--nofork", "--nopidfile"],
        env,
        ready: () => canConnectUnix(paths.busSocket),
        readyTimeoutMs: 30_000,
        prepare: () => rm(paths.busSocket, { force: true }),
      }),
      "libvirt-dbus": spec({
        name: "libvirt-dbus",
        argv: [binaries.libvirtDbus, "--session"],
        env: { ...env, DBUS_SESSION_BUS_ADDRESS: this.busAddress },
        ready: () => this.client.serviceAvailable(),
        readyTimeoutMs: 30_000,
        prepare: () => this.#waitForRunning("dbus-daemon", 30_000),
      }),
    };
  }

  get namespace(): string {
    return this.#holder?.namespace ?? "";
  }

  async start(readyTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    if (this.#reapOrphans) {
      const waits = libcChildWaits();
      if (typeof waits === "string") this.#log(`stack: orphaned processes (QEMU) are left to PID 1 to wait for: ${waits}`);
      else this.#reaper = startOrphanReaper({ waits, log: this.#log });
    }
    if (this.#holder !== null) {
      await this.#holder.create();
      this.#log(`stack: namespace ${this.#holder.namespace} held by pid ${this.#holder.pid}`);
    }
    await Promise.all([this.#daemons.libvirtd.start(), this.#daemons["dbus-daemon"].start()]);
    await this.#daemons["libvirt-dbus"].start();
    await this.#syncOnce(deadline);
    if (!this.#synced) {
      throw new Error(`the D-Bus client did not get through to libvirtd within ${readyTimeoutMs} ms: ${this.#syncReason ?? "unknown"}`);
    }
  }

  health(): StackHealth {
    const components = [
      ...(this.#holder !== null ? [this.#holder.status()] : []),
      this.#daemons.libvirtd.status(),
      this.#daemons["dbus-daemon"].status(),
      this.#daemons["libvirt-dbus"].status(),
    ];
    return summarize(components, { connected: this.client.connected, synced: this.#synced, reason: this.#syncReason });
  }

  onHealthChange(listener: (health: StackHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  waitUntilReady(timeoutMs = 60_000): Promise<StackHealth> {
    const now = this.health();
    if (now.ok) return Promise.resolve(now);
    return new Promise<StackHealth>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`Cannot get the libvirt stack in "${this.stateDir}" ready within ${timeoutMs} ms: ${this.health().summary}`));
      }, timeoutMs);
      const unsubscribe = this.onHealthChange((health) => {
        if (!health.ok) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(health);
      });
    });
  }

  pids(): Readonly<Record<ComponentName, number | null>> {
    return {
      namespace: this.#holder?.pid ?? null,
      libvirtd: this.#daemons.libvirtd.pid,
      "dbus-daemon": this.#daemons["dbus-daemon"].pid,
      "libvirt-dbus": this.#daemons["libvirt-dbus"].pid,
    };
  }

  async domainPid(domainName: string): Promise<number | null> {
    try {
      const pid = Number((await readFile(domainPidFile(this.paths, domainName), "utf8")).trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  inNamespace(argv: readonly string[]): string[] {
    if (this.#holder === null) return [...argv];
    const pid = this.#holder.pid;
    if (pid === null) throw new Error(`Cannot run "${argv.join(" ")}" in the stack's namespace: the namespace holder is ${this.#holder.status().state}`);
    return inNamespaceArgv(pid, argv);
  }

  saveCapabilityCache(): Promise<string[]> {
    return saveCapabilityCache(this.paths.capabilities, this.capabilityCacheSeed);
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  // --- supervision ---------------------------------------------------------

  #allRunning(): boolean {
    return this.health().components.every((c) => c.state === "running");
  }

  #onComponentChange(): void {
    if (!this.#allRunning() && this.#synced) {
      const down = this.health().down.map((c) => c.name).join(", ");
      this.#setSynced(false, `waiting for ${down}`);
      return; // #setSynced emitted
    }
    this.#emitHealth();
    if (this.#allRunning() && !this.#synced) this.#scheduleSync();
  }

  #setSynced(synced: boolean, reason: string | null): void {
    this.#synced = synced;
    this.#syncReason = reason;
    this.#emitHealth();
    if (!synced && this.#allRunning()) this.#scheduleSync();
  }

  #emitHealth(): void {
    const health = this.health();
    const key = JSON.stringify([health.ok, health.summary, health.components.map((c) => [c.state, c.pid])]);
    if (key === this.#lastHealthKey) return;
    const wasOk = this.#lastHealthKey.startsWith("[true");
    this.#lastHealthKey = key;
    if (health.ok && !wasOk) this.#log("stack: ready");
    else if (!health.ok && wasOk && !this.#stopping) this.#log(`stack: not ready: ${health.summary}`);
    for (const listener of [...this.#listeners]) {
      try {
        listener(health);
      } catch {
        // listeners must not break supervision
      }
    }
  }

  #scheduleSync(): void {
    if (this.#syncing || this.#stopping) return;
    this.#syncing = true;
    void this.#syncLoop().finally(() => {
      this.#syncing = false;
    });
  }

  /** Pings until the client gets through, as long as every component runs. */
  async #syncLoop(): Promise<void> {
    for (let attempt = 0; !this.#stopping && !this.#synced && this.#allRunning(); attempt++) {
      if (await this.#tryPing()) return;
      await sleep(backoffDelay(attempt, pingBackoff));
    }
  }

  async #syncOnce(deadline: number): Promise<void> {
    while (!this.#stopping && Date.now() < deadline) {
      if (await this.#tryPing()) return;
      await sleep(50);
    }
  }

  async #tryPing(): Promise<boolean> {
    try {
      await this.client.ping();
      if (!this.#synced) this.#setSynced(true, null);
      return true;
    } catch (error) {
      this.#syncReason = errorText(error);
      return false;
    }
  }

  async #waitForRunning(name: DaemonName, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#daemons[name].status().state !== "running") {
      if (this.#stopping) throw new Error("the stack is stopping");
      if (Date.now() > deadline) throw new Error(`${name} is not running after ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#log("stack: stopping");
    await this.#saving.catch(() => {});
    this.client.close();
    // libvirtd's record of its QEMUs, read before it stops: a QEMU that a
    // restarted libvirtd adopted may still be exiting when the daemons are
    // gone, and must be gone before the stack says it stopped.
    const domains = await this.#domainPids();
    const order: DaemonName[] = ["libvirt-dbus", "libvirtd", "dbus-daemon"];
    await Promise.all(order.map((name) => this.#daemons[name].stop()));
    await this.#killLeftovers();
    await this.#endProcesses(domains.filter((pid) => processAlive(pid) && (processName(pid) ?? "").startsWith("qemu")));
    this.#reaper?.sweep();
    this.#reaper?.stop();
    await this.#holder?.stop();
    const namespace = this.#holder?.namespace ?? null;
    if (namespace !== null && !isSharedNamespace(namespace)) {
      const left = namespaceMembers(namespace);
      if (left.length > 0) {
        for (const pid of left) process.kill(pid, "SIGKILL");
        await sleep(100);
        const still = namespaceMembers(namespace);
        if (still.length > 0) throw new Error(`Cannot stop the libvirt stack in "${this.stateDir}": processes ${still.join(", ")} remain in ${namespace}`);
      }
    }
    this.#log("stack: stopped");
    this.#emitHealth();
    this.#listeners.clear();
  }

  /** The pids in libvirtd's domain pid files (its running QEMUs); not driver.pid, the QEMU driver's lock, which names libvirtd. */
  async #domainPids(): Promise<number[]> {
    const dir = join(this.paths.run, "qemu");
    const names = await readdir(dir).catch(() => [] as string[]);
    const pids = await Promise.all(
      names.filter((n) => n.endsWith(".pid") && n !== "driver.pid").map((n) => this.domainPid(n.slice(0, -".pid".length))),
    );
    return pids.filter((pid): pid is number => pid !== null);
  }

  /** QEMU and anything else libvirtd left in the namespace: SIGTERM, 5 s, SIGKILL. */
  async #killLeftovers(): Promise<void> {
    const namespace = this.#holder?.namespace ?? null;
    if (namespace === null || isSharedNamespace(namespace)) return;
    const holderPid = this.#holder?.pid ?? null;
    await this.#endProcesses(namespaceMembers(namespace).filter((pid) => pid !== holderPid));
  }

  /** SIGTERM, up to 5 s for them to go, then SIGKILL and up to 5 s more. */
  async #endProcesses(left: number[]): Promise<void> {
    if (left.length === 0) return;
    const others = (): number[] => left.filter((pid) => processAlive(pid));
    this.#log(`stack: terminating ${left.length} process(es) left by libvirt: ${left.join(", ")}`);
    for (const pid of left) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (others().length === 0) return;
      await sleep(50);
    }
    for (const pid of others()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const killDeadline = Date.now() + 5_000;
    while (others().length > 0 && Date.now() < killDeadline) await sleep(50);
  }
}

/** Identity of a directory: device and inode, or null when it is missing or not a directory. */
async function dirIdentity(path: string): Promise<string | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? `${s.dev}:${s.ino}` : null;
  } catch {
    return null;
  }
}

/** Null when the pod mounted the stack's directories at the system paths (and /dev/kvm is absent under emulation); else what is wrong. */
async function checkPodLayout(paths: StackPaths, emulation: boolean): Promise<string | null> {
  const mounts = bindMounts(paths, false);
  const identities = await Promise.all(mounts.flatMap((m) => [dirIdentity(m.source), dirIdentity(m.target)]));
  const kvmPresent = await stat(SYSTEM_PATHS.kvm).then(() => true, () => false);
  return checkPodMounts(mounts, identities, emulation && kvmPresent);
}

/**
 * Starts a private libvirt stack in `options.stateDir` and resolves once the
 * D-Bus client gets through libvirt-dbus to libvirtd. Needs root.
 */
export async function startLibvirtStack(options: LibvirtStackOptions): Promise<LibvirtStack> {
  const paths = stackPaths(resolve(options.stateDir));
  const fail = (reason: string, cause?: unknown): Error =>
    new Error(`Cannot start libvirt stack in "${paths.stateDir}": ${reason}`, cause !== undefined ? { cause } : undefined);
  const problem = checkStackPaths(paths);
  if (problem !== null) throw fail(problem);
  if (process.getuid?.() !== 0) throw fail("not running as root (mount namespaces, libvirtd)");
  const layout = options.layout ?? "namespace";

  let stack: PrivateLibvirtStack;
  try {
    const binaries = findBinaries();
    const versions = await detectVersions(binaries.qemu);
    const drivers = options.drivers ?? DEFAULT_DRIVERS;
    const seed = options.capabilityCacheSeed ?? defaultCapabilityCacheSeed(versions, drivers);
    await prepareStateDir(paths);
    if (layout === "pod") {
      const problem = await checkPodLayout(paths, options.emulation);
      if (problem !== null) throw new Error(problem);
    }
    const driverDir = await prepareDriverDir(paths.drivers, drivers);
    const seeded = await seedCapabilityCache(seed, paths.capabilities);
    stack = new PrivateLibvirtStack({ paths, versions, seed, seeded, binaries, driverDir, emulation: options.emulation, layout, options });
    if (driverDir === null) options.log?.("stack: libvirt driver directory not found; libvirtd loads all its drivers");
    if (seeded.length > 0) options.log?.(`stack: seeded QEMU capability cache from ${seed}`);
  } catch (error) {
    throw fail(errorText(error), error);
  }
  try {
    await stack.start(options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stack.stop().catch((stopError: unknown) => options.log?.(`stack: cleanup after failed start: ${errorText(stopError)}`));
    throw fail(errorText(error), error);
  }
  return stack;
}
