/**
 * libvirt's domain statistics (virDomainListGetStats, over libvirt-dbus as
 * org.libvirt.Domain.GetStats(u stats, u flags) -> a{sv}) as a typed record.
 * The answer is flat ("vcpu.0.time", "net.1.rx.bytes", …); a figure libvirt
 * does not have (no balloon driver in the guest, no wait time on this host)
 * is absent from it and stays absent here: never a zero for unknown.
 * Units as libvirt gives them: times in nanoseconds, balloon figures in KiB.
 */

/** The stats groups (virDomainStatsTypes) the launcher asks for. */
export const statsGroups = {
  state: 1,
  cpuTotal: 2,
  balloon: 4,
  vcpu: 8,
  interface: 16,
  block: 32,
} as const;

/** state | cpu-total | balloon | vcpu | interface | block. */
export const metricsStatsMask = Object.values(statsGroups).reduce((a, b) => a | b, 0);

/** A flat stats answer once the D-Bus variants are unwrapped: field -> number, string or boolean. */
export type RawDomainStats = Record<string, number | string | boolean>;

export interface VcpuStats {
  id: number;
  /** virVcpuState: 0 offline, 1 running, 2 blocked. */
  state?: number;
  timeNs?: number;
  waitNs?: number;
  delayNs?: number;
}

export interface NetStats {
  /** The host-side device (the tap). */
  name: string;
  rxBytes?: number;
  rxPackets?: number;
  rxErrors?: number;
  rxDropped?: number;
  txBytes?: number;
  txPackets?: number;
  txErrors?: number;
  txDropped?: number;
}

export interface BlockStats {
  /** The guest's target device, e.g. "vda". */
  name: string;
  path?: string;
  readRequests?: number;
  readBytes?: number;
  readTimeNs?: number;
  writeRequests?: number;
  writeBytes?: number;
  writeTimeNs?: number;
  flushRequests?: number;
  flushTimeNs?: number;
}

export interface BalloonStats {
  currentKiB?: number;
  maximumKiB?: number;
  rssKiB?: number;
  availableKiB?: number;
  usableKiB?: number;
  unusedKiB?: number;
  diskCachesKiB?: number;
  swapInKiB?: number;
  swapOutKiB?: number;
  majorFaults?: number;
  minorFaults?: number;
}

export interface DomainStats {
  state?: { state: number; reason: number };
  cpu?: { timeNs?: number; userNs?: number; systemNs?: number };
  balloon: BalloonStats;
  vcpus: VcpuStats[];
  nets: NetStats[];
  blocks: BlockStats[];
}

function num(raw: RawDomainStats, key: string): number | undefined {
  const v = raw[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(raw: RawDomainStats, key: string): string | undefined {
  const v = raw[key];
  return typeof v === "string" ? v : undefined;
}

/** Only the fields that have a value (exactOptionalPropertyTypes: no `undefined` members). */
function defined<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The indexes "prefix.<n>." present in the answer, in order (counts can be missing or stale). */
function indexes(raw: RawDomainStats, prefix: string): number[] {
  const found = new Set<number>();
  const re = new RegExp(`^${prefix}\\.(\\d+)\\.`);
  for (const k of Object.keys(raw)) {
    const m = re.exec(k);
    if (m !== null) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

export function parseDomainStats(raw: RawDomainStats): DomainStats {
  const state = num(raw, "state.state");
  const cpu = defined<NonNullable<DomainStats["cpu"]>>({ timeNs: num(raw, "cpu.time"), userNs: num(raw, "cpu.user"), systemNs: num(raw, "cpu.system") });
  const balloon = defined<BalloonStats>({
    currentKiB: num(raw, "balloon.current"),
    maximumKiB: num(raw, "balloon.maximum"),
    rssKiB: num(raw, "balloon.rss"),
    availableKiB: num(raw, "balloon.available"),
    usableKiB: num(raw, "balloon.usable"),
    unusedKiB: num(raw, "balloon.unused"),
    diskCachesKiB: num(raw, "balloon.disk_caches"),
    swapInKiB: num(raw, "balloon.swap_in"),
    swapOutKiB: num(raw, "balloon.swap_out"),
    majorFaults: num(raw, "balloon.major_fault"),
    minorFaults: num(raw, "balloon.minor_fault"),
  });
  const vcpus = indexes(raw, "vcpu").map((id) =>
    defined<VcpuStats>({
      id,
      state: num(raw, `vcpu.${id}.state`),
      timeNs: num(raw, `vcpu.${id}.time`),
      waitNs: num(raw, `vcpu.${id}.wait`),
      delayNs: num(raw, `vcpu.${id}.delay`),
    }),
  );
  const nets = indexes(raw, "net").flatMap((i): NetStats[] => {
    const name = str(raw, `net.${i}.name`);
    if (name === undefined) return [];
    const f = (k: string): number | undefined => num(raw, `net.${i}.${k}`);
    return [defined<NetStats>({
      name,
      rxBytes: f("rx.bytes"), rxPackets: f("rx.pkts"), rxErrors: f("rx.errs"), rxDropped: f("rx.drop"),
      txBytes: f("tx.bytes"), txPackets: f("tx.pkts"), txErrors: f("tx.errs"), txDropped: f("tx.drop"),
    })];
  });
  const blocks = indexes(raw, "block").flatMap((i): BlockStats[] => {
    const name = str(raw, `block.${i}.name`);
    if (name === undefined) return [];
    const f = (k: string): number | undefined => num(raw, `block.${i}.${k}`);
    return [defined<BlockStats>({
      name,
      path: str(raw, `block.${i}.path`),
      readRequests: f("rd.reqs"), readBytes: f("rd.bytes"), readTimeNs: f("rd.times"),
      writeRequests: f("wr.reqs"), writeBytes: f("wr.bytes"), writeTimeNs: f("wr.times"),
      flushRequests: f("fl.reqs"), flushTimeNs: f("fl.times"),
    })];
  });
  return {
    ...(state !== undefined ? { state: { state, reason: num(raw, "state.reason") ?? 0 } } : {}),
    ...(Object.keys(cpu).length > 0 ? { cpu } : {}),
    balloon,
    vcpus,
    nets,
    blocks,
  };
}

/**
 * Unwraps a GetStats answer as dbus-next delivers it: each value a Variant
 * ({ signature, value }) — libvirt-dbus 1.4 wraps each figure twice, a "v"
 * holding the typed variant — and 64-bit integers as BigInt. Integers beyond 2^53
 * lose precision as numbers, as they do in Prometheus' float64.
 */
export function unwrapStatsAnswer(answer: unknown): RawDomainStats {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) {
    throw new Error(`Cannot read the domain stats: libvirt-dbus answered ${JSON.stringify(typeof answer)}, not a dictionary`);
  }
  const out: RawDomainStats = {};
  for (const [k, v] of Object.entries(answer as Record<string, unknown>)) {
    let value: unknown = v;
    for (let depth = 0; depth < 4 && typeof value === "object" && value !== null && "value" in value; depth++) value = (value as { value: unknown }).value;
    if (typeof value === "bigint") out[k] = Number(value);
    else if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") out[k] = value;
  }
  return out;
}
