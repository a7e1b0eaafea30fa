/**
 * One supervised daemon of the stack, run in the foreground inside the
 * namespace (`nsenter -t <holder> -m -- <argv>`; nsenter execs, so the child
 * pid is the daemon's), or directly in a pod. Its output goes to the stack log line by line. When
 * it dies it is reported down (with the exit and its last output line) and
 * restarted with exponential backoff until stop().
 */
import type { Subprocess } from "bun";
import { backoffDelay, daemonRestarts, failuresAfterExit, type RestartPolicy } from "../../retry/backoff.ts";
import { wait } from "../../retry/wait.ts";
import { forEachLine } from "./lines.ts";
import { describeExit, type ComponentState, type ComponentStatus, type DaemonName } from "./status.ts";
import { spawnOwn } from "../../process/own-children.ts";

export interface DaemonSpec {
  readonly name: DaemonName;
  /** argv inside the namespace; argv[0] an absolute path. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Polled every 25 ms after the spawn until it answers true. */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs: number;
  /** Runs before every spawn (remove stale sockets, wait for a dependency). */
  readonly prepare?: () => Promise<void>;
}

export interface DaemonContext {
  /**
   * The argv that runs a daemon's argv where the stack lives: inside the
   * namespace of the live holder (waiting while it is recovered), or as is
   * in a pod.
   */
  readonly wrap: (argv: readonly string[]) => Promise<string[]>;
  readonly log: (line: string) => void;
  readonly onChange: () => void;
  readonly backoff?: RestartPolicy;
}

const POLL_MS = 25;
const TAIL_LINES = 10;

function signalName(signal: number | string | null): string | null {
  return typeof signal === "number" ? `signal ${signal}` : signal;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SupervisedDaemon {
  readonly #spec: DaemonSpec;
  readonly #ctx: DaemonContext;
  #proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  #state: ComponentState = "stopped";
  #reason: string | null = null;
  #since = Date.now();
  #restarts = 0;
  /** Consecutive failed runs; indexes the backoff delay. */
  #failures = 0;
  #startedAt = 0;
  #stopping = false;
  #supervising = false;
  #wake: (() => void) | null = null;
  readonly #tail: string[] = [];

  constructor(spec: DaemonSpec, ctx: DaemonContext) {
    this.#spec = spec;
    this.#ctx = ctx;
  }

  get name(): DaemonName {
    return this.#spec.name;
  }

  /** Pid of the live daemon process, null once it exited. */
  get pid(): number | null {
    const proc = this.#proc;
    return proc !== null && proc.exitCode === null && proc.signalCode === null ? proc.pid : null;
  }

  status(): ComponentStatus {
    return {
      name: this.#spec.name,
      state: this.#state,
      pid: this.pid,
      restarts: this.#restarts,
      reason: this.#reason,
      since: this.#since,
    };
  }

  /** First start: spawns and waits until ready; afterwards the daemon is supervised. */
  async start(): Promise<void> {
    await this.#spawnAndWait();
    this.#supervising = true;
  }

  /** Stops the daemon for good: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    const proc = this.#proc;
    if (proc !== null && proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!exited) {
        this.#ctx.log(`stack: ${this.#spec.name}[${proc.pid}] ignored SIGTERM for ${graceMs} ms; sending SIGKILL`);
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
    this.#ctx.onChange();
  }

  #lastLine(): string | null {
    return this.#tail.at(-1) ?? null;
  }

  async #spawnAndWait(): Promise<void> {
    const { name } = this.#spec;
    await this.#spec.prepare?.();
    if (this.#stopping) throw new Error(`${name} is being stopped`);
    const argv = await this.#ctx.wrap(this.#spec.argv);
    if (this.#stopping) throw new Error(`${name} is being stopped`);
    this.#tail.length = 0;
    // setsid: a Ctrl-C at the terminal (SIGINT to the foreground process group)
    // must reach the launcher only; the launcher decides when its daemons stop.
    const proc = spawnOwn(["setsid", ...argv], {
      cwd: "/",
      env: { ...this.#spec.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.#proc = proc;
    this.#setState("starting", null);
    const onLine = (line: string): void => {
      if (line.trim().length === 0) return;
      this.#tail.push(line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      this.#ctx.log(`${name}[${proc.pid}]: ${line}`);
    };
    const outputDone = Promise.all([forEachLine(proc.stdout, onLine), forEachLine(proc.stderr, onLine)]);
    void proc.exited.then(async () => {
      this.#onExit(proc);
      // The last lines (often the reason) may still be in the pipe.
      await Promise.race([outputDone, sleep(200)]);
      this.#refineExitReason(proc);
    });

    const deadline = Date.now() + this.#spec.readyTimeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await Promise.race([outputDone, sleep(200)]);
        throw new Error(`${name} ${describeExit(proc.exitCode, signalName(proc.signalCode), this.#lastLine())}`);
      }
      if (this.#stopping) throw new Error(`${name} is being stopped`);
      let ready = false;
      try {
        ready = await this.#spec.ready();
      } catch {
        ready = false;
      }
      if (ready && this.#proc === proc && proc.exitCode === null && proc.signalCode === null) {
        this.#startedAt = Date.now();
        this.#setState("running", null);
        return;
      }
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`${name} did not become ready within ${this.#spec.readyTimeoutMs} ms`);
      }
      await sleep(POLL_MS);
    }
  }

  #onExit(proc: Subprocess<"ignore", "pipe", "pipe">): void {
    if (this.#proc !== proc) return;
    const reason = describeExit(proc.exitCode, signalName(proc.signalCode), this.#lastLine());
    if (this.#stopping) {
      this.#setState("stopped", this.#reason);
      return;
    }
    const wasRunning = this.#state === "running";
    this.#ctx.log(`stack: ${this.#spec.name}[${proc.pid}] ${reason}`);
    this.#setState("down", reason);
    if (wasRunning && this.#supervising) {
      this.#failures = failuresAfterExit(this.#failures, Date.now() - this.#startedAt, this.#ctx.backoff ?? daemonRestarts);
      void this.#restartLoop();
    }
    // An exit while starting is handled by the loop that is waiting for readiness.
  }

  #refineExitReason(proc: Subprocess<"ignore", "pipe", "pipe">): void {
    if (this.#proc !== proc || this.#state !== "down") return;
    this.#setState("down", describeExit(proc.exitCode, signalName(proc.signalCode), this.#lastLine()));
  }

  async #restartLoop(): Promise<void> {
    const policy = this.#ctx.backoff ?? daemonRestarts;
    while (!this.#stopping) {
      const delay = backoffDelay(this.#failures, policy);
      this.#failures += 1;
      this.#ctx.log(`stack: restarting ${this.#spec.name} in ${delay} ms`);
      const pause = wait(delay);
      this.#wake = pause.wake;
      await pause.done;
      this.#wake = null;
      if (this.#stopping) return;
      this.#restarts += 1;
      try {
        await this.#spawnAndWait();
        this.#ctx.log(`stack: ${this.#spec.name}[${this.pid}] running again (restart ${this.#restarts})`);
        return;
      } catch (error) {
        if (this.#stopping) return;
        const reason = error instanceof Error ? error.message : String(error);
        this.#ctx.log(`stack: restart of ${this.#spec.name} failed: ${reason}`);
        this.#setState("down", reason);
      }
    }
  }
}
