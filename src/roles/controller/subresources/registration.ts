/**
 * What the leader writes for the aggregated API: the APIService
 * v1.subresources.kubevirt.io pointing at the controller's Service with the
 * shared CA as caBundle (server-side apply; deploy/kustomize/base/apiservice.yaml
 * is the same without the caBundle), and ConfigMap bunvirt-ca with the CA's
 * certificate (public part only), which the handlers trust for the
 * controller's client certificate.
 */
import { isNotFound, type KubeRest } from "../../../kube/rest.ts";
import { consoleCaConfigMap, consoleCaConfigMapKey } from "../../handler/console-protocol.ts";
import { fieldManager } from "../webhook-server.ts";
import { subresourceGroup } from "./sar.ts";

export const apiServiceName = `v1.${subresourceGroup}`;

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

/** The APIService; without `caPem` no caBundle (the deployment's static copy). */
export function apiService(service: ServiceRef, caPem?: string): object {
  return {
    apiVersion: "apiregistration.k8s.io/v1",
    kind: "APIService",
    metadata: { name: apiServiceName, labels: { "app.kubernetes.io/part-of": "bunvirt" } },
    spec: {
      group: subresourceGroup,
      version: "v1",
      groupPriorityMinimum: 1000,
      versionPriority: 15,
      service: service,
      ...(caPem !== undefined ? { caBundle: Buffer.from(caPem).toString("base64") } : {}),
    },
  };
}

export async function registerApiService(rest: Pick<KubeRest, "apply">, service: ServiceRef, caPem: string): Promise<void> {
  await rest.apply(`/apis/apiregistration.k8s.io/v1/apiservices/${apiServiceName}`, apiService(service, caPem), fieldManager);
}

interface ConfigMapView {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

/** ConfigMap bunvirt-ca holds the CA certificate: created, or updated when it differs. */
export async function publishCa(rest: Pick<KubeRest, "get" | "create" | "request">, namespace: string, caPem: string): Promise<void> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  const body = (resourceVersion?: string): object => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: consoleCaConfigMap, namespace, labels: { "app.kubernetes.io/part-of": "bunvirt" }, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    data: { [consoleCaConfigMapKey]: caPem },
  });
  let current: ConfigMapView;
  try {
    current = await rest.get<ConfigMapView>(`${path}/${consoleCaConfigMap}`);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await rest.create(path, body());
    return;
  }
  if (current.data?.[consoleCaConfigMapKey] === caPem) return;
  await rest.request("PUT", `${path}/${consoleCaConfigMap}`, body(current.metadata?.resourceVersion));
}
