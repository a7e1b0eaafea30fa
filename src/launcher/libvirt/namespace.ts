/**
 * The stack's private mount namespace, kept alive by the holder process (see
 * holder-script.ts). Created with `unshare --mount --propagation private`
 * plus the bind mounts; if the holder dies while daemons (or QEMU) still live
 * in the namespace, a new holder joins it through one of them
 * (`nsenter -t <member> -m`), so the namespace and its mounts are never
 * rebuilt under running processes. Only when nothing is left in it is a
 * fresh namespace created.
 */
import type { Subprocess } from "bun";
import { backoffDelay, daemonRestarts, type RestartPolicy } from "../../retry/backoff.ts";
import { wait } from "../../retry/wait.ts";
import { createHolderArgv, joinHolderArgv, parseHolderReady } from "./holder-script.ts";
import { forEachLine } from "./lines.ts";
import type { BindMount } from "./paths.ts";
import { isSharedNamespace, namespaceMembers } from "./processes.ts";
import { describeExit, type ComponentState, type ComponentStatus } from "./status.ts";
import { spawnOwn } from "../../process/own-children.ts";

export interface HolderContext {
  readonly log: (line: string) => void;
  readonly onChange: () => void;
  readonly backoff?: RestartPolicy;
  /** How long the holder may take to set up. Default 10 s. */
  readonly readyTimeoutMs?: number;
}

type HolderProcess = Subprocess<"pipe", "pipe", "pipe">;

interface Waiter {
  readonly resolve: (pid: number) => void;
  readonly reject: (error: Error) => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class NamespaceHolder {
  readonly #mounts: readonly BindMount[];
  readonly #ctx: HolderContext;
  #proc: HolderProcess | null = null;
  #namespace: string | null = null;
  #state: ComponentState = "stopped";
  #reason: string | null = null;
  #since = Date.now();
  #restarts = 0;
  #stopping = false;
  #waiters: Waiter[] = [];
  #wake: (() => void) | null = null;
  #lastStderr: string | null = null;

  constructor(mounts: readonly BindMount[], ctx: HolderContext) {
    this.#mounts = mounts;
    this.#ctx = ctx;
  }

  /** Pid of the holder while it runs. */
  get pid(): number | null {
    return this.#state === "running" ? (this.#proc?.pid ?? null) : null;
  }

  /** "mnt:[<inode>]" of the private namespace once created. */
  get namespace(): string | null {
    return this.#namespace;
  }

  status(): ComponentStatus {
    return { name: "namespace", state: this.#state, pid: this.pid, restarts: this.#restarts, reason: this.#reason, since: this.#since };
  }

  /** Live processes in the namespace (the holder included). */
  members(): number[] {
    return this.#namespace === null ? [] : namespaceMembers(this.#namespace);
  }

  /** Creates the namespace and its mounts; resolves when the holder is ready. */
  async create(): Promise<void> {
    await this.#spawn(createHolderArgv(this.#mounts), null);
  }

  /** The holder's pid, waiting while a dead holder is being replaced. */
  currentPid(): Promise<number> {
    const pid = this.pid;
    if (pid !== null) return Promise.resolve(pid);
    if (this.#stopping) return Promise.reject(new Error("the namespace is being torn down"));
    return new Promise<number>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Ends the holder (EOF on its stdin; it then kills whatever is still in
   * the namespace). Callers stop the daemons first.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(new Error("the namespace is being torn down"));
    const proc = this.#proc;
    if (proc !== null && proc.exitCode === null && proc.signalCode === null) {
      try {
        await proc.stdin.end();
      } catch {
        // pipe already closed
      }
      // The holder gives leftovers 5 s after SIGTERM before SIGKILL.
      const exited = await Promise.race([proc.exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!exited) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    }
    this.#setState("stopped", this.#reason);
  }

  #setState(state: ComponentState, reason: string | null): void {
    if (this.#state === state && this.#reason === reason) return;
    this.#state = state;
    this.#reason = reason;
    this.#since = Date.now();
    if (state === "running" && this.#proc !== null) {
      const pid = this.#proc.pid;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.resolve(pid);
    }
    this.#ctx.onChange();
  }

  async #spawn(argv: string[], expectNamespace: string | null): Promise<void> {
    // Its own session, like the daemons (see daemon.ts): terminal signals are the launcher's.
    const proc: HolderProcess = spawnOwn(["setsid", ...argv], {
      cwd: "/",
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.#proc = proc;
    this.#lastStderr = null;
    this.#setState("starting", null);
    let onReady: (ready: { pid: number; namespace: string }) => void = () => {};
    const readyLine = new Promise<{ pid: number; namespace: string }>((resolve) => (onReady = resolve));
    const stdoutDone = forEachLine(proc.stdout, (line) => {
      const ready = parseHolderReady(line);
      if (ready !== null) onReady(ready);
      else if (line.trim()) this.#ctx.log(`namespace[${proc.pid}]: ${line}`);
    });
    const stderrDone = forEachLine(proc.stderr, (line) => {
      if (!line.trim()) return;
      this.#lastStderr = line;
      this.#ctx.log(`namespace[${proc.pid}]: ${line}`);
    });
    void proc.exited.then(() => this.#onExit(proc));

    const timeoutMs = this.#ctx.readyTimeoutMs ?? 10_000;
    const outcome = await Promise.race([
      readyLine,
      proc.exited.then(() => null),
      sleep(timeoutMs).then(() => "timeout" as const),
    ]);
    if (outcome === "timeout") {
      proc.kill("SIGKILL");
      throw new Error(`the namespace holder did not get ready within ${timeoutMs} ms`);
    }
    if (outcome === null) {
      await Promise.race([stderrDone, sleep(200)]);
      throw new Error(`the namespace holder ${describeExit(proc.exitCode, typeof proc.signalCode === "number" ? `signal ${proc.signalCode}` : proc.signalCode, this.#lastStderr)}`);
    }
    if (outcome.pid !== proc.pid) {
      // unshare execs sh and nsenter execs sh: the ready pid must be the child's.
      proc.kill("SIGKILL");
      throw new Error(`the namespace holder reported pid ${outcome.pid}, expected ${proc.pid}`);
    }
    if (isSharedNamespace(outcome.namespace)) {
      proc.kill("SIGKILL");
      throw new Error(`the namespace holder runs in a shared mount namespace ${outcome.namespace}`);
    }
    if (expectNamespace !== null && outcome.namespace !== expectNamespace) {
      proc.kill("SIGKILL");
      throw new Error(`the new holder joined ${outcome.namespace}, expected ${expectNamespace}`);
    }
    this.#namespace = outcome.namespace;
    this.#setState("running", null);
  }

  #onExit(proc: HolderProcess): void {
    if (this.#proc !== proc) return;
    const signal = typeof proc.signalCode === "number" ? `signal ${proc.signalCode}` : proc.signalCode;
    const reason = describeExit(proc.exitCode, signal, this.#lastStderr);
    if (this.#stopping) {
      this.#setState("stopped", this.#reason);
      return;
    }
    const wasRunning = this.#state === "running";
    this.#ctx.log(`stack: namespace holder[${proc.pid}] ${reason}`);
    this.#setState("down", reason);
    if (wasRunning) void this.#recover();
  }

  async #recover(): Promise<void> {
    const policy = this.#ctx.backoff ?? daemonRestarts;
    let failures = 0;
    while (!this.#stopping) {
      const delay = failures === 0 ? 0 : backoffDelay(failures - 1, policy);
      failures += 1;
      if (delay > 0) {
        const pause = wait(delay);
        this.#wake = pause.wake;
        await pause.done;
        this.#wake = null;
      }
      if (this.#stopping) return;
      this.#restarts += 1;
      const survivor = this.members()[0];
      try {
        if (survivor !== undefined) {
          this.#ctx.log(`stack: namespace holder: rejoining ${this.#namespace} through pid ${survivor}`);
          await this.#spawn(joinHolderArgv(survivor), this.#namespace);
        } else {
          this.#ctx.log("stack: namespace holder: nothing left in the namespace; creating a new one");
          await this.#spawn(createHolderArgv(this.#mounts), null);
        }
        return;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.#ctx.log(`stack: namespace holder recovery failed: ${reason}`);
        this.#setState("down", reason);
      }
    }
  }
}
