/**
 * VMI -> its launcher Pod (KubeVirt's TemplateService.RenderLaunchManifest,
 * for bunvirt's launcher): `virt-launcher-<vmi>-` plus the five characters
 * the API server appends (generateName), KubeVirt's labels and annotations so
 * `kubectl get pods -l kubevirt.io=virt-launcher` and the handler find it,
 * owned by the VMI so deletion and garbage collection follow it, one
 * container `compute` running `bunvirt --role launcher`, memory = the guest's
 * plus the launcher's measured overhead, the VMI's volumes mounted where the
 * launcher's storage providers look, and a grace period padded so the handler
 * shuts the guest down before the kubelet kills the pod.
 */
import { createHash } from "node:crypto";
import { relative } from "node:path";
import type { V1Container, V1Pod, V1SecurityContext, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { bindMounts, stackPaths } from "../../launcher/libvirt/paths.ts";
import { launcherDirs } from "../../launcher/launcher-dirs.ts";
import { launcherRuntimeEnv } from "../../launcher/runtime-env.ts";
import { parseQuantity, quantityBytes } from "../../api/quantity.ts";
import type { Vmi } from "./model.ts";
import { hostDiskMounts } from "./host-disk-mounts.ts";
import { controllerRef } from "./vmi-from-vm.ts";

const MiB = 1024 * 1024;

/**
 * Memory the launcher needs besides the guest's RAM: its own bunvirt process,
 * libvirtd, dbus-daemon and libvirt-dbus, measured at about 104 MiB RSS with
 * a VM running (`bun bench/local-run.ts`, "launcher-side RSS"; 130 MiB
 * before virtlogd went and the launcher ran without the JIT), kept at 130 MiB
 * for headroom; KubeVirt budgets 190 Mi for the same roles. Re-measure when
 * the launcher changes.
 */
export const launcherOverheadBytes = 130 * MiB;

/** KubeVirt pads the grace period twice: the launcher gets VMI's + 15 s, the pod VMI's + 30 s. */
export const gracePeriodPaddingSeconds = 15;
/** KubeVirt's default terminationGracePeriodSeconds of a VMI. */
export const defaultGracePeriodSeconds = 30;

/** The CPU a vCPU requests when the VMI asks for none (KubeVirt: 1/cpuAllocationRatio of 10). */
const cpuRequestPerVcpu = 0.1;

export const computeContainerName = "compute";
export const launcherLabels = { app: "kubevirt.io", createdBy: "kubevirt.io/created-by", vmName: "vm.kubevirt.io/name" } as const;
export const domainAnnotation = "kubevirt.io/domain";
/** Set by the handler on nodes that can run VMs (KubeVirt's label). */
export const schedulableNodeLabel = "kubevirt.io/schedulable";
/** KubeVirt's node label for a kubelet with the static CPU manager policy: dedicated CPUs need it. */
export const cpuManagerNodeLabel = "cpumanager";

/**
 * Where the launcher container finds things: under /run, not /var/run (a
 * symlink to /run in the launcher's image, and the launcher refuses socket
 * and state paths reached through a symlink).
 */
export const launcherPaths = {
  /** The command socket's directory: an emptyDir the handler reaches through the kubelet's pod directory. */
  sockets: "/run/bunvirt/sockets",
  socket: "/run/bunvirt/sockets/launcher.sock",
  /** The VM's private state: overlays, the cloud-init ISO, libvirt's runtime files. */
  state: "/run/bunvirt/launcher",
  /** A claim `<name>` is mounted at `<claims>/<name>/`. */
  claims: "/run/bunvirt/claims",
  /** A Secret `<name>` is mounted at `<secrets>/<name>/`. */
  secrets: "/run/bunvirt/secrets",
} as const;

export const socketVolumeName = "bunvirt-sockets";

/**
 * Where the handler finds a launcher's command socket on the node: the
 * socket emptyDir under the kubelet's directory for the pod. The handler must
 * still refuse symlinks on the way (assertSocketPathSafe).
 */
export function launcherSocketOnNode(podUid: string, kubeletRoot = "/var/lib/kubelet"): string {
  if (!/^[0-9a-f-]{1,64}$/i.test(podUid)) throw new Error(`Cannot locate the launcher socket: pod uid "${podUid}" is not a UID`);
  return `${kubeletRoot}/pods/${podUid}/volumes/kubernetes.io~empty-dir/${socketVolumeName}/launcher.sock`;
}
/** The emptyDir of the launcher's state (overlays, console log, its container-disk cache). */
export const stateVolumeName = "bunvirt-state";
/** The emptyDir at /tmp: the root filesystem is read-only. */
export const tmpVolumeName = "bunvirt-tmp";

/** Extended resources the handler's device plugin serves (KubeVirt's names). */
export const deviceResources = { kvm: "devices.kubevirt.io/kvm", tun: "devices.kubevirt.io/tun" } as const;

/**
 * The capabilities the launcher container keeps (all others dropped), each
 * used in the pod's own namespaces only; README "Launcher pod security" says
 * what breaks without each. Not SYS_ADMIN: in a pod the launcher uses the
 * pod's mounts (`--libvirt-layout pod`), not a private mount namespace.
 */
export const launcherCapabilities = [
  "NET_ADMIN", // the bridge, the tap, addresses, routes and nftables in the pod's network namespace
  "NET_BIND_SERVICE", // the DHCP server on port 67
  "SETUID", // libvirtd starts QEMU as libvirt-qemu
  "SETGID",
  "SETPCAP", // libvirtd clears QEMU's capabilities and bounding set before it execs QEMU
  "CHOWN", // libvirtd's DAC driver and the launcher give QEMU its disks and console directory
  "FOWNER", // libvirtd changes modes of files other users own
  "DAC_OVERRIDE", // root reaches files libvirt-qemu owns (QEMU's sockets and logs)
  "KILL", // libvirtd signals QEMU, which runs as another user
] as const;

/** Sysctls a masquerade binding needs in the pod's network namespace when the node's forwarding is off (the container's /proc/sys is read-only); with --ip-forward-sysctl. */
export const masqueradeSysctls = [{ name: "net.ipv4.ip_forward", value: "1" }] as const;

/**
 * The launcher's libvirt directories in the state volume (subPath) and where
 * libvirtd looks for them: the "pod" layout of the libvirt stack, which
 * checks that they are the same directories.
 */
export function libvirtMounts(): V1VolumeMount[] {
  const stack = stackPaths(launcherDirs(launcherPaths.state).libvirt);
  return bindMounts(stack, false).map((m) => ({ name: stateVolumeName, mountPath: m.target, subPath: relative(launcherPaths.state, m.source) }));
}

/** The compute container's security context: not privileged, the short capability list, a read-only root. */
export function launcherSecurityContext(): V1SecurityContext {
  return {
    privileged: false,
    // libvirtd drops to libvirt-qemu with setuid/setgid, which no_new_privs allows.
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    // root in the container: libvirtd's system instance and the pod's network setup.
    runAsUser: 0,
    runAsNonRoot: false,
    capabilities: { drop: ["ALL"], add: [...launcherCapabilities] },
  };
}

/**
 * The device resources a launcher pod asks for: the tun device always, KVM
 * unless emulated. Not vhost-net: the domain does not ask for vhost (QEMU's
 * userspace virtio-net), and asking would keep pods off nodes without
 * /dev/vhost-net.
 */
export function deviceRequests(emulation: boolean): Record<string, string> {
  return emulation ? { [deviceResources.tun]: "1" } : { [deviceResources.kvm]: "1", [deviceResources.tun]: "1" };
}

export interface LauncherPodOptions {
  /** The launcher image (compiled/bunvirt and what it runs). */
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** QEMU TCG instead of KVM (`--emulation`). */
  emulation: boolean;
  /**
   * Masquerade VMIs' pods set net.ipv4.ip_forward=1 as a pod sysctl
   * (`--ip-forward-sysctl`). Off by default: a pod's network namespace
   * starts with the node's forwarding, which Kubernetes nodes have on; the
   * sysctl is "unsafe", so the kubelet must allow it (allowedUnsafeSysctls).
   */
  ipForwardSysctl?: boolean;
  /** The executable's path in the image. Default "bunvirt". */
  command?: string;
  /** Require nodes labelled kubevirt.io/schedulable=true, as KubeVirt does. Default true. */
  requireSchedulableNode?: boolean;
  /** Node directories hostDisk volumes may use (`--host-disk-dirs`); none by default: no hostDisk is mounted. */
  hostDiskDirs?: readonly string[];
}

/** `<prefix>-<name>` when it is a valid volume name (at most 63 characters), else a hash of it. */
function podVolumeName(prefix: string, name: string): string {
  const plain = `${prefix}-${name}`;
  return plain.length <= 63 ? plain : `${prefix}-${createHash("sha256").update(name).digest("hex").slice(0, 20)}`;
}

/** A pod's hostname is a DNS label: dots become dashes, at most 63 characters (KubeVirt's SanitizeHostname). */
export function podHostname(name: string): string {
  return name.replace(/\./g, "-").slice(0, 63).replace(/-+$/, "");
}

const mebibytes = (bytes: number): string => `${Math.ceil(bytes / MiB)}Mi`;

/**
 * Pod resources: memory = the guest's + the launcher overhead; CPU as the VMI
 * asks, else 100m per vCPU; with dedicatedCpuPlacement, one whole CPU per
 * vCPU (and one for the emulator thread) and limits equal to requests.
 */
export function launcherResources(vmi: Vmi): { requests: Record<string, string>; limits?: Record<string, string> } {
  const d = vmi.spec.domain;
  const memory = d.resources?.requests?.memory ?? d.memory?.guest;
  if (memory === undefined) {
    throw new Error(`Cannot size the launcher pod of VMI "${vmi.metadata.name}": spec.domain.memory.guest and spec.domain.resources.requests.memory are both unset`);
  }
  const vcpus = (d.cpu?.cores ?? 1) * (d.cpu?.sockets ?? 1) * (d.cpu?.threads ?? 1);
  const cpu = d.resources?.requests?.cpu ?? `${Math.round(vcpus * cpuRequestPerVcpu * 1000)}m`;
  const requests: Record<string, string> = { memory: mebibytes(quantityBytes(memory) + launcherOverheadBytes), cpu: String(cpu) };
  const limits: Record<string, string> = {};
  const memLimit = d.resources?.limits?.memory;
  if (memLimit !== undefined) limits.memory = mebibytes(quantityBytes(memLimit) + launcherOverheadBytes);
  const cpuLimit = d.resources?.limits?.cpu;
  if (cpuLimit !== undefined && parseQuantity(cpuLimit) !== null) limits.cpu = String(cpuLimit);
  if (d.cpu?.dedicatedCpuPlacement === true) {
    // Guaranteed QoS with whole CPUs: the kubelet's static CPU manager gives such a pod CPUs of its own.
    const cpus = String(vcpus + (d.cpu.isolateEmulatorThread === true ? 1 : 0));
    requests.cpu = cpus;
    limits.cpu = cpus;
    limits.memory = requests.memory!;
  }
  return Object.keys(limits).length > 0 ? { requests, limits } : { requests };
}

/** Pod resources plus device resources (an extended resource's request must equal its limit). */
function withDevices(r: ReturnType<typeof launcherResources>, devices: Record<string, string>): { requests: Record<string, string>; limits: Record<string, string> } {
  return { requests: { ...r.requests, ...devices }, limits: { ...(r.limits ?? {}), ...devices } };
}

/** The claims (persistentVolumeClaim, ephemeral, dataVolume) and Secrets the VMI's volumes use, each mounted once. */
function volumesOf(vmi: Vmi): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  const claims = new Map<string, boolean>();
  const secrets = new Set<string>();
  for (const vol of vmi.spec.volumes ?? []) {
    const claim = vol.persistentVolumeClaim ?? vol.ephemeral?.persistentVolumeClaim;
    if (claim !== undefined) {
      // An ephemeral volume only reads its claim (the writes go to an overlay).
      const readOnly = vol.ephemeral !== undefined || claim.readOnly === true;
      claims.set(claim.claimName, (claims.get(claim.claimName) ?? true) && readOnly);
    }
    // A DataVolume's claim has the DataVolume's name (KubeVirt, CDI); the VM writes to it.
    if (vol.dataVolume !== undefined) claims.set(vol.dataVolume.name, false);
    const ci = vol.cloudInitNoCloud;
    if (ci?.secretRef !== undefined) secrets.add(ci.secretRef.name);
    if (ci?.networkDataSecretRef !== undefined) secrets.add(ci.networkDataSecretRef.name);
  }
  for (const [claimName, readOnly] of claims) {
    const name = podVolumeName("pvc", claimName);
    volumes.push({ name, persistentVolumeClaim: { claimName, ...(readOnly ? { readOnly: true } : {}) } });
    mounts.push({ name, mountPath: `${launcherPaths.claims}/${claimName}`, ...(readOnly ? { readOnly: true } : {}) });
  }
  for (const secretName of secrets) {
    const name = podVolumeName("secret", secretName);
    volumes.push({ name, secret: { secretName } });
    mounts.push({ name, mountPath: `${launcherPaths.secrets}/${secretName}`, readOnly: true });
  }
  return { volumes, mounts };
}

export function launcherPod(vmi: Vmi, opts: LauncherPodOptions): V1Pod {
  const name = vmi.metadata.name;
  const uid = vmi.metadata.uid;
  if (name === undefined || uid === undefined) {
    throw new Error(`Cannot build a launcher pod: the VMI's metadata.name "${String(name)}" and metadata.uid "${String(uid)}" must both be set`);
  }
  const grace = vmi.spec.terminationGracePeriodSeconds ?? defaultGracePeriodSeconds;
  const { volumes, mounts } = volumesOf(vmi);
  const hostDisks = hostDiskMounts(vmi.spec, opts.hostDiskDirs ?? []);
  const command = [
    opts.command ?? "bunvirt", "--role", "launcher",
    "--libvirt-layout", "pod",
    "--state-dir", launcherPaths.state,
    "--command-socket", launcherPaths.socket,
    "--health-addr", "127.0.0.1:8187",
    ...(opts.emulation ? ["--emulation"] : []),
  ];
  const container: V1Container = {
    name: computeContainerName,
    image: opts.image,
    imagePullPolicy: opts.imagePullPolicy ?? "IfNotPresent",
    command,
    env: [
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      ...Object.entries(launcherRuntimeEnv).map(([name, value]) => ({ name, value })),
    ],
    resources: withDevices(launcherResources(vmi), deviceRequests(opts.emulation)),
    securityContext: launcherSecurityContext(),
    volumeMounts: [
      { name: socketVolumeName, mountPath: launcherPaths.sockets },
      { name: stateVolumeName, mountPath: launcherPaths.state },
      ...libvirtMounts(),
      { name: tmpVolumeName, mountPath: "/tmp" },
      ...mounts,
      ...hostDisks.mounts,
    ],
  };
  const masquerade = (vmi.spec.domain.devices?.interfaces ?? []).some((i) => i.masquerade !== undefined);
  const nodeSelector: Record<string, string> = { ...(vmi.spec.nodeSelector ?? {}) };
  if (opts.requireSchedulableNode !== false) nodeSelector[schedulableNodeLabel] = "true";
  if (vmi.spec.domain.cpu?.dedicatedCpuPlacement === true) nodeSelector[cpuManagerNodeLabel] = "true";
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `virt-launcher-${name}-`,
      ...(vmi.metadata.namespace !== undefined ? { namespace: vmi.metadata.namespace } : {}),
      labels: {
        ...(vmi.metadata.labels ?? {}),
        [launcherLabels.app]: "virt-launcher",
        [launcherLabels.createdBy]: uid,
        [launcherLabels.vmName]: name,
      },
      annotations: { [domainAnnotation]: name, "kubectl.kubernetes.io/default-container": computeContainerName },
      ownerReferences: [controllerRef(vmi)],
    },
    spec: {
      hostname: podHostname(vmi.spec.hostname ?? name),
      restartPolicy: "Never",
      // The pod's pause process is PID 1. The launcher, the subreaper of its own process tree
      // (src/launcher/libvirt/orphan-reaper.ts), waits for the orphans of its tree (QEMU); PID 1 would
      // also be sent the pod's other orphans and signals meant for the pod.
      shareProcessNamespace: true,
      terminationGracePeriodSeconds: grace + 2 * gracePeriodPaddingSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        seccompProfile: { type: "RuntimeDefault" },
        ...(masquerade && opts.ipForwardSysctl === true ? { sysctls: masqueradeSysctls.map((s) => ({ ...s })) } : {}),
      },
      nodeSelector,
      ...(vmi.spec.priorityClassName !== undefined ? { priorityClassName: vmi.spec.priorityClassName } : {}),
      containers: [container],
      volumes: [
        { name: socketVolumeName, emptyDir: {} },
        { name: stateVolumeName, emptyDir: {} },
        { name: tmpVolumeName, emptyDir: {} },
        ...volumes,
        ...hostDisks.volumes,
      ],
    },
  };
}
