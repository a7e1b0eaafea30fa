/**
 * Where the APIService sends the API server: --subresource-service
 * NAMESPACE/NAME:PORT, or else --webhook-service's Service on port 8444 (the
 * deployment's Service `bunvirt-controller` has both ports), or none (the
 * replica serves, the leader registers no APIService).
 */
import { UsageError } from "../../../cli/usage.ts";
import { parseWebhookService } from "../webhook-target.ts";
import type { ServiceRef } from "./registration.ts";

/** The deployment's subresource port (container port `subresources`). */
export const defaultSubresourcePort = 8444;

export function subresourceService(flag: string | boolean | undefined, webhookService: string | undefined): ServiceRef | undefined {
  if (flag !== undefined) {
    try {
      const t = parseWebhookService(String(flag));
      if ("service" in t) return t.service;
    } catch {
      // Reported below with this flag's name.
    }
    throw new UsageError(`--subresource-service "${String(flag)}" is not NAMESPACE/NAME:PORT (a Service's namespace and name, a port 1-65535)`);
  }
  if (webhookService === undefined) return undefined;
  const t = parseWebhookService(webhookService);
  return "service" in t ? { ...t.service, port: defaultSubresourcePort } : undefined;
}
