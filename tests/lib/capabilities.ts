/** Linux capability names and numbers (linux/capability.h), for reading /proc/<pid>/status CapEff in tests. */
const capabilityNumbers: Record<string, number> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
  LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13, IPC_LOCK: 14, IPC_OWNER: 15,
  SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19, SYS_PACCT: 20, SYS_ADMIN: 21, SYS_BOOT: 22, SYS_NICE: 23,
  SYS_RESOURCE: 24, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27, LEASE: 28, AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31,
  MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35, BLOCK_SUSPEND: 36, AUDIT_READ: 37, PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40,
};

/** The CapEff bit mask of a capability list ("NET_ADMIN", …). */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const bit = capabilityNumbers[name];
    if (bit === undefined) throw new Error(`Cannot build a capability mask: "${name}" is not a capability`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** Lines "name uid capeff-hex" (one per process) -> records; lines that do not parse are skipped. */
export function processTable(text: string): { name: string; uid: number; capEff: bigint }[] {
  const out: { name: string; uid: number; capEff: bigint }[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+) (\d+) ([0-9a-f]+)$/.exec(line.trim());
    if (m !== null) out.push({ name: m[1]!, uid: Number(m[2]), capEff: BigInt(`0x${m[3]}`) });
  }
  return out;
}
