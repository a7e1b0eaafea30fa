/**
 * A local HTTPS server standing in for the API server in the client
 * commands' unit tests (src/cli/virt): it records requests and answers as
 * the test says, and writes kubeconfigs that point at it. The real path
 * (kube-apiserver → aggregator → controller) is proven by the cluster tier
 * (tests/cluster/subresources.test.ts).
 */
import { makeTestCa, makeTestClientCert } from "./test-pki.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server, WebSocketHandler } from "bun";
import { makeServingCert, makeWebhookCa } from "../../src/roles/controller/webhook-certs.ts";

export interface StandIn {
  server: Server<unknown>;
  url: string;
  caPem: string;
  dir: string;
  /** A kubeconfig for this server with the given user lines (e.g. "token: t"), context namespace `namespace`. */
  kubeconfig(userLines: string[], namespace?: string): string;
  stop(): Promise<void>;
}

export interface StandInOptions {
  fetch(req: Request, server: Server<unknown>): Response | undefined | Promise<Response | undefined>;
  websocket?: WebSocketHandler<unknown>;
  /** When given: client certificates are required and must be signed by this CA. */
  clientCaPem?: string;
}

export async function startStandIn(opts: StandInOptions): Promise<StandIn> {
  const ca = await makeWebhookCa();
  const serving = await makeServingCert(ca, { dnsNames: ["localhost"], ips: ["127.0.0.1"] });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: {
      cert: serving.certPem,
      key: serving.keyPem,
      ...(opts.clientCaPem !== undefined ? { ca: opts.clientCaPem, requestCert: true, rejectUnauthorized: true } : {}),
    },
    fetch: opts.fetch as never,
    websocket: opts.websocket ?? { message() {} },
  });
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-virt-"));
  writeFileSync(join(dir, "ca.crt"), ca.certPem);
  const url = `https://127.0.0.1:${server.port}`;
  let n = 0;
  return {
    server: server as Server<unknown>,
    url,
    caPem: ca.certPem,
    dir,
    kubeconfig(userLines, namespace) {
      const file = join(dir, `kubeconfig-${++n}`);
      writeFileSync(file, [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: c",
        "  cluster:",
        `    server: ${url}`,
        `    certificate-authority: ${join(dir, "ca.crt")}`,
        "users:",
        "- name: u",
        "  user:",
        ...userLines.map((l) => `    ${l}`),
        "contexts:",
        "- name: x",
        "  context:",
        "    cluster: c",
        "    user: u",
        ...(namespace !== undefined ? [`    namespace: ${namespace}`] : []),
        "current-context: x",
        "",
      ].join("\n"));
      return file;
    },
    stop: () => server.stop(true),
  };
}

/** A KubeVirt-style Status body. */
export function status(code: number, reason: string, message: string): Response {
  return Response.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code }, { status: code });
}

/** A client CA and a client certificate (CN `cn`, clientAuth) written to `dir`, as a cluster's user certificates are. */
export async function makeClientCert(dir: string, cn: string): Promise<{ caPem: string; certFile: string; keyFile: string }> {
  const ca = makeTestCa("client-ca");
  const { certPem, keyPem } = makeTestClientCert(ca, cn);
  const certFile = `${dir}/${cn}.crt`;
  const keyFile = `${dir}/${cn}.key`;
  await Bun.write(certFile, certPem);
  await Bun.write(keyFile, keyPem);
  return { caPem: ca.certPem, certFile, keyFile };
}
