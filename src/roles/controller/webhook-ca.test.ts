import { describe, expect, test } from "bun:test";
import { KubeError } from "../../kube/rest.ts";
import { caFromSecret, caSecret, sharedWebhookCa, webhookCaSecretName, type SecretRest } from "./webhook-ca.ts";
import type { WebhookCa } from "./webhook-certs.ts";

const caA: WebhookCa = { certPem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", keyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" };
const caB: WebhookCa = { certPem: caA.certPem.replace("AAAA", "BBBB"), keyPem: caA.keyPem.replace("AAAA", "BBBB") };

/** An API server holding Secrets in memory; create answers 409 when the name is taken. */
function fakeApi(): SecretRest & { secrets: Map<string, unknown>; creates: number } {
  const secrets = new Map<string, unknown>();
  const api = {
    secrets,
    creates: 0,
    get: async <T>(path: string): Promise<T> => {
      await Bun.sleep(1);
      const s = secrets.get(path);
      if (s === undefined) throw new KubeError(`Cannot GET "${path}": 404 not found`, 404);
      return s as T;
    },
    create: async <T>(path: string, body: unknown): Promise<T> => {
      await Bun.sleep(1);
      api.creates++;
      const full = `${path}/${(body as { metadata: { name: string } }).metadata.name}`;
      if (secrets.has(full)) throw new KubeError(`Cannot POST "${path}": 409 exists`, 409);
      secrets.set(full, body);
      return body as T;
    },
  };
  return api;
}

describe("the replicas' shared CA", () => {
  test("the Secret round-trips the CA", () => {
    expect(caFromSecret("bunvirt", caSecret("bunvirt", caA) as { data: Record<string, string> })).toEqual(caA);
  });

  test("a Secret without the key or with something else is refused, naming it", () => {
    const s = caSecret("bunvirt", caA) as { data: Record<string, string> };
    expect(() => caFromSecret("bunvirt", { data: { "ca.crt": s.data["ca.crt"]! } })).toThrow(`Cannot read the webhook CA from Secret "bunvirt/${webhookCaSecretName}": "ca.key" is missing`);
    expect(() => caFromSecret("bunvirt", { data: { ...s.data, "ca.crt": Buffer.from("hello").toString("base64") } })).toThrow('"ca.crt" is not a PEM CERTIFICATE');
  });

  test("two replicas starting together end with one CA: the loser of the create reads the winner's", async () => {
    const api = fakeApi();
    const [a, b] = await Promise.all([sharedWebhookCa(api, "bunvirt", async () => caA), sharedWebhookCa(api, "bunvirt", async () => caB)]);
    expect(api.creates).toBe(2);
    expect(a).toEqual(b);
    expect(api.secrets.size).toBe(1);
    // A replica started later reads it and makes none.
    const c = await sharedWebhookCa(api, "bunvirt", async () => { throw new Error("made a CA"); });
    expect(c).toEqual(a);
    expect(api.creates).toBe(2);
  });

  test("an API server error other than not-found is not papered over with a new CA", async () => {
    const api: SecretRest = {
      get: async () => { throw new KubeError("Cannot GET: 403 forbidden", 403); },
      create: async () => { throw new Error("must not create"); },
    };
    await expect(sharedWebhookCa(api, "bunvirt", async () => caA)).rejects.toThrow("403 forbidden");
  });
});
