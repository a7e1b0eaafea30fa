/** How a VM ended, and the launcher's exit code for it. */

export type Outcome =
  | { kind: "poweroff"; detail: string } // the guest shut itself down (or obeyed ACPI)
  | { kind: "destroyed"; detail: string } // forced off (grace period over, or kill)
  | { kind: "crashed"; detail: string }
  | { kind: "failed"; detail: string }; // never started, or libvirt/QEMU failed

export const exitCodes: Record<Outcome["kind"], number> = { poweroff: 0, failed: 1, destroyed: 2, crashed: 3 };

/** Maps libvirt's "stopped" detail to an outcome. */
export function outcomeOfStop(detail: string): Outcome {
  switch (detail) {
    case "shutdown":
      return { kind: "poweroff", detail: "the guest powered off" };
    case "destroyed":
      return { kind: "destroyed", detail: "the domain was destroyed" };
    case "crashed":
      return { kind: "crashed", detail: "the guest crashed" };
    default:
      return { kind: "failed", detail: `QEMU stopped (${detail})` };
  }
}
