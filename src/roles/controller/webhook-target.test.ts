import { expect, test } from "bun:test";
import { UsageError } from "../../cli/usage.ts";
import { conversionPatch, webhookConfigurations } from "./webhook-server.ts";
import { clientConfig, parseWebhookService, parseWebhookUrl, targetHosts } from "./webhook-target.ts";

test("--webhook-service NAMESPACE/NAME:PORT", () => {
  expect(parseWebhookService("bunvirt/bunvirt-controller:443")).toEqual({ service: { namespace: "bunvirt", name: "bunvirt-controller", port: 443 } });
  for (const bad of ["bunvirt-controller:443", "bunvirt/bunvirt-controller", "a/b:0", "a/b:70000", "A/b:1", "a/b:x"]) {
    expect(() => parseWebhookService(bad)).toThrow(UsageError);
  }
  expect(() => parseWebhookUrl("http://h:1")).toThrow(/is not an https:\/\/ URL/);
});

test("the serving certificate names the Service as the API server dials it", () => {
  expect(targetHosts(parseWebhookService("ns/svc:443"))).toContain("svc.ns.svc");
  expect(targetHosts({ url: "https://10.0.0.1:9443" })).toEqual(["10.0.0.1"]);
});

test("clientConfig: a Service with the path, or a URL; caBundle only when known", () => {
  const svc = parseWebhookService("ns/svc:443");
  expect(clientConfig(svc, "/conversion")).toEqual({ service: { namespace: "ns", name: "svc", port: 443, path: "/conversion" } });
  expect(clientConfig({ url: "https://h:1/" }, "/admission/validate", "Q0E=")).toEqual({ url: "https://h:1/admission/validate", caBundle: "Q0E=" });
});

test("behind a Service every webhook and the CRD conversion point at it", () => {
  const svc = parseWebhookService("bunvirt/bunvirt-controller:443");
  const { validating, mutating } = webhookConfigurations(svc);
  const hooks = [validating, mutating].flatMap((c) => (c as { webhooks: { clientConfig: Record<string, unknown>; failurePolicy: string }[] }).webhooks);
  expect(hooks).toHaveLength(5);
  for (const h of hooks) {
    expect(h.clientConfig.caBundle).toBeUndefined();
    expect(h.clientConfig.url).toBeUndefined();
    expect((h.clientConfig.service as { name: string }).name).toBe("bunvirt-controller");
    expect(h.failurePolicy).toBe("Fail");
  }
  const patch = conversionPatch(svc, "PEM") as { spec: { conversion: { webhook: { clientConfig: Record<string, unknown> } } } };
  expect(patch.spec.conversion.webhook.clientConfig).toEqual({
    service: { namespace: "bunvirt", name: "bunvirt-controller", port: 443, path: "/conversion" }, caBundle: Buffer.from("PEM").toString("base64"), url: null,
  });
  const byUrl = conversionPatch({ url: "https://h:1" }, "PEM") as typeof patch;
  expect(byUrl.spec.conversion.webhook.clientConfig.service).toBeNull();
});
