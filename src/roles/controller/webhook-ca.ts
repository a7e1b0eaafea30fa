/**
 * One webhook CA for every controller replica: a Secret in the controller's
 * namespace holds it. A replica reads it; when it is missing, the replica
 * makes a CA and creates the Secret, and a replica that loses that race (409)
 * reads the winner's. Each replica then signs its own serving certificate
 * with it (webhook-certs.ts), so whichever replica the API server reaches,
 * the caBundle the leader wrote trusts it.
 */
import { isConflict, isNotFound, KubeRest, resourcePath } from "../../kube/rest.ts";
import { makeWebhookCa, type WebhookCa } from "./webhook-certs.ts";

export const webhookCaSecretName = "bunvirt-webhook-ca";
const secretResource = { group: "", version: "v1", plural: "secrets" } as const;
const certKey = "ca.crt";
const keyKey = "ca.key";

interface SecretView {
  data?: Record<string, string>;
}

/** The Secret that carries the CA. */
export function caSecret(namespace: string, ca: WebhookCa): object {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: webhookCaSecretName, namespace, labels: { "app.kubernetes.io/part-of": "bunvirt" } },
    type: "Opaque",
    data: { [certKey]: Buffer.from(ca.certPem).toString("base64"), [keyKey]: Buffer.from(ca.keyPem).toString("base64") },
  };
}

/** The CA a Secret carries; throws when a part is missing or not PEM. */
export function caFromSecret(namespace: string, secret: SecretView): WebhookCa {
  const part = (key: string, label: string): string => {
    const b64 = secret.data?.[key];
    const text = b64 === undefined ? "" : Buffer.from(b64, "base64").toString("utf8");
    if (!text.includes(`-----BEGIN ${label}-----`)) {
      throw new Error(`Cannot read the webhook CA from Secret "${namespace}/${webhookCaSecretName}": "${key}" is ${b64 === undefined ? "missing" : `not a PEM ${label}`}`);
    }
    return text;
  };
  return { certPem: part(certKey, "CERTIFICATE"), keyPem: part(keyKey, "PRIVATE KEY") };
}

/** What is used of the API server here. */
export type SecretRest = Pick<KubeRest, "get" | "create">;

/** The replicas' CA: read from the Secret, or made and stored by the first replica to get there. */
export async function sharedWebhookCa(rest: SecretRest, namespace: string, make: () => Promise<WebhookCa> = () => makeWebhookCa()): Promise<WebhookCa> {
  const path = resourcePath(secretResource, namespace, webhookCaSecretName);
  try {
    return caFromSecret(namespace, await rest.get<SecretView>(path));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const ca = await make();
  try {
    await rest.create(resourcePath(secretResource, namespace), caSecret(namespace, ca));
    return ca;
  } catch (e) {
    if (!isConflict(e)) throw e;
  }
  // Another replica created it first: use theirs.
  return caFromSecret(namespace, await rest.get<SecretView>(path));
}
