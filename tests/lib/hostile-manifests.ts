/**
 * fast-check generators of VirtualMachine(Instance) manifests whose values
 * an attacker chose: XML metacharacters, control characters, unpaired
 * surrogates, U+FFFE/U+FFFF, long text, huge and fractional numbers,
 * quantities far beyond any machine, lists longer than KubeVirt allows.
 * Each field is either an ordinary value or a hostile one, so some
 * manifests pass admission and reach the domain writer.
 */
import fc from "fast-check";
import type { Problem } from "../../src/api/problem.ts";
import { isVmLike, validate } from "../../src/api/validate.ts";
import type { VmiSpec } from "../../src/api/v1/vmi.ts";
import { domainXml, placeholderFacts, vmiOf, type VmiIdentity } from "../../src/domain/index.ts";

type Obj = Record<string, unknown>;

const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const compact = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
/** Mostly the ordinary value, sometimes the hostile one. */
const mostly = <T>(ordinary: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: ordinary, weight: 12 }, { arbitrary: hostile, weight: 1 });

const pieces = [
  "<", ">", "&", "'", '"', "]]>", "&amp;", "&#0;", "<!--", "-->", "<![CDATA[", "\t", "\n", "\r", "\r\n", " ", "a", "Z", "0", "-", "_", ".", "+", "/", ":", "=",
  "é", "😀", "\u00a0", "\u0085", "\u2028", "\u007f", "\u0000", "\u0001", "\u0008", "\u000b", "\u000c", "\u001b", "\u001f",
  "\ufffe", "\uffff", "\ud800", "\udfff", "\udbff\udfff", "\ufdd0",
];

/** Text built to break XML writers. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: fc.constantFrom(...pieces), minLength: 1, maxLength: 12 }), weight: 4 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 12 }), weight: 1 },
  { arbitrary: fc.string({ unit: "binary-ascii", maxLength: 12 }), weight: 1 },
  { arbitrary: fc.string({ unit: fc.constantFrom("x", "-", "&", "<", "\r"), minLength: 250, maxLength: 300 }), weight: 1 },
);

/** Printable text that is still full of metacharacters (it passes the XML character check). */
const metaString = fc.string({ unit: fc.constantFrom("<", ">", "&", "'", '"', "]]>", "\t", "\n", "\r", " ", "a", "é", "😀", "="), minLength: 1, maxLength: 16 });

export const hostileNumber: fc.Arbitrary<number> = fc.constantFrom(0, -1, 0.5, 4096, 4097, 2 ** 31, 2 ** 32, 2 ** 53, 1e21, 1e30, Number.MAX_VALUE, Number.POSITIVE_INFINITY, Number.NaN);

export const hostileQuantity: fc.Arbitrary<string | number> = fc.constantFrom(
  "1e30", "1e400", "4Pi", "4097Ti", "8Ei", "1e-30", "-1Gi", "-64M", "0", "0.5", "1.5Gi", "1E3", "0x10", "", " 1Gi", "99999999999999999999",
  "4503599627370497", 2 ** 52, 2 ** 52 + 1, 1e30, -5, 0.25, Number.NaN, Number.POSITIVE_INFINITY,
);

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
const uuid = fc.uuid();
const serial = fc.stringMatching(/^[A-Za-z0-9_.+-]{1,20}$/);
const memory = mostly(fc.constantFrom<string | number>("64M", "128Mi", "1Gi", 268435456), hostileQuantity);
const smallInt = mostly(fc.integer({ min: 1, max: 4 }), hostileNumber);
const text = mostly(metaString, hostileString);

const cpu = fc.record(
  {
    sockets: smallInt,
    cores: smallInt,
    threads: smallInt,
    model: fc.oneof(fc.constantFrom("host-model", "host-passthrough", "Haswell", "qemu64"), text),
  },
  { requiredKeys: [] },
);

const firmware = fc.record(
  {
    uuid: mostly(uuid, hostileString),
    serial: text,
    bootloader: fc.constantFrom({ bios: {} }, { bios: { useSerial: true } }, { efi: { secureBoot: false } }),
    kernelBoot: fc.record({
      kernelArgs: text,
      container: fc.record({ image: fc.constant("example/kernel:1"), kernelPath: mostly(fc.constant("/boot/vmlinuz"), hostileString) }),
    }),
  },
  { requiredKeys: [] },
);

const source = fc.oneof(
  fc.record({ containerDisk: fc.record({ image: mostly(fc.constant("example/disk:1"), hostileString), path: maybe(mostly(fc.constant("/disk/disk.img"), hostileString)) }).map(compact) }),
  fc.record({ emptyDisk: fc.record({ capacity: mostly(fc.constantFrom<string | number>("1Gi", "10G", 1048576), hostileQuantity) }) }),
  fc.record({ cloudInitNoCloud: fc.record({ userData: mostly(fc.constant("#cloud-config\n"), text) }) }),
  fc.record({ persistentVolumeClaim: fc.record({ claimName: mostly(label, hostileString) }) }),
);

const disk = fc.record(
  {
    name: mostly(fc.constant(""), hostileString), // "" means: use the generated d<i>
    target: fc.constantFrom<Obj>({ disk: { bus: "virtio" } }, { disk: { bus: "sata" } }, { disk: { bus: "scsi" } }, { cdrom: { bus: "sata" } }, {}),
    serial: maybe(mostly(serial, hostileString)),
    bootOrder: maybe(mostly(fc.integer({ min: 1, max: 1000 }), hostileNumber)),
    cache: maybe(fc.constantFrom("none", "writeback")),
    source,
  },
  { requiredKeys: ["name", "target", "source"] },
);

interface DiskGen {
  name: string;
  target: Obj;
  serial?: string | undefined;
  bootOrder?: number | undefined;
  cache?: string | undefined;
  source: Obj;
}

/** An ordinary disk on one of the buses, for the long lists. */
const plainDisk: fc.Arbitrary<DiskGen> = fc.record({
  name: fc.constant(""),
  target: fc.constantFrom<Obj>({ disk: { bus: "virtio" } }, { disk: { bus: "scsi" } }, { cdrom: { bus: "sata" } }),
  source: fc.constant<Obj>({ emptyDisk: { capacity: "1Mi" } }),
});

/** Usually one to three disks; now and then as many as KubeVirt allows (256), or one more. */
const disks: fc.Arbitrary<DiskGen[]> = fc.oneof(
  { arbitrary: fc.array(disk as fc.Arbitrary<DiskGen>, { minLength: 1, maxLength: 3 }), weight: 12 },
  { arbitrary: fc.integer({ min: 255, max: 257 }).chain((n) => fc.array(plainDisk, { minLength: n, maxLength: n })), weight: 1 },
);

const iface = fc.record(
  {
    name: mostly(fc.constantFrom("default", "net_1"), hostileString),
    macAddress: maybe(mostly(fc.constantFrom("02:00:00:00:00:01", "52-54-00-AB-cd-EF"), hostileString)),
    model: maybe(fc.constantFrom("virtio", "e1000")),
    bootOrder: maybe(mostly(fc.integer({ min: 1001, max: 2000 }), hostileNumber)),
    ports: maybe(fc.array(fc.record({ name: maybe(text), port: mostly(fc.integer({ min: 1, max: 65535 }), hostileNumber) }).map(compact), { maxLength: 2 })),
  },
  { requiredKeys: ["name"] },
);

export interface HostileOptions {
  /** metadata.name and namespace hostile too (their DNS-1123 rules belong to the names checks). */
  hostileNames: boolean;
}

/** A hostile kubevirt.io/v1 VirtualMachineInstance or VirtualMachine. */
export function hostileManifest(opts: HostileOptions): fc.Arbitrary<Obj> {
  const name = opts.hostileNames ? mostly(label, hostileString) : label;
  return fc
    .record({
      kind: fc.constantFrom("VirtualMachineInstance", "VirtualMachine"),
      name,
      namespace: maybe(name),
      uid: maybe(mostly(uuid, hostileString)),
      cpu: maybe(cpu),
      memory,
      machine: maybe(mostly(fc.constantFrom("q35", "pc-q35-7.2"), hostileString)),
      firmware: maybe(firmware),
      disks,
      iface: maybe(iface),
      hostname: maybe(mostly(label, hostileString)),
      nodeSelector: maybe(fc.dictionary(text, text, { maxKeys: 2 })),
    })
    .map((g) => {
      const diskList = g.disks.map((d, i) => compact({ name: d.name === "" ? `d${i}` : d.name, ...d.target, serial: d.serial, bootOrder: d.bootOrder, cache: d.cache }));
      const volumes = g.disks.map((d, i) => ({ name: diskList[i]!.name, ...d.source }));
      const devices = compact({
        disks: diskList,
        interfaces: g.iface === undefined ? undefined : [compact({ ...g.iface, masquerade: {} })],
        rng: {},
      });
      const spec = compact({
        hostname: g.hostname,
        nodeSelector: g.nodeSelector,
        domain: compact({ cpu: g.cpu === undefined ? undefined : compact(g.cpu), machine: g.machine === undefined ? undefined : { type: g.machine }, firmware: g.firmware === undefined ? undefined : compact(g.firmware), resources: { requests: { memory: g.memory } }, devices }),
        volumes,
        networks: g.iface === undefined ? undefined : [{ name: g.iface.name, pod: {} }],
      });
      const metadata = compact({ name: g.name, namespace: g.namespace, uid: g.uid });
      return g.kind === "VirtualMachineInstance"
        ? { apiVersion: "kubevirt.io/v1", kind: g.kind, metadata, spec }
        : { apiVersion: "kubevirt.io/v1", kind: g.kind, metadata, spec: { runStrategy: "Always", template: { spec } } };
    });
}

export type Outcome = { refused: Problem[] } | { xml: string; identity: VmiIdentity; spec: VmiSpec };

/** What `bunvirt domain-xml` does with a manifest: admission's verdict, then the domain with placeholder facts. */
export function throughDomain(manifest: unknown, emulation: boolean): Outcome {
  const r = validate(manifest);
  if (!r.ok) return { refused: r.problems };
  if (!isVmLike(r.valid)) throw new Error(`${r.valid.key} stands for no VMI`);
  const { identity, spec } = vmiOf(r.valid);
  const xml = domainXml(identity, spec, placeholderFacts(`${identity.namespace}/${identity.name}`, spec, emulation));
  return { xml, identity, spec };
}
