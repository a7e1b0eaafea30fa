/**
 * The webhook configurations have two writers: `kubectl apply -k` (the
 * static copy in deploy/kustomize/base/webhooks.yaml, no caBundle) and the
 * controller's leader (server-side apply with the caBundle and a match
 * condition naming its own user, plus the CRD's conversion caBundle). On a
 * real kube-apiserver: the leader's apply after `kubectl apply -k`, a later
 * re-apply (client-side, and server-side of the webhooks) and the leader's next apply leave
 * the caBundle and the leader's condition in place and raise no conflict;
 * `kubectl delete -k` removes the configurations.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadKubeConfig } from "../../src/kube/cluster.ts";
import { registerWebhooks, webhookNames } from "../../src/roles/controller/webhook-server.ts";
import { deployedWebhookService } from "../../src/roles/controller/webhook-target.ts";
import { makeWebhookCa } from "../../src/roles/controller/webhook-certs.ts";
import { repoRoot } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("control-plane webhooks apply");
const base = join(repoRoot, "deploy/kustomize/base");

interface Hook { name: string; clientConfig: { caBundle?: string; service?: { name: string; namespace: string; path: string } }; matchConditions?: { name: string }[] }

describe.skipIf(skip !== null)("webhook configurations: kubectl apply -k and the leader's apply", () => {
  let cp: ControlPlane;
  let caPem = "";
  beforeAll(async () => {
    cp = await startControlPlane();
    caPem = (await makeWebhookCa()).certPem;
  }, 180_000);
  afterAll(async () => {
    await cp?.stop();
  });

  async function hooks(): Promise<Hook[]> {
    const out: Hook[] = [];
    for (const [kind, name] of [["validatingwebhookconfiguration", webhookNames.validating], ["mutatingwebhookconfiguration", webhookNames.mutating]] as const) {
      out.push(...(JSON.parse(await cp.kubectlOk(["get", kind, name, "-o", "json"])) as { webhooks: Hook[] }).webhooks);
    }
    return out;
  }
  const conversionCa = async (): Promise<string | undefined> =>
    (JSON.parse(await cp.kubectlOk(["get", "crd", "virtualmachines.kubevirt.io", "-o", "json"])) as { spec: { conversion: { webhook: { clientConfig: { caBundle?: string } } } } })
      .spec.conversion.webhook.clientConfig.caBundle;
  const leaderApplies = (): Promise<void> => registerWebhooks(loadKubeConfig({ kubeconfig: cp.adminKubeconfig }), deployedWebhookService, caPem);
  const ca64 = (): string => Buffer.from(caPem).toString("base64");

  test("apply -k, the leader's apply, re-applies: the caBundle stays, nothing conflicts", async () => {
    await cp.kubectlOk(["apply", "-k", base]);
    const applied = await hooks();
    expect(applied).toHaveLength(5);
    for (const h of applied) {
      expect(h.clientConfig.caBundle).toBeUndefined();
      expect(h.clientConfig.service).toMatchObject({ namespace: "bunvirt", name: "bunvirt-controller" });
    }

    await leaderApplies();
    const led = await hooks();
    for (const h of led) expect(h.clientConfig.caBundle).toBe(ca64());
    const ownCondition = (hs: Hook[]): string[] => hs.filter((h) => h.matchConditions?.some((m) => m.name === "not-the-controllers-own-create")).map((h) => h.name);
    expect(ownCondition(led).sort()).toEqual(["virtualmachineinstances.mutate.bunvirt.io", "virtualmachineinstances.validate.bunvirt.io"]);
    expect(await conversionCa()).toBe(ca64());

    // A user re-applies the deployment (an upgrade, a changed overlay): client-side, then server-side.
    await cp.kubectlOk(["apply", "-k", base]);
    for (const h of await hooks()) expect(h.clientConfig.caBundle).toBe(ca64());
    expect(ownCondition(await hooks())).toHaveLength(2);
    expect(await conversionCa()).toBe(ca64());
    // (Server-side on the webhooks alone: a switch of the whole deployment from client-side to server-side apply conflicts on defaulted fields of other objects.)
    await cp.kubectlOk(["apply", "--server-side", "-f", join(base, "webhooks.yaml")]);
    for (const h of await hooks()) expect(h.clientConfig.caBundle).toBe(ca64());
    expect(ownCondition(await hooks())).toHaveLength(2);
    expect(await conversionCa()).toBe(ca64());

    // The next leader (a new CA in a fresh install, or the same one) applies again without a conflict.
    await leaderApplies();
    for (const h of await hooks()) expect(h.clientConfig.caBundle).toBe(ca64());
  }, 120_000);

  test("kubectl delete -k removes the webhook configurations and the CRDs", async () => {
    // Not waiting: without kube-controller-manager the namespace stays Terminating.
    await cp.kubectlOk(["delete", "-k", base, "--wait=false"]);
    await Bun.sleep(2000);
    const left = await cp.kubectl(["get", "validatingwebhookconfigurations,mutatingwebhookconfigurations,crd", "-o", "name"]);
    expect(left.stdout).not.toContain("bunvirt");
    expect(left.stdout).not.toContain("kubevirt.io");
  }, 120_000);
});
