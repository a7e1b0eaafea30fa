/**
 * The importer Pod of a DataVolume's claim when CDI is not installed, as
 * CDI's `importer-<claim>`: the controller's own image running `bunvirt
 * import` (the same executable), the claim mounted where the launcher finds
 * claims, owned by the claim (deleting it deletes the pod), restartPolicy
 * OnFailure (the kubelet retries a failed import with its backoff, as CDI's
 * importer). The DataVolume reaches the pod as an annotation mounted by the
 * downward API. No privileges: every capability dropped, read-only root,
 * no ServiceAccount token; it runs as root only so it can write a volume
 * whose directory root owns (a hostPath PV).
 */
import { createHash } from "node:crypto";
import type { V1PersistentVolumeClaim, V1Pod, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { DataVolumeTemplate } from "../../../api/v1/data-volume.ts";
import { launcherPaths } from "../launcher-pod.ts";
import type { Vm } from "../model.ts";
import { controllerRef } from "../vmi-from-vm.ts";

export interface ImporterOptions {
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** The executable's path in the image. Default "bunvirt". */
  command?: string;
  /** --registry and --insecure-registry for registry sources (the controller's own settings). */
  registry?: string;
  insecureRegistries?: readonly string[];
}

/** `kubevirt.io=bunvirt-importer`: how the controller's pod informer finds importer pods. */
export const importerLabel = { key: "kubevirt.io", value: "bunvirt-importer" } as const;
export const importerContainerName = "importer";
/** The pod annotation holding the DataVolume as JSON (mounted as a file). */
export const dataVolumeAnnotation = "bunvirt.io/data-volume";

const dataVolumeDir = "/run/bunvirt/import";
const dataVolumeFile = "data-volume.json";
const cacheDir = "/run/bunvirt/import-cache";

/** `importer-<claim>`, or a hash of the claim's name past 63 characters. */
export function importerPodName(claim: string): string {
  const plain = `importer-${claim}`;
  return plain.length <= 63 ? plain : `importer-${createHash("sha256").update(claim).digest("hex").slice(0, 20)}`;
}

function podVolumeName(prefix: string, name: string): string {
  const plain = `${prefix}-${name}`;
  return plain.length <= 63 ? plain : `${prefix}-${createHash("sha256").update(name).digest("hex").slice(0, 20)}`;
}

/** The claims and Secrets the import reads: its own claim, a same-namespace clone source (read-only), a secretRef. */
function mountsOf(t: DataVolumeTemplate, namespace: string): { volumes: V1Volume[]; mounts: V1VolumeMount[]; args: string[] } {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  const args: string[] = [];
  const claim = (name: string, readOnly: boolean): void => {
    const v = podVolumeName("pvc", name);
    volumes.push({ name: v, persistentVolumeClaim: { claimName: name, ...(readOnly ? { readOnly: true } : {}) } });
    mounts.push({ name: v, mountPath: `${launcherPaths.claims}/${name}`, ...(readOnly ? { readOnly: true } : {}) });
    args.push("--claim", `${name}=${launcherPaths.claims}/${name}`);
  };
  claim(t.metadata.name, false);
  const clone = t.spec.source?.pvc;
  // Another namespace's claim cannot be mounted here: the import then fails naming it.
  if (clone !== undefined && clone.namespace === namespace && clone.name !== t.metadata.name) claim(clone.name, true);
  const secret = t.spec.source?.http?.secretRef ?? t.spec.source?.registry?.secretRef;
  if (secret !== undefined) {
    const v = podVolumeName("secret", secret);
    volumes.push({ name: v, secret: { secretName: secret } });
    mounts.push({ name: v, mountPath: `${launcherPaths.secrets}/${secret}`, readOnly: true });
    args.push("--secret", `${secret}=${launcherPaths.secrets}/${secret}`);
  }
  return { volumes, mounts, args };
}

export function importerPod(vm: Vm, t: DataVolumeTemplate, pvc: V1PersistentVolumeClaim, opts: ImporterOptions): V1Pod {
  const namespace = vm.metadata.namespace ?? "default";
  const { volumes, mounts, args } = mountsOf(t, namespace);
  const dataVolume = { apiVersion: "cdi.kubevirt.io/v1beta1", kind: "DataVolume", metadata: { name: t.metadata.name, namespace }, spec: t.spec };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: importerPodName(t.metadata.name),
      namespace,
      labels: { [importerLabel.key]: importerLabel.value, "app.kubernetes.io/component": "storage" },
      annotations: { [dataVolumeAnnotation]: JSON.stringify(dataVolume), "kubectl.kubernetes.io/default-container": importerContainerName },
      ownerReferences: [controllerRef({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: pvc.metadata?.name, uid: pvc.metadata?.uid } })],
    },
    spec: {
      restartPolicy: "OnFailure",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 30,
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      ...(t.spec.priorityClassName !== undefined ? { priorityClassName: t.spec.priorityClassName } : {}),
      containers: [{
        name: importerContainerName,
        image: opts.image,
        imagePullPolicy: opts.imagePullPolicy ?? "IfNotPresent",
        command: [
          opts.command ?? "bunvirt", "import",
          "--data-volume-json", `${dataVolumeDir}/${dataVolumeFile}`,
          ...args,
          "--cache-dir", cacheDir,
          ...(opts.registry !== undefined ? ["--registry", opts.registry] : []),
          ...(opts.insecureRegistries ?? []).flatMap((r) => ["--insecure-registry", r]),
        ],
        // The importer writes its outcome there; a usage error it does not: then the log's tail.
        terminationMessagePolicy: "FallbackToLogsOnError",
        resources: { requests: { cpu: "100m", memory: "256Mi" } },
        securityContext: {
          privileged: false,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsUser: 0,
          runAsNonRoot: false,
          capabilities: { drop: ["ALL"] },
        },
        volumeMounts: [
          { name: "data-volume", mountPath: dataVolumeDir, readOnly: true },
          { name: "import-cache", mountPath: cacheDir },
          { name: "tmp", mountPath: "/tmp" },
          ...mounts,
        ],
      }],
      volumes: [
        { name: "data-volume", downwardAPI: { items: [{ path: dataVolumeFile, fieldRef: { fieldPath: `metadata.annotations['${dataVolumeAnnotation}']` } }] } },
        { name: "import-cache", emptyDir: {} },
        { name: "tmp", emptyDir: {} },
        ...volumes,
      ],
    },
  };
}
