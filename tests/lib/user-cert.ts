/**
 * A cluster user for a test: a client certificate CN=NAME (O=GROUP for each
 * group) signed by the test cluster's CA (scripts/cluster/pki.sh's ca.key,
 * so the API server takes it as user NAME), and a kubeconfig with it that
 * reaches the same API server as the admin kubeconfig.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export interface UserCert {
  cert: string;
  key: string;
  kubeconfig: string;
}

function openssl(args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`Cannot run "openssl ${args.join(" ")}": ${r.stderr.toString().trim()}`);
}

export function makeUserCert(pki: string, dir: string, name: string, adminKubeconfig: string, groups: string[] = []): UserCert {
  if (!/^[a-z0-9][a-z0-9.-]{0,62}$/.test(name)) throw new Error(`Cannot make a user "${name}": a lowercase DNS-like name is expected`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const cert = join(dir, `${name}.crt`);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  openssl(["req", "-new", "-key", key, "-subj", `${groups.map((g) => `/O=${g}`).join("")}/CN=${name}`, "-out", csr]);
  writeFileSync(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
  // -set_serial: no ca.srl written beside the cluster's CA.
  const serial = `0x${crypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "")}`;
  openssl(["x509", "-req", "-in", csr, "-CA", join(pki, "ca.crt"), "-CAkey", join(pki, "ca.key"), "-set_serial", serial, "-days", "1", "-sha256", "-extfile", ext, "-out", cert]);
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
