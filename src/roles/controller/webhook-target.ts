/**
 * Where the API server reaches the webhooks: a URL (--webhook-url, the
 * control-plane tier: the API server outside any pod network) or a Service
 * (--webhook-service NAMESPACE/NAME:PORT, a deployment: the Service in front
 * of the controller replicas). Both end in the configurations' and the CRD's
 * clientConfig; the serving certificate names the host the API server dials.
 */
import { UsageError } from "../../cli/usage.ts";

export type WebhookTarget =
  | { url: string }
  | { service: { namespace: string; name: string; port: number } };

/** The Service every deployment uses (deploy/kustomize/base). */
export const deployedWebhookService: WebhookTarget = { service: { namespace: "bunvirt", name: "bunvirt-controller", port: 443 } };

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** --webhook-service NAMESPACE/NAME:PORT. */
export function parseWebhookService(value: string): WebhookTarget {
  const m = /^([^/]+)\/([^:]+):(\d+)$/.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !dnsLabel.test(m[1]!) || !dnsLabel.test(m[2]!) || !(port >= 1 && port <= 65535)) {
    throw new UsageError(`--webhook-service "${value}" is not NAMESPACE/NAME:PORT (a Service's namespace and name, a port 1-65535)`);
  }
  return { service: { namespace: m[1]!, name: m[2]!, port } };
}

/** --webhook-url https://HOST[:PORT][/PATH]. */
export function parseWebhookUrl(value: string): WebhookTarget {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    // Reported below.
  }
  if (u?.protocol !== "https:") throw new UsageError(`--webhook-url "${value}" is not an https:// URL`);
  return { url: value };
}

/** The host names the API server dials for this target (the serving certificate covers them). */
export function targetHosts(target: WebhookTarget): string[] {
  if ("url" in target) return [new URL(target.url).hostname];
  const { namespace, name } = target.service;
  return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`, `${name}.${namespace}`];
}

/** The clientConfig of one endpoint (`path` starts with "/"); caBundle only when given. */
export function clientConfig(target: WebhookTarget, path: string, caBundle?: string): Record<string, unknown> {
  const where = "url" in target
    ? { url: `${target.url.replace(/\/+$/, "")}${path}` }
    : { service: { ...target.service, path } };
  return caBundle === undefined ? where : { ...where, caBundle };
}

/** How the target reads in a log line. */
export function describeTarget(target: WebhookTarget): string {
  return "url" in target ? target.url : `Service ${target.service.namespace}/${target.service.name}:${target.service.port}`;
}
