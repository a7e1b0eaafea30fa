/**
 * Launcher facts: what the launcher found out at run time and hands to the
 * pure converter. Nothing in src/domain looks these up itself. What follows
 * from the spec alone (firmware, SMM, kernel-boot file names) is not a fact
 * handed in: firmware-facts.ts decides it for every caller.
 */

/** A volume as the storage provider prepared it. */
export type PreparedVolume =
  | {
      kind: "file";
      path: string;
      format: "raw" | "qcow2";
      readOnly?: boolean;
      /** The read-only image under a copy-on-write overlay; named in the domain so libvirt leaves its owner alone. */
      backing?: { path: string; format: "raw" | "qcow2" };
      /** libvirt must leave the file's owner alone (hostDisk: the user's own file, CVE-2025-64324). */
      keepOwner?: boolean;
    }
  | { kind: "block"; path: string; readOnly?: boolean };

/** A NIC as the network binding prepared it. */
export interface PreparedInterface {
  /** The tap device QEMU opens (created by the binding, not by libvirt). */
  tap: string;
  /** The MAC the guest gets. */
  mac: string;
  /** MTU of the pod network, passed to the guest. */
  mtu?: number;
}

export interface LauncherFacts {
  /** TCG instead of KVM (KubeVirt's useEmulation); a setting, never a guess. */
  emulation: boolean;
  /** By volume name. */
  volumes: Record<string, PreparedVolume>;
  /** By interface name. */
  interfaces: Record<string, PreparedInterface>;
  /** Unix socket for the serial console; absent means no serial console socket. */
  serialSocket?: string;
  /** File the serial output is also logged to. */
  serialLog?: string;
  /** Kernel and initrd extracted for kernelBoot. */
  kernelBoot?: { kernel: string; initrd?: string };
  /**
   * The host CPUs the launcher may run on (its affinity, which the kubelet's
   * CPU manager narrows to the pod's own CPUs), in ascending order; what
   * dedicatedCpuPlacement pins the vCPUs to.
   */
  cpus?: readonly number[];
}

/** The VMI identity carried into the domain. */
export interface VmiIdentity {
  namespace: string;
  name: string;
  uid?: string;
}
