import { describe, expect, test } from "bun:test";
import type { VmiSpec } from "../v1/vmi.ts";
import { expandTemplate, type Expansion, type Template } from "./expand.ts";
import type { InstancetypeSpec } from "./instancetype.ts";
import type { PreferenceSpec } from "./preference.ts";

const base = (spec: Partial<VmiSpec> = {}, domain: Partial<VmiSpec["domain"]> = {}): Template => ({
  spec: { ...spec, domain: { devices: {}, ...domain } } as VmiSpec,
});
const it = (spec: Partial<InstancetypeSpec> = {}): Expansion["instancetype"] => ({ name: "u1.small", spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" }, ...spec } });
const pref = (spec: PreferenceSpec): Expansion["preference"] => ({ name: "fedora", spec });

function expanded(t: Template, exp: Expansion): Template {
  const r = expandTemplate(t, exp);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.template;
}

describe("instancetype", () => {
  test("vCPUs become sockets by default, memory.guest the instancetype's; the template is not changed", () => {
    const t = base();
    const out = expanded(t, { instancetype: it() });
    expect(out.spec.domain.cpu).toEqual({ sockets: 2, cores: 1, threads: 1 });
    expect(out.spec.domain.memory).toEqual({ guest: "2Gi" });
    expect(t.spec.domain.cpu).toBeUndefined();
  });

  test("the preference's topology: cores, threads, spread (SocketsCores, CoresThreads, SocketsCoresThreads), any", () => {
    const cpu = (guest: number, p: PreferenceSpec) => expanded(base(), { instancetype: it({ cpu: { guest } }), preference: pref(p) }).spec.domain.cpu;
    expect(cpu(4, { cpu: { preferredCPUTopology: "cores" } })).toEqual({ sockets: 1, cores: 4, threads: 1 });
    expect(cpu(4, { cpu: { preferredCPUTopology: "preferThreads" } })).toEqual({ sockets: 1, cores: 1, threads: 4 });
    expect(cpu(4, { cpu: { preferredCPUTopology: "spread" } })).toEqual({ sockets: 2, cores: 2, threads: 1 });
    expect(cpu(6, { cpu: { preferredCPUTopology: "spread", spreadOptions: { ratio: 3 } } })).toEqual({ sockets: 2, cores: 3, threads: 1 });
    expect(cpu(8, { cpu: { preferredCPUTopology: "spread", spreadOptions: { across: "CoresThreads" } } })).toEqual({ sockets: 1, cores: 4, threads: 2 });
    expect(cpu(8, { cpu: { preferredCPUTopology: "spread", spreadOptions: { across: "SocketsCoresThreads" } } })).toEqual({ sockets: 2, cores: 2, threads: 2 });
    expect(cpu(3, { cpu: { preferredCPUTopology: "any" } })).toEqual({ sockets: 3, cores: 1, threads: 1 });
    expect(cpu(1, { cpu: { preferredCPUTopology: "cores" } })).toEqual({ sockets: 1, cores: 1, threads: 1 });
  });

  test("model, node selector, annotations and overcommitPercent are applied", () => {
    const out = expanded({ metadata: { annotations: { a: "1" } }, spec: base().spec }, {
      instancetype: it({ cpu: { guest: 1, model: "host-passthrough" }, memory: { guest: "1Gi", overcommitPercent: 25 }, nodeSelector: { disk: "ssd" }, annotations: { b: "2", a: "1" } }),
    });
    expect(out.spec.domain.cpu?.model).toBe("host-passthrough");
    expect(out.spec.domain.resources?.requests?.memory).toBe(String(0.75 * 2 ** 30));
    expect(out.spec.nodeSelector).toEqual({ disk: "ssd" });
    expect(out.metadata?.annotations).toEqual({ a: "1", b: "2" });
  });

  test("what the instancetype sets, the VM may not set: each conflict names the VM's field", () => {
    const t: Template = {
      metadata: { annotations: { b: "mine" } },
      spec: {
        nodeSelector: { x: "y" },
        domain: {
          devices: {},
          cpu: { sockets: 1, cores: 2, threads: 1, model: "Skylake-Server" },
          memory: { guest: "1Gi" },
          resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        },
      } as VmiSpec,
    };
    const r = expandTemplate(t, { instancetype: it({ cpu: { guest: 2, model: "host-model" }, nodeSelector: { a: "b" }, annotations: { b: "theirs" } }) });
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.problems.map((p) => p.path);
    expect(paths.sort()).toEqual([
      "spec.template.metadata.annotations.b",
      "spec.template.spec.domain.cpu.cores",
      "spec.template.spec.domain.cpu.model",
      "spec.template.spec.domain.cpu.sockets",
      "spec.template.spec.domain.cpu.threads",
      "spec.template.spec.domain.memory.guest",
      "spec.template.spec.domain.resources.limits.cpu",
      "spec.template.spec.domain.resources.limits.memory",
      "spec.template.spec.domain.resources.requests.cpu",
      "spec.template.spec.domain.resources.requests.memory",
      "spec.template.spec.nodeSelector",
    ]);
    expect(r.ok ? "" : r.problems[0]!.rule).toMatch(/conflicts with instancetype "u1.small"/);
  });

  test("dedicated CPUs from the instancetype (KubeVirt's dedicatedCPUPlacement spelling); the VM may not set them too", () => {
    const out = expanded(base(), { instancetype: it({ cpu: { guest: 2, dedicatedCPUPlacement: true, isolateEmulatorThread: true } }) });
    expect(out.spec.domain.cpu).toEqual({ sockets: 2, cores: 1, threads: 1, dedicatedCpuPlacement: true, isolateEmulatorThread: true });
    const r = expandTemplate(base({}, { cpu: { dedicatedCpuPlacement: true } }), { instancetype: it({ cpu: { guest: 2, dedicatedCPUPlacement: true } }) });
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual(["spec.template.spec.domain.cpu.dedicatedCpuPlacement"]);
  });

  test("a model the instancetype leaves unset stays the VM's", () => {
    const out = expanded(base({}, { cpu: { model: "host-passthrough" } }), { instancetype: it() });
    expect(out.spec.domain.cpu).toEqual({ model: "host-passthrough", sockets: 2, cores: 1, threads: 1 });
  });
});

describe("preference", () => {
  const linux: PreferenceSpec = {
    devices: { preferredDiskBus: "sata", preferredCdromBus: "scsi", preferredInterfaceModel: "e1000e", preferredInterfaceMasquerade: {}, preferredInputBus: "virtio", preferredRng: {}, preferredAutoattachMemBalloon: false },
    machine: { preferredMachineType: "pc-q35-7.2" },
    preferredTerminationGracePeriodSeconds: 60,
    annotations: { p: "1" },
  };

  test("fills what the VM left unset, including a volume's default disk; keeps what it set", () => {
    const t: Template = {
      metadata: { annotations: { p: "mine" } },
      spec: {
        domain: {
          devices: {
            disks: [{ name: "root" }, { name: "data", disk: { bus: "virtio" } }, { name: "iso", cdrom: {} }],
            interfaces: [{ name: "default" }, { name: "br", bridge: {}, model: "virtio" }],
            inputs: [{ name: "tablet", type: "tablet" }],
            autoattachMemBalloon: true,
          },
        },
        networks: [{ name: "default", pod: {} }, { name: "br", pod: {} }],
        volumes: [{ name: "root", emptyDisk: { capacity: "1Gi" } }, { name: "data", emptyDisk: { capacity: "1Gi" } }, { name: "iso", emptyDisk: { capacity: "1Gi" } }, { name: "extra", emptyDisk: { capacity: "1Gi" } }],
        terminationGracePeriodSeconds: 5,
      } as VmiSpec,
    };
    const out = expanded(t, { preference: pref(linux) });
    const d = out.spec.domain.devices;
    expect(d.disks).toEqual([
      { name: "root", disk: { bus: "sata" } },
      { name: "data", disk: { bus: "virtio" } },
      { name: "iso", cdrom: { bus: "scsi" } },
      { name: "extra", disk: { bus: "sata" } },
    ]);
    expect(d.interfaces).toEqual([{ name: "default", model: "e1000e", masquerade: {} }, { name: "br", bridge: {}, model: "virtio" }]);
    expect(d.inputs).toEqual([{ name: "tablet", type: "tablet", bus: "virtio" }]);
    expect(d.rng).toEqual({});
    expect(d.autoattachMemBalloon).toBe(true);
    expect(out.spec.domain.machine?.type).toBe("pc-q35-7.2");
    expect(out.spec.terminationGracePeriodSeconds).toBe(5);
    expect(out.metadata?.annotations).toEqual({ p: "mine" });
  });

  test("a preferred TPM when the VM has none, without persistent (bunvirt keeps no TPM state); the VM's own wins", () => {
    const p = pref({ devices: { preferredTPM: { persistent: true } } });
    expect(expanded(base(), { preference: p }).spec.domain.devices.tpm).toEqual({});
    expect(expanded(base({}, { devices: { tpm: { enabled: false } } }), { preference: p }).spec.domain.devices.tpm).toEqual({ enabled: false });
  });

  test("a disk whose bus neither sets keeps no bus key", () => {
    const out = expanded(base({ volumes: [{ name: "a", emptyDisk: { capacity: "1Gi" } }] }, { devices: { disks: [{ name: "a" }] } }), { preference: pref({ devices: { preferredInterfaceModel: "virtio" } }) });
    expect(out.spec.domain.devices.disks).toEqual([{ name: "a", disk: {} }]);
  });

  test("firmware: preferredEfi, the deprecated preferredUseEfi and preferredUseSecureBoot, BIOS with serial; a VM's bootloader wins", () => {
    const fw = (p: NonNullable<PreferenceSpec["firmware"]>, t = base()) => expanded(t, { preference: pref({ firmware: p }) }).spec.domain.firmware?.bootloader;
    expect(fw({ preferredEfi: { secureBoot: true } })).toEqual({ efi: { secureBoot: true } });
    expect(fw({ preferredUseEfi: true, preferredUseSecureBoot: false })).toEqual({ efi: { secureBoot: false } });
    expect(fw({ preferredUseBios: true, preferredUseBiosSerial: true })).toEqual({ bios: { useSerial: true } });
    expect(fw({ preferredEfi: {} }, base({}, { firmware: { bootloader: { bios: {} } } }))).toEqual({ bios: {} });
  });

  test("features: preferredAcpi replaces, the others and each Hyper-V enlightenment only fill", () => {
    const t = base({}, { features: { acpi: { enabled: true }, apic: { enabled: false }, hyperv: { relaxed: { enabled: false } } } });
    const out = expanded(t, { preference: pref({ features: { preferredAcpi: { enabled: false }, preferredApic: {}, preferredSmm: {}, preferredHyperv: { relaxed: {}, vapic: {} } } }) });
    expect(out.spec.domain.features).toEqual({ acpi: { enabled: false }, apic: { enabled: false }, smm: {}, hyperv: { relaxed: { enabled: false }, vapic: {} } });
  });

  test("clock: the offset only when the VM sets neither utc nor timezone, timers only when it sets none", () => {
    const p = pref({ clock: { preferredClockOffset: { timezone: "Europe/Berlin" }, preferredTimer: { hpet: { present: false } } } });
    expect(expanded(base(), { preference: p }).spec.domain.clock).toEqual({ timezone: "Europe/Berlin", timer: { hpet: { present: false } } });
    expect(expanded(base({}, { clock: { utc: {}, timer: { rtc: { tickPolicy: "catchup" } } } }), { preference: p }).spec.domain.clock).toEqual({ utc: {}, timer: { rtc: { tickPolicy: "catchup" } } });
  });

  test("requirements: too few vCPUs or too little memory, from the instancetype or the VM, are refused", () => {
    const needs = pref({ requirements: { cpu: { guest: 4 }, memory: { guest: "4Gi" } } });
    const r = expandTemplate(base(), { instancetype: it(), preference: needs });
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual(["spec.instancetype.name", "spec.instancetype.name"]);
    expect(r.ok ? "" : r.problems[0]!.rule).toBe('gives 2 vCPU(s) (instancetype "u1.small"), fewer than preference "fedora" requires (4)');
    const own = expandTemplate(base({}, { cpu: { sockets: 2, cores: 2 }, memory: { guest: "1Gi" } }), { preference: needs });
    expect(own.ok ? [] : own.problems.map((p) => p.path)).toEqual(["spec.template.spec.domain.memory.guest"]);
    expect(expandTemplate(base({}, { resources: { requests: { memory: "4Gi" } }, cpu: { cores: 4 } }), { preference: needs }).ok).toBe(true);
  });

  test("spread: vCPUs that do not divide by the ratio are refused", () => {
    const r = expandTemplate(base(), { instancetype: it({ cpu: { guest: 3 } }), preference: pref({ cpu: { preferredCPUTopology: "spread" } }) });
    expect(r.ok ? "" : r.problems[0]!.rule).toMatch(/gives 3 vCPUs, which preference "fedora" cannot spread across SocketsCores at ratio 2: they must be a multiple of 2/);
  });
});
