import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ChildWaits, WaitOutcome } from "./child-waits.ts";
import { startQemuReaper } from "./qemu-reaper.ts";

function fakeWaits(outcomes: Record<number, WaitOutcome[]>, subreaper: string | null = null): ChildWaits & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    becomeSubreaper: () => subreaper,
    waitNoHang: (pid) => {
      asked.push(pid);
      return outcomes[pid]?.shift() ?? "not-a-child";
    },
  };
}

describe("QEMU reaper", () => {
  test("a process that cannot become subreaper says so and reaps nothing", () => {
    const lines: string[] = [];
    const reaper = startQemuReaper({ qemuPids: async () => [7], waits: fakeWaits({}, "prctl failed"), log: (l) => lines.push(l) });
    expect(reaper).toBeNull();
    expect(lines).toEqual(["stack: QEMU processes are left to PID 1 to wait for: prctl failed"]);
  });

  test("waits only for pids from the pid files, and keeps one whose file went until it ends", async () => {
    const waits = fakeWaits({ 40: ["running", "running", "reaped"], 41: ["not-a-child"] });
    let files = [40, 41];
    const lines: string[] = [];
    const reaper = startQemuReaper({ qemuPids: async () => files, waits, log: (l) => lines.push(l), pollMs: 3_600_000 });
    if (reaper === null) throw new Error("no reaper");
    try {
      expect(await reaper.sweep()).toEqual([]);
      files = [];
      expect(await reaper.sweep()).toEqual([]);
      expect(await reaper.sweep()).toEqual([40]);
      expect(await reaper.sweep()).toEqual([]);
      expect(waits.asked).toEqual([40, 41, 40, 40]);
      expect(lines).toEqual(["stack: QEMU[40] ended; waited for it"]);
    } finally {
      reaper.stop();
    }
  });

  test("real processes: an orphan re-parented to the launcher is waited for on SIGCHLD; Bun's own child keeps its exit code", async () => {
    const script = join(import.meta.dir, "../../../tests/fixtures/reaper/orphan-reaper-run.ts");
    const proc = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const r = JSON.parse(out) as { me: number; orphan: number; ppid: number; ownCode: number; gone: boolean; lines: string[] };
    expect(r.ppid).toBe(r.me);
    expect(r.ownCode).toBe(3);
    expect(r.lines).toEqual([`stack: QEMU[${r.orphan}] ended; waited for it`]);
    expect(r.gone).toBe(true);
  });
});
