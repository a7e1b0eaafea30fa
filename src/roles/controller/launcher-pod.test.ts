import { describe, expect, test } from "bun:test";
import { launcherOverheadBytes, launcherPod, launcherResources, launcherSocketOnNode, podHostname } from "./launcher-pod.ts";
import type { Vmi } from "./model.ts";

const vmi = (): Vmi => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "testvm", namespace: "ns1", uid: "vmi-uid", labels: { "kubevirt.io/size": "small" } },
  spec: {
    domain: { devices: { disks: [{ name: "root" }, { name: "data" }, { name: "base" }, { name: "cidata" }] }, memory: { guest: "64M" } },
    volumes: [
      { name: "root", containerDisk: { image: "cirros" } },
      { name: "data", persistentVolumeClaim: { claimName: "data-claim" } },
      { name: "base", ephemeral: { persistentVolumeClaim: { claimName: "golden" } } },
      { name: "cidata", cloudInitNoCloud: { secretRef: { name: "ud" }, networkDataSecretRef: { name: "ud" } } },
    ],
    terminationGracePeriodSeconds: 0,
    nodeSelector: { "kubernetes.io/hostname": "node1" },
  },
});
const opts = { image: "registry.local/bunvirt-launcher:0.1.0", emulation: true };

describe("launcherPod", () => {
  const pod = launcherPod(vmi(), opts);

  test("the VMI's priorityClassName is the pod's; none without it", () => {
    expect(pod.spec?.priorityClassName).toBeUndefined();
    const v = vmi();
    v.spec.priorityClassName = "vm-critical";
    expect(launcherPod(v, opts).spec?.priorityClassName).toBe("vm-critical");
  });

  test("generateName virt-launcher-<vmi>-, KubeVirt's labels and annotations, owned by the VMI", () => {
    expect(pod.metadata?.generateName).toBe("virt-launcher-testvm-");
    expect(pod.metadata?.namespace).toBe("ns1");
    expect(pod.metadata?.labels).toEqual({
      "kubevirt.io/size": "small",
      "kubevirt.io": "virt-launcher",
      "kubevirt.io/created-by": "vmi-uid",
      "vm.kubevirt.io/name": "testvm",
    });
    expect(pod.metadata?.annotations?.["kubevirt.io/domain"]).toBe("testvm");
    expect(pod.metadata?.ownerReferences).toEqual([
      { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", name: "testvm", uid: "vmi-uid", controller: true, blockOwnerDeletion: true },
    ]);
  });

  test("the compute container runs the launcher role with the socket in its emptyDir", () => {
    const c = pod.spec?.containers[0]!;
    expect(c.name).toBe("compute");
    expect(c.image).toBe(opts.image);
    expect(c.command).toEqual([
      "bunvirt", "--role", "launcher", "--libvirt-layout", "pod", "--state-dir", "/run/bunvirt/launcher",
      "--command-socket", "/run/bunvirt/sockets/launcher.sock", "--health-addr", "127.0.0.1:8187", "--emulation",
    ]);
    expect(launcherPod(vmi(), { ...opts, emulation: false }).spec?.containers[0]!.command).not.toContain("--emulation");
    expect(pod.spec?.volumes?.find((v) => v.name === "bunvirt-sockets")).toEqual({ name: "bunvirt-sockets", emptyDir: {} });
    expect(c.volumeMounts).toContainEqual({ name: "bunvirt-sockets", mountPath: "/run/bunvirt/sockets" });
  });

  test("claims are mounted by claim name (an ephemeral one read-only); a Secret used twice is mounted once", () => {
    const vols = pod.spec?.volumes?.filter((v) => !v.name.startsWith("bunvirt-"));
    expect(vols).toEqual([
      { name: "pvc-data-claim", persistentVolumeClaim: { claimName: "data-claim" } },
      { name: "pvc-golden", persistentVolumeClaim: { claimName: "golden", readOnly: true } },
      { name: "secret-ud", secret: { secretName: "ud" } },
    ]);
    expect(pod.spec?.containers[0]!.volumeMounts?.filter((m) => !m.name.startsWith("bunvirt-"))).toEqual([
      { name: "pvc-data-claim", mountPath: "/run/bunvirt/claims/data-claim" },
      { name: "pvc-golden", mountPath: "/run/bunvirt/claims/golden", readOnly: true },
      { name: "secret-ud", mountPath: "/run/bunvirt/secrets/ud", readOnly: true },
    ]);
  });

  test("a dataVolume volume mounts the claim named after the DataVolume, writable, like a persistentVolumeClaim", () => {
    const v = vmi();
    v.spec.domain.devices!.disks!.push({ name: "dv" }, { name: "dv-again" });
    v.spec.volumes!.push({ name: "dv", dataVolume: { name: "fedora-dv" } }, { name: "dv-again", dataVolume: { name: "golden" } });
    const p = launcherPod(v, opts);
    expect(p.spec?.volumes).toContainEqual({ name: "pvc-fedora-dv", persistentVolumeClaim: { claimName: "fedora-dv" } });
    expect(p.spec?.containers[0]!.volumeMounts).toContainEqual({ name: "pvc-fedora-dv", mountPath: "/run/bunvirt/claims/fedora-dv" });
    // The same claim through an ephemeral volume and a DataVolume: mounted once, writable.
    expect(p.spec?.volumes?.filter((x) => x.persistentVolumeClaim?.claimName === "golden")).toEqual([{ name: "pvc-golden", persistentVolumeClaim: { claimName: "golden" } }]);
  });

  test("not privileged: every capability dropped but the launcher's short list (never SYS_ADMIN), no escalation, read-only root, seccomp RuntimeDefault", () => {
    const sc = pod.spec?.containers[0]!.securityContext!;
    expect(sc.privileged).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.capabilities?.drop).toEqual(["ALL"]);
    expect(sc.capabilities?.add).toEqual(["NET_ADMIN", "NET_BIND_SERVICE", "SETUID", "SETGID", "SETPCAP", "CHOWN", "FOWNER", "DAC_OVERRIDE", "KILL"]);
    expect(sc.capabilities?.add).not.toContain("SYS_ADMIN");
    expect(pod.spec?.securityContext?.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(pod.spec?.hostNetwork ?? false).toBe(false);
    expect(pod.spec?.hostPID ?? false).toBe(false);
  });

  test("what is written goes to emptyDirs: libvirt's directories are subPaths of the state volume, /tmp its own", () => {
    const mounts = pod.spec?.containers[0]!.volumeMounts ?? [];
    expect(mounts.filter((m) => m.subPath !== undefined)).toEqual([
      { name: "bunvirt-state", mountPath: "/run/libvirt", subPath: "libvirt/run" },
      { name: "bunvirt-state", mountPath: "/var/lib/libvirt", subPath: "libvirt/lib" },
      { name: "bunvirt-state", mountPath: "/var/cache/libvirt", subPath: "libvirt/cache" },
      { name: "bunvirt-state", mountPath: "/var/log", subPath: "libvirt/var-log" },
      { name: "bunvirt-state", mountPath: "/var/log/libvirt", subPath: "libvirt/log" },
      { name: "bunvirt-state", mountPath: "/etc/libvirt", subPath: "libvirt/etc" },
    ]);
    expect(mounts).toContainEqual({ name: "bunvirt-tmp", mountPath: "/tmp" });
    expect(pod.spec?.volumes).toContainEqual({ name: "bunvirt-tmp", emptyDir: {} });
    expect(pod.spec?.volumes).toContainEqual({ name: "bunvirt-state", emptyDir: {} });
  });

  test("devices as the device plugin's extended resources: tun always, kvm only without emulation, never vhost-net (unused by the domain)", () => {
    const emulated = pod.spec?.containers[0]!.resources!;
    expect(emulated.limits).toEqual({ "devices.kubevirt.io/tun": "1" });
    expect(emulated.requests).toMatchObject({ "devices.kubevirt.io/tun": "1" });
    expect(Object.keys(emulated.requests ?? {})).not.toContain("devices.kubevirt.io/kvm");
    const kvm = launcherPod(vmi(), { ...opts, emulation: false }).spec?.containers[0]!.resources!;
    const devices = { "devices.kubevirt.io/kvm": "1", "devices.kubevirt.io/tun": "1" };
    expect(kvm.limits).toEqual(devices);
    expect(kvm.requests).toMatchObject(devices);
    // A memory limit stays beside the devices.
    const limited = vmi();
    limited.spec.domain.resources = { limits: { memory: "64Mi" } };
    expect(launcherPod(limited, opts).spec?.containers[0]!.resources?.limits).toEqual({ memory: "194Mi", "devices.kubevirt.io/tun": "1" });
  });

  test("with ipForwardSysctl a masquerade interface gets IPv4 forwarding as a pod sysctl (the container cannot write /proc/sys); others, and without it, none", () => {
    expect(pod.spec?.securityContext?.sysctls).toBeUndefined();
    const masq = vmi();
    masq.spec.domain.devices.interfaces = [{ name: "default", masquerade: {} }];
    masq.spec.networks = [{ name: "default", pod: {} }];
    expect(launcherPod(masq, opts).spec?.securityContext?.sysctls).toBeUndefined();
    expect(launcherPod(masq, { ...opts, ipForwardSysctl: true }).spec?.securityContext?.sysctls).toEqual([{ name: "net.ipv4.ip_forward", value: "1" }]);
    expect(launcherPod(vmi(), { ...opts, ipForwardSysctl: true }).spec?.securityContext?.sysctls).toBeUndefined();
  });

  test("grace period: the VMI's plus KubeVirt's two 15 s paddings; default 30 s", () => {
    expect(pod.spec?.terminationGracePeriodSeconds).toBe(30);
    const v = vmi();
    delete v.spec.terminationGracePeriodSeconds;
    expect(launcherPod(v, opts).spec?.terminationGracePeriodSeconds).toBe(60);
  });

  test("the VMI's nodeSelector plus KubeVirt's schedulable label; never restarted; no service account token", () => {
    expect(pod.spec?.nodeSelector).toEqual({ "kubernetes.io/hostname": "node1", "kubevirt.io/schedulable": "true" });
    expect(launcherPod(vmi(), { ...opts, requireSchedulableNode: false }).spec?.nodeSelector).toEqual({ "kubernetes.io/hostname": "node1" });
    expect(pod.spec?.restartPolicy).toBe("Never");
    expect(pod.spec?.shareProcessNamespace).toBe(true);
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
  });

  test("a VMI without a uid cannot have a pod", () => {
    const v = vmi();
    delete v.metadata.uid;
    expect(() => launcherPod(v, opts)).toThrow('metadata.uid "undefined"');
  });
});

describe("launcherResources", () => {
  test("memory: the guest's plus the launcher overhead, in MiB; CPU 100m per vCPU", () => {
    expect(launcherOverheadBytes).toBe(130 * 1024 * 1024);
    // 64M = 61.04 MiB -> 62 MiB after adding 130 MiB and rounding up: 192Mi.
    expect(launcherResources(vmi())).toEqual({ requests: { memory: "192Mi", cpu: "100m" } });
    const v = vmi();
    v.spec.domain.cpu = { cores: 2, sockets: 2 };
    expect(launcherResources(v).requests.cpu).toBe("400m");
  });
  test("requests and limits as the VMI gives them, the overhead on memory", () => {
    const v = vmi();
    v.spec.domain.resources = { requests: { memory: "1Gi", cpu: "500m" }, limits: { memory: "2Gi", cpu: 2 } };
    expect(launcherResources(v)).toEqual({ requests: { memory: "1154Mi", cpu: "500m" }, limits: { memory: "2178Mi", cpu: "2" } });
  });
  test("dedicatedCpuPlacement: a whole CPU per vCPU (one more for the emulator thread), limits equal to requests, KubeVirt's cpumanager node label", () => {
    const v = vmi();
    v.spec.domain.cpu = { cores: 2, dedicatedCpuPlacement: true };
    expect(launcherResources(v)).toEqual({ requests: { memory: "192Mi", cpu: "2" }, limits: { memory: "192Mi", cpu: "2" } });
    v.spec.domain.cpu.isolateEmulatorThread = true;
    expect(launcherResources(v)).toEqual({ requests: { memory: "192Mi", cpu: "3" }, limits: { memory: "192Mi", cpu: "3" } });
    const pod = launcherPod(v, opts);
    expect(pod.spec?.nodeSelector).toEqual({ "kubernetes.io/hostname": "node1", "kubevirt.io/schedulable": "true", cpumanager: "true" });
    // Guaranteed QoS: every resource of the one container has its limit equal to its request.
    const r = pod.spec!.containers[0]!.resources!;
    expect(Object.keys(r.requests!).sort()).toEqual(Object.keys(r.limits!).sort());
    for (const [k, q] of Object.entries(r.requests!)) expect(String(r.limits![k])).toBe(String(q));
  });
  test("no memory at all is an error naming both fields", () => {
    const v = vmi();
    delete v.spec.domain.memory;
    expect(() => launcherResources(v)).toThrow("spec.domain.memory.guest and spec.domain.resources.requests.memory are both unset");
  });
});

test("podHostname: a DNS label", () => {
  expect(podHostname("my.vm")).toBe("my-vm");
  expect(podHostname("a".repeat(70))).toHaveLength(63);
});

test("launcherSocketOnNode: the socket emptyDir in the kubelet's pod directory; a uid cannot climb out", () => {
  expect(launcherSocketOnNode("0b6a1c2e-7f3d-4c1a-9e2b-5d8f0a1b2c3d")).toBe(
    "/var/lib/kubelet/pods/0b6a1c2e-7f3d-4c1a-9e2b-5d8f0a1b2c3d/volumes/kubernetes.io~empty-dir/bunvirt-sockets/launcher.sock",
  );
  expect(() => launcherSocketOnNode("../../etc")).toThrow('pod uid "../../etc" is not a UID');
});

test("a hostDisk's allowed directory is a hostPath volume of the pod, mounted where the launcher looks; none unless allowed", () => {
  const v = vmi();
  v.spec.domain.devices.disks!.push({ name: "hd" });
  v.spec.volumes!.push({ name: "hd", hostDisk: { path: "/srv/vms/vm1.img", type: "DiskOrCreate", capacity: "1Gi" } });
  const allowed = launcherPod(v, { ...opts, hostDiskDirs: ["/srv/vms"] });
  const vol = allowed.spec?.volumes?.find((x) => x.hostPath !== undefined);
  expect(vol?.hostPath).toEqual({ path: "/srv/vms", type: "DirectoryOrCreate" });
  expect(allowed.spec?.containers[0]!.volumeMounts).toContainEqual({ name: vol!.name, mountPath: "/run/bunvirt/host-disks/%2Fsrv%2Fvms" });
  expect(launcherPod(v, opts).spec?.volumes?.some((x) => x.hostPath !== undefined)).toBe(false);
});
