/**
 * The controller's webhooks over TLS and their registration with the API
 * server: the routes of webhook-app.ts served on --webhook-addr with a
 * certificate made at start and renewed every week (it is valid for a
 * year), signed by the replicas' CA (webhook-certs.ts, webhook-ca.ts), and,
 * written by the leader (webhook-replica.ts), the
 * ValidatingWebhookConfiguration (VMs, VMIs, instancetypes and preferences), the
 * MutatingWebhookConfiguration (KubeVirt's defaults) — both failurePolicy
 * Fail, matchPolicy Equivalent so v1alpha1 objects reach them converted to
 * v1 — and the VirtualMachine CRD's conversion webhook, each with the CA as
 * caBundle. The controller's own VMI creates skip the VMI webhooks
 * (notOwnCreate). The API server reaches them at --webhook-url (https://HOST:PORT
 * for the control-plane tier) or through --webhook-service (a deployment's
 * Service; webhook-target.ts). deploy/kustomize/base/webhooks.yaml is the
 * same configurations without a caBundle (scripts/gen-crds.ts), so
 * `kubectl delete -k` removes them.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeRest } from "../../kube/rest.ts";
import { parseHostPort } from "../../health/listen.ts";
import { webhookApp, type WebhookOptions } from "./webhook-app.ts";
import { fetchFound } from "./instancetype/fetch-found.ts";
import { instancetypeResources } from "./instancetype/resources.ts";
import { instancetypeGroup, instancetypeVersion } from "../../api/instancetype/instancetype.ts";
import { makeServingCert, servingRenewMs, type WebhookCa, type WebhookCerts } from "./webhook-certs.ts";
import { clientConfig, type WebhookTarget } from "./webhook-target.ts";

export const webhookNames = { validating: "bunvirt-validator", mutating: "bunvirt-mutator" } as const;
export const fieldManager = "bunvirt-controller";
const vmCrd = "virtualmachines.kubevirt.io";

export interface WebhookServer {
  /** The address bound (port 0 resolved). */
  address: string;
  /** The serving certificate in use (the latest renewal). */
  readonly certs: WebhookCerts;
  /** A new serving certificate now: a listener with it takes the port beside the old one (SO_REUSEPORT), then the old one ends after its requests. */
  renew(): Promise<void>;
  stop(): Promise<void>;
}

export interface RenewOptions {
  /** Default servingRenewMs. */
  everyMs?: number;
  /** Told of each renewal (an Error when it failed: the certificate in use stays). */
  onRenew?: (result: Error | WebhookCerts) => void;
}

/**
 * Serves the webhook routes over TLS on `addr`; the certificate, signed by `ca`, covers `hosts` (IPv4 addresses or DNS names).
 * `kc`: the cluster the instancetypes and preferences a VM names are read from;
 * `appOptions`: the cluster's admission settings (hostDisk directories).
 */
export async function serveWebhooks(addr: string, hosts: string[], ca: WebhookCa, kc?: KubeConfig, appOptions: Omit<WebhookOptions, "fetchFound"> = {}, renewal: RenewOptions = {}): Promise<WebhookServer> {
  const { hostname, port } = parseHostPort(addr);
  const ips = hosts.filter((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h));
  const dnsNames = hosts.filter((h) => !ips.includes(h));
  let certs = await makeServingCert(ca, { dnsNames, ips });
  const rest = kc === undefined ? undefined : new KubeRest(kc);
  const app = webhookApp(rest === undefined ? appOptions : { ...appOptions, fetchFound: (vm) => fetchFound(rest, vm) });
  const listen = (c: WebhookCerts, on: number): ReturnType<typeof Bun.serve> =>
    Bun.serve({ hostname, port: on, reusePort: true, tls: { cert: c.certPem, key: c.keyPem }, fetch: app.fetch, maxRequestBodySize: 80 * 1024 * 1024 });
  let server = listen(certs, port);
  const bound = server.port ?? port;
  let renewing: Promise<void> = Promise.resolve();
  let stopped = false;
  const renew = (): Promise<void> => (renewing = renewing.then(async () => {
    if (stopped) return;
    const next = await makeServingCert(ca, { dnsNames, ips });
    const fresh = listen(next, bound);
    const old = server;
    server = fresh;
    certs = next;
    await old.stop();
  }));
  const timer = setInterval(() => {
    renew().then(() => renewal.onRenew?.(certs), (e: unknown) => renewal.onRenew?.(e as Error));
  }, renewal.everyMs ?? servingRenewMs);
  timer.unref();
  return {
    address: `${hostname}:${bound}`,
    get certs() {
      return certs;
    },
    renew,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await renewing.catch(() => undefined);
      await server.stop(true);
    },
  };
}

const rule = (resource: string): object => ({
  apiGroups: ["kubevirt.io"],
  apiVersions: ["v1"],
  operations: ["CREATE", "UPDATE"],
  resources: [resource],
  scope: "Namespaced",
});

/** The four instancetype.kubevirt.io kinds, namespaced and cluster-wide: checked by `validate` as `bunvirt validate` does. */
const instancetypeRule = {
  apiGroups: [instancetypeGroup],
  apiVersions: [instancetypeVersion],
  operations: ["CREATE", "UPDATE"],
  resources: Object.values(instancetypeResources).map((r) => r.plural),
  scope: "*",
};

/**
 * The VMIs the controller creates from a VM skip the VMI webhooks: the VM
 * they come from was checked by the VM webhooks, and the controller builds
 * them defaulted (vmi-from-vm.ts) and validates them itself before the
 * create — the same checks without two calls through the API server per
 * start. Only a create by the controller's user of a VMI a VM controls
 * skips them; a VMI anyone creates on its own goes through them. So does
 * the controller's update of a VMI's terminationGracePeriodSeconds alone (a
 * stop or force restart with a grace period through the subresource API,
 * as KubeVirt's virt-api patches it); any other spec change is refused.
 */
const graceOnly = "request.operation == 'UPDATE' && "
  + "object.spec.all(k, k == 'terminationGracePeriodSeconds' || (k in oldObject.spec && object.spec[k] == oldObject.spec[k])) && "
  + "oldObject.spec.all(k, k == 'terminationGracePeriodSeconds' || k in object.spec)";
const notOwnCreate = (user: string): object => ({
  name: "not-the-controllers-own-create",
  expression: `!(request.userInfo.username == ${JSON.stringify(user)} && ((request.operation == 'CREATE' && has(object.metadata.ownerReferences) && `
    + `object.metadata.ownerReferences.exists(r, r.kind == 'VirtualMachine' && has(r.controller) && r.controller)) || (${graceOnly})))`,
});

function webhook(name: string, config: object, resource: string | object, ownUser?: string): object {
  return {
    name,
    clientConfig: config,
    rules: [typeof resource === "string" ? rule(resource) : resource],
    failurePolicy: "Fail",
    matchPolicy: "Equivalent",
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: 10,
    // An update that leaves the spec alone (finalizers, labels, the controller's own writes) has nothing to check or default.
    matchConditions: [
      { name: "create-or-spec-changed", expression: "request.operation != 'UPDATE' || object.spec != oldObject.spec" },
      ...(ownUser !== undefined ? [notOwnCreate(ownUser)] : []),
    ],
  };
}

/**
 * The two admission configurations, as server-side apply bodies; without
 * `caPem` no caBundle (the static copy in the deployment); `controllerUser`
 * (the controller's own user name) skips the VMI webhooks for its creates.
 */
export function webhookConfigurations(target: WebhookTarget, caPem?: string, controllerUser?: string): { validating: object; mutating: object } {
  const ca = caPem === undefined ? undefined : Buffer.from(caPem).toString("base64");
  const validate = clientConfig(target, "/admission/validate", ca);
  const mutate = clientConfig(target, "/admission/mutate", ca);
  const labels = { "app.kubernetes.io/part-of": "bunvirt" };
  return {
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: webhookNames.validating, labels },
      webhooks: [
        webhook("virtualmachines.validate.bunvirt.io", validate, "virtualmachines"),
        webhook("virtualmachineinstances.validate.bunvirt.io", validate, "virtualmachineinstances", controllerUser),
        webhook("instancetypes.validate.bunvirt.io", validate, instancetypeRule),
      ],
    },
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: webhookNames.mutating, labels },
      webhooks: [
        { ...webhook("virtualmachines.mutate.bunvirt.io", mutate, "virtualmachines"), reinvocationPolicy: "Never" },
        { ...webhook("virtualmachineinstances.mutate.bunvirt.io", mutate, "virtualmachineinstances", controllerUser), reinvocationPolicy: "Never" },
      ],
    },
  };
}

/** The merge patch pointing the VM CRD's conversion at our webhook (a URL replaces the generated Service reference). */
export function conversionPatch(target: WebhookTarget, caPem: string): object {
  const config = clientConfig(target, "/conversion", Buffer.from(caPem).toString("base64"));
  return {
    spec: {
      conversion: {
        strategy: "Webhook",
        webhook: {
          conversionReviewVersions: ["v1"],
          clientConfig: "url" in config ? { ...config, service: null } : { ...config, url: null },
        },
      },
    },
  };
}

/** Writes the configurations and the CRD's conversion stanza with our CA. */
export async function registerWebhooks(kc: KubeConfig, target: WebhookTarget, caPem: string): Promise<void> {
  const rest = new KubeRest(kc);
  // Who the controller is to the API server (SelfSubjectReview, GA in 1.28).
  const review = await rest.create<{ status?: { userInfo?: { username?: string } } }>("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
    apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview",
  });
  const { validating, mutating } = webhookConfigurations(target, caPem, review.status?.userInfo?.username);
  const reg = "/apis/admissionregistration.k8s.io/v1";
  await rest.patch(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${vmCrd}`, "merge", conversionPatch(target, caPem));
  await rest.apply(`${reg}/mutatingwebhookconfigurations/${webhookNames.mutating}`, mutating, fieldManager);
  await rest.apply(`${reg}/validatingwebhookconfigurations/${webhookNames.validating}`, validating, fieldManager);
}
