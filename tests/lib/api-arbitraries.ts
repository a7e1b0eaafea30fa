/** fast-check generators of valid manifests, for property tests of conversion and validation. */
import fc from "fast-check";

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

/** Drops keys whose value is undefined, as a parsed manifest would not have them. */
function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const memory = fc.constantFrom("64M", "128Mi", "1Gi", 268435456);

const domainExtras = fc.record({
  cpu: maybe(fc.record({ cores: fc.integer({ min: 1, max: 8 }), sockets: fc.integer({ min: 1, max: 2 }) }, { requiredKeys: [] })),
  machine: maybe(fc.record({ type: fc.constantFrom("q35", "pc-q35-7.2") })),
  firmware: maybe(fc.constantFrom({ bootloader: { bios: {} } }, { bootloader: { efi: { secureBoot: false } } }, { serial: "abc" })),
});

const target = fc.oneof(
  fc.constant(undefined),
  fc.record({ disk: fc.record({ bus: fc.constantFrom("virtio", "scsi", "sata") }) }),
  fc.constant({ cdrom: { bus: "sata", readonly: true } }),
  fc.constant({ disk: {} }),
);

type Source = Record<string, unknown>;

const v1Source: fc.Arbitrary<Source> = fc.oneof(
  fc.record({ containerDisk: fc.record({ image: fc.constantFrom("example/disk:1", "127.0.0.1:5000/a/b@sha256:" + "0".repeat(64)), path: maybe(fc.constant("/disk/x.qcow2")), imagePullPolicy: maybe(fc.constantFrom("Always", "IfNotPresent")) }, { requiredKeys: ["image"] }).map(compact) }),
  fc.record({ persistentVolumeClaim: fc.record({ claimName: label, readOnly: maybe(fc.boolean()) }).map(compact) }),
  fc.record({ ephemeral: fc.record({ persistentVolumeClaim: fc.record({ claimName: label }) }) }),
  fc.record({ emptyDisk: fc.record({ capacity: fc.constantFrom("1Gi", "10G") }) }),
  fc.record({ cloudInitNoCloud: fc.oneof(fc.record({ userData: fc.string({ maxLength: 40 }) }), fc.record({ userDataBase64: fc.constant("SGkuXG4=") }), fc.record({ secretRef: fc.record({ name: label }) })) }),
);

/** A valid kubevirt.io/v1 VirtualMachine. */
export const v1Vm = fc
  .record({
    name: label,
    names: fc.uniqueArray(label, { minLength: 1, maxLength: 4 }),
    sources: fc.array(v1Source, { minLength: 4, maxLength: 4 }),
    targets: fc.array(target, { minLength: 4, maxLength: 4 }),
    memory,
    extras: domainExtras,
    run: fc.oneof(fc.record({ runStrategy: fc.constantFrom("Always", "Halted", "Manual", "RerunOnFailure", "Once") }), fc.record({ running: fc.boolean() }), fc.constant({})),
    labels: maybe(fc.dictionary(label, label, { maxKeys: 2 })),
    network: fc.boolean(),
    grace: maybe(fc.integer({ min: 0, max: 300 })),
  })
  .map((g) => {
    const disks = g.names.map((n, i) => compact({ name: n, ...(g.targets[i] ?? {}) }));
    const volumes = g.names.map((n, i) => ({ name: n, ...g.sources[i]! }));
    const devices: Record<string, unknown> = { disks };
    if (g.network) devices.interfaces = [{ name: "default", masquerade: {}, ports: [{ port: 22 }] }];
    const spec = compact({
      domain: compact({ ...compact(g.extras), resources: { requests: { memory: g.memory } }, devices }),
      volumes,
      networks: g.network ? [{ name: "default", pod: {} }] : undefined,
      terminationGracePeriodSeconds: g.grace,
    });
    return {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: compact({ name: g.name, labels: g.labels }),
      spec: { ...g.run, template: compact({ metadata: g.labels === undefined ? undefined : { labels: g.labels }, spec }) },
    };
  });

const alphaSource: fc.Arbitrary<Source> = fc.oneof(
  fc.record({ registryDisk: fc.record({ image: fc.constantFrom("kubevirt/cirros-registry-disk-demo:devel", "x/y:1"), imagePullSecret: maybe(label) }).map(compact) }),
  fc.record({ persistentVolumeClaim: fc.record({ claimName: label }) }),
  fc.record({ emptyDisk: fc.record({ capacity: fc.constant("1Gi") }) }),
  fc.record({ cloudInitNoCloud: fc.record({ userData: fc.string({ maxLength: 40 }) }) }),
);

/** A valid kubevirt.io/v1alpha1 VirtualMachine in the seed's form, volume names independent of disk names. */
export const alphaVm = fc
  .record({
    name: label,
    diskNames: fc.uniqueArray(label, { minLength: 1, maxLength: 4 }),
    volumeNames: fc.uniqueArray(label, { minLength: 4, maxLength: 4 }),
    sources: fc.array(alphaSource, { minLength: 4, maxLength: 4 }),
    targets: fc.array(target, { minLength: 4, maxLength: 4 }),
    memory,
    extras: domainExtras,
    grace: maybe(fc.integer({ min: 0, max: 300 })),
    annotations: maybe(fc.dictionary(label, fc.string({ maxLength: 5 }), { maxKeys: 2 })),
  })
  .map((g) => {
    const disks = g.diskNames.map((n, i) => compact({ name: n, volumeName: g.volumeNames[i]!, ...(g.targets[i] ?? {}) }));
    const volumes = g.diskNames.map((_, i) => ({ name: g.volumeNames[i]!, ...g.sources[i]! }));
    return {
      apiVersion: "kubevirt.io/v1alpha1",
      kind: "VirtualMachine",
      metadata: compact({ name: g.name, annotations: g.annotations }),
      spec: compact({
        terminationGracePeriodSeconds: g.grace,
        domain: compact({ ...compact(g.extras), resources: { requests: { memory: g.memory } }, devices: { disks } }),
        volumes,
      }),
    };
  });
