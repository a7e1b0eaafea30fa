/**
 * Test certificates made with the openssl command (a test helper: bunvirt
 * itself makes its certificates in process, webhook-certs.ts): a CA and
 * client certificates (extendedKeyUsage clientAuth) it signs, as PEM strings.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  certPem: string;
  keyPem: string;
}

export interface TestCert {
  certPem: string;
  keyPem: string;
}

function openssl(dir: string, args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

function inTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-pki-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export function makeTestCa(cn = "bunvirt-test-ca"): TestCa {
  return inTempDir((dir) => {
    openssl(dir, ["req", "-x509", ...ecKey, "-keyout", "ca.key", "-out", "ca.crt", "-subj", `/CN=${cn}`, "-days", "2"]);
    return { certPem: readFileSync(join(dir, "ca.crt"), "utf8"), keyPem: readFileSync(join(dir, "ca.key"), "utf8") };
  });
}

/** A client certificate for `cn` (an O= for each of `groups`: a user's groups for an API server), signed by `ca`. */
export function makeTestClientCert(ca: TestCa, cn: string, groups: string[] = []): TestCert {
  return inTempDir((dir) => {
    writeFileSync(join(dir, "ca.crt"), ca.certPem);
    writeFileSync(join(dir, "ca.key"), ca.keyPem);
    writeFileSync(join(dir, "ext"), "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n");
    openssl(dir, ["req", ...ecKey, "-keyout", "c.key", "-out", "c.csr", "-subj", `${groups.map((g) => `/O=${g}`).join("")}/CN=${cn}`]);
    openssl(dir, ["x509", "-req", "-in", "c.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "c.crt", "-days", "2", "-extfile", "ext"]);
    return { certPem: readFileSync(join(dir, "c.crt"), "utf8"), keyPem: readFileSync(join(dir, "c.key"), "utf8") };
  });
}
