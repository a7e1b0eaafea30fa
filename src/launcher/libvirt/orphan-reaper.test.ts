import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ChildWaits, WaitOutcome } from "./child-waits.ts";
import { startOrphanReaper } from "./orphan-reaper.ts";

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

describe("orphan reaper", () => {
  test("a process that cannot become subreaper says so and reaps nothing", () => {
    const lines: string[] = [];
    const reaper = startOrphanReaper({ waits: fakeWaits({}, "prctl failed"), log: (l) => lines.push(l), children: () => [7] });
    expect(reaper).toBeNull();
    expect(lines).toEqual(["stack: orphaned processes (QEMU) are left to PID 1 to wait for: prctl failed"]);
  });

  test("waits for the children Bun did not start, never for Bun's own", () => {
    const waits = fakeWaits({ 40: ["running", "reaped"], 41: ["reaped"] });
    const reaper = startOrphanReaper({ waits, log: () => undefined, children: () => [40, 41, 42], own: (pid) => pid === 42, pollMs: 3_600_000 });
    if (reaper === null) throw new Error("no reaper");
    try {
      expect(reaper.sweep()).toEqual([41]);
      expect(reaper.sweep()).toEqual([40]);
      expect(waits.asked).toEqual([40, 41, 40, 41]);
    } finally {
      reaper.stop();
    }
  });

  test("real processes: an orphan re-parented to the launcher is waited for on SIGCHLD; Bun's own children keep their exit codes", async () => {
    const script = join(import.meta.dir, "../../../tests/fixtures/reaper/orphan-reaper-run.ts");
    const proc = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const r = JSON.parse(out) as { me: number; orphan: number; ppid: number; ownCode: number; lateCode: number; gone: boolean; lines: string[] };
    expect(r.ppid).toBe(r.me);
    expect({ own: r.ownCode, late: r.lateCode }).toEqual({ own: 3, late: 4 });
    expect(r.lines).toEqual([`stack: sleep[${r.orphan}] ended; waited for it`]);
    expect(r.gone).toBe(true);
  });
});
