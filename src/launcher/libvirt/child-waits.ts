/**
 * The two process calls Bun does not offer, through libc: marking this
 * process as the child subreaper (orphans of its descendants are re-parented
 * to it instead of to PID 1), and waiting for one child without blocking.
 */
import { dlopen, FFIType } from "bun:ffi";

/** What waiting for a pid without blocking found. */
export type WaitOutcome = "reaped" | "running" | "not-a-child";

export interface ChildWaits {
  /** Makes this process the subreaper of its descendants; null, or why it could not. */
  becomeSubreaper(): string | null;
  /** waitpid(pid, WNOHANG). */
  waitNoHang(pid: number): WaitOutcome;
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

/** The libc-backed calls, or why they are unavailable (no glibc, no bun:ffi). */
export function libcChildWaits(): ChildWaits | string {
  let lib;
  try {
    lib = dlopen("libc.so.6", {
      prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
      waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    });
  } catch (error) {
    return `cannot load libc.so.6: ${error instanceof Error ? error.message : String(error)}`;
  }
  const { prctl, waitpid } = lib.symbols;
  return {
    becomeSubreaper: () => (prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0 ? null : "prctl(PR_SET_CHILD_SUBREAPER) failed"),
    waitNoHang: (pid) => {
      const r = waitpid(pid, null, WNOHANG);
      return r === pid ? "reaped" : r === 0 ? "running" : "not-a-child";
    },
  };
}
