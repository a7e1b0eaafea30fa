/**
 * The cluster-wide instancetypes and preferences bunvirt ships, named as
 * KubeVirt's common-instancetypes are (u1.* sizes, OS preferences), so
 * `instancetype: {name: u1.medium}` and `preference: {name: fedora}` work
 * on a fresh install. They are defined once here: the controller's leader
 * server-side applies them at start (common-apply.ts), as KubeVirt's
 * operator deploys its common instancetypes — `kubectl apply -k` of the
 * deployment cannot hold them, as it would have to wait for their CRDs to
 * be established — and scripts/gen-crds.ts writes them to
 * deploy/kustomize/base/instancetypes.yaml to read and to give
 * `bunvirt validate` beside a VM.
 */
import { instancetypeApiVersion, type InstancetypeSpec } from "../../../api/instancetype/instancetype.ts";
import type { PreferenceSpec } from "../../../api/instancetype/preference.ts";

const labels = { "app.kubernetes.io/part-of": "bunvirt", "instancetype.kubevirt.io/vendor": "bunvirt" };

type Common =
  | { apiVersion: string; kind: "VirtualMachineClusterInstancetype"; metadata: { name: string; labels: Record<string, string> }; spec: InstancetypeSpec }
  | { apiVersion: string; kind: "VirtualMachineClusterPreference"; metadata: { name: string; labels: Record<string, string> }; spec: PreferenceSpec };

/** u1: general purpose, 1 vCPU to 4 vCPUs, 4 GiB of memory per vCPU from medium up. */
const sizes: [string, number, string][] = [
  ["u1.nano", 1, "512Mi"],
  ["u1.micro", 1, "1Gi"],
  ["u1.small", 1, "2Gi"],
  ["u1.medium", 1, "4Gi"],
  ["u1.large", 2, "8Gi"],
  ["u1.xlarge", 4, "16Gi"],
];

/** A Linux guest: virtio disks and NICs, an entropy source, at least `memory`. */
const linux = (memory: string): PreferenceSpec => ({
  devices: { preferredDiskBus: "virtio", preferredInterfaceModel: "virtio", preferredRng: {} },
  requirements: { cpu: { guest: 1 }, memory: { guest: memory } },
});

/**
 * Windows Server 2022: devices its installer has drivers for (SATA, e1000e),
 * a USB tablet, Hyper-V enlightenments, its clock in UTC with the timers
 * Windows expects, EFI with Secure Boot (and SMM), time to shut down.
 */
const windows: PreferenceSpec = {
  cpu: { preferredCPUTopology: "sockets" },
  devices: { preferredDiskBus: "sata", preferredCdromBus: "sata", preferredInterfaceModel: "e1000e", preferredInputBus: "usb", preferredInputType: "tablet", preferredTPM: {} },
  features: {
    preferredAcpi: {},
    preferredApic: {},
    preferredSmm: {},
    preferredHyperv: {
      relaxed: {}, vapic: {}, vpindex: {}, runtime: {}, synic: {}, synictimer: { direct: {} }, reset: {}, frequencies: {}, tlbflush: {}, ipi: {},
      spinlocks: { spinlocks: 8191 },
    },
  },
  firmware: { preferredEfi: { secureBoot: true } },
  machine: { preferredMachineType: "q35" },
  clock: {
    preferredClockOffset: { utc: {} },
    preferredTimer: { hpet: { present: false }, pit: { tickPolicy: "delay" }, rtc: { tickPolicy: "catchup" }, hyperv: {} },
  },
  preferredTerminationGracePeriodSeconds: 3600,
  requirements: { cpu: { guest: 1 }, memory: { guest: "4Gi" } },
};

const preferences: [string, PreferenceSpec][] = [
  ["fedora", linux("2Gi")],
  ["debian", linux("1Gi")],
  ["ubuntu", linux("2Gi")],
  ["alpine", linux("512Mi")],
  ["cirros", linux("64Mi")],
  ["windows.2k22", windows],
];

export const commonInstancetypes: Common[] = [
  ...sizes.map(([name, guest, memory]): Common => ({
    apiVersion: instancetypeApiVersion, kind: "VirtualMachineClusterInstancetype", metadata: { name, labels }, spec: { cpu: { guest }, memory: { guest: memory } },
  })),
  ...preferences.map(([name, spec]): Common => ({
    apiVersion: instancetypeApiVersion, kind: "VirtualMachineClusterPreference", metadata: { name, labels }, spec,
  })),
];
