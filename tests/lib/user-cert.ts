/**
 * A cluster user for a test: a client certificate CN=NAME (O=GROUP for each
 * group) signed by the test cluster's CA (scripts/cluster/pki.sh's ca.key,
 * so the API server takes it as user NAME), and a kubeconfig with it that
 * reaches the same API server as the admin kubeconfig.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { makeTestClientCert } from "./test-pki.ts";

export interface UserCert {
  cert: string;
  key: string;
  kubeconfig: string;
}

export function makeUserCert(pki: string, dir: string, name: string, adminKubeconfig: string, groups: string[] = []): UserCert {
  if (!/^[a-z0-9][a-z0-9.-]{0,62}$/.test(name)) throw new Error(`Cannot make a user "${name}": a lowercase DNS-like name is expected`);
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const ca = { certPem: readFileSync(join(pki, "ca.crt"), "utf8"), keyPem: readFileSync(join(pki, "ca.key"), "utf8") };
  const made = makeTestClientCert(ca, name, groups);
  writeFileSync(key, made.keyPem, { mode: 0o600 });
  writeFileSync(cert, made.certPem);
  const admin = parse(readFileSync(adminKubeconfig, "utf8")) as { clusters: { cluster: Record<string, string> }[] };
  const kubeconfig = join(dir, `${name}.kubeconfig`);
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: "v1", kind: "Config",
    clusters: [{ name: "c", cluster: admin.clusters[0]!.cluster }],
    users: [{ name, user: { "client-certificate": cert, "client-key": key } }],
    contexts: [{ name, context: { cluster: "c", user: name, namespace: "default" } }],
    "current-context": name,
  }));
  return { cert, key, kubeconfig };
}
