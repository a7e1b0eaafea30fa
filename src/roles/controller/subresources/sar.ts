/**
 * Authorization of one subresource request: a SubjectAccessReview
 * (authorization.k8s.io/v1) for the user the API server speaks for, on the
 * subresource's own group (subresources.kubevirt.io), as the API server
 * itself checks it; a denial is the API server's 403 wording.
 */
import type { KubeRest } from "../../../kube/rest.ts";
import type { RemoteUser } from "./request-header.ts";
import { forbidden } from "./status.ts";

export const subresourceGroup = "subresources.kubevirt.io";

export interface SubresourceAttributes {
  verb: "get" | "update";
  resource: "virtualmachines" | "virtualmachineinstances";
  subresource: string;
  namespace: string;
  name: string;
}

interface SarStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** The review's body. */
export function subjectAccessReview(user: RemoteUser, a: SubresourceAttributes): object {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: user.user,
      groups: user.groups,
      extra: user.extra,
      ...(user.uid !== undefined ? { uid: user.uid } : {}),
      resourceAttributes: { group: subresourceGroup, version: "v1", resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name, verb: a.verb },
    },
  };
}

/** Resolves when allowed; throws the 403 StatusError when not. */
export async function authorize(rest: Pick<KubeRest, "create">, user: RemoteUser, a: SubresourceAttributes): Promise<void> {
  const review = await rest.create<SarStatus>("/apis/authorization.k8s.io/v1/subjectaccessreviews", subjectAccessReview(user, a));
  if (review.status?.allowed === true) return;
  throw forbidden({ user: user.user, verb: a.verb, group: subresourceGroup, resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name, ...(review.status?.reason !== undefined ? { reason: review.status.reason } : {}) });
}
