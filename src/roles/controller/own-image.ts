/**
 * The launcher image when --launcher-image is not given and the controller
 * runs in a pod (POD_NAME, POD_NAMESPACE from the downward API): its own
 * container's image and pull policy, so one image ref in the deployment
 * serves all three roles. Outside a pod the default stays (index.ts).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeRest } from "../../kube/rest.ts";

export interface OwnImage {
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
}

interface PodLike {
  spec?: { containers?: { name?: string; image?: string; imagePullPolicy?: string; args?: string[]; command?: string[] }[] };
}

/** The controller's container in its Pod: the only one, else the one started with `--role controller`. */
export function ownImageOf(pod: PodLike, podName: string): OwnImage {
  const containers = pod.spec?.containers ?? [];
  const runsController = (c: (typeof containers)[number]): boolean => {
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    return argv.some((a, i) => (a === "--role" && argv[i + 1] === "controller") || a === "--role=controller");
  };
  const mine = containers.length === 1 ? containers[0] : containers.find(runsController);
  if (mine?.image === undefined) {
    throw new Error(`Cannot find the controller's image in its pod "${podName}": ${containers.length} containers, none started with --role controller`);
  }
  const policy = mine.imagePullPolicy;
  return {
    image: mine.image,
    ...(policy === "Always" || policy === "IfNotPresent" || policy === "Never" ? { imagePullPolicy: policy } : {}),
  };
}

/** Reads the controller's own Pod (RBAC: get pods in its namespace). */
export async function readOwnImage(kc: KubeConfig, namespace: string, podName: string): Promise<OwnImage> {
  const pod = await new KubeRest(kc).get<PodLike>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}`);
  return ownImageOf(pod, podName);
}
