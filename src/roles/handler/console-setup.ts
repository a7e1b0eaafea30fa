/**
 * The handler's console server as the role runs it (`--console-addr`): a
 * certificate made at start (its SHA-256 is what the controller pins), the
 * address advertised on the Node (`--console-advertise`, else $POD_IP, else
 * the listen host), and the controller's CA read from ConfigMap `bunvirt-ca`
 * in the handler's namespace: every 2 s until it is there (a handler often
 * starts before the controller's leader has published it), every 30 s after,
 * and at once when a controller's connection is refused (the CA may have been
 * replaced). Until it exists, and when it is deleted, every connection is
 * refused.
 */
import { isIPv4, isIP } from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";
import { UsageError } from "../../cli/usage.ts";
import { parseHostPort } from "../../health/listen.ts";
import { isNotFound, KubeError, KubeRest } from "../../kube/rest.ts";
import type { Logger } from "../../log/logger.ts";
import { makeWebhookCerts } from "../controller/webhook-certs.ts";
import {
  certificateSha256,
  consoleAnnotation,
  consoleCaConfigMap,
  consoleCaConfigMapKey,
  formatConsoleAnnotation,
  type ConsoleRequest,
} from "./console-protocol.ts";
import { ConsoleServer, type ConsoleLookup } from "./console-server.ts";

export const consoleCaPollMs = 30_000;
/** How often the CA is read while there is none, and the least time between two reads. */
export const consoleCaRetryMs = 2_000;

/** When to read the CA next: soon while there is none, else at the slow pace. */
export function nextCaReadMs(haveCa: boolean): number {
  return haveCa ? consoleCaPollMs : consoleCaRetryMs;
}
const maxCaBytes = 64 * 1024;

export interface ConsoleSetupOptions {
  addr: string;
  advertise?: string;
  namespace: string;
  lookup(request: ConsoleRequest): ConsoleLookup;
  log: Logger;
}

export interface ConsoleSetup {
  server: ConsoleServer;
  /** The Node annotation's key and value. */
  annotations: Record<string, string>;
  /** Starts reading the controller's CA through the API server. */
  watchCa(kc: KubeConfig): void;
  stop(): Promise<void>;
}

/** The address the controller dials: --console-advertise, else $POD_IP, else the listen host unless it is unspecified. */
export function consoleAdvertiseHost(listenHost: string, advertise: string | undefined, podIp: string | undefined): string {
  if (advertise !== undefined && advertise !== "") {
    if (isIP(advertise) === 0) throw new UsageError(`--console-advertise "${advertise}" is not an IP address`);
    return advertise;
  }
  if (podIp !== undefined && isIP(podIp) !== 0) return podIp;
  if (isIP(listenHost) === 0 || listenHost === "0.0.0.0" || listenHost === "::") {
    throw new UsageError(`--console-addr listens on "${listenHost}", which the controller cannot dial: give --console-advertise IP (or $POD_IP)`);
  }
  return listenHost;
}

function pemDer(pem: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (m === null) throw new Error("no PEM certificate");
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
}

/** The CA from the ConfigMap's data; an error names the key and the rule. */
export function caFromConfigMap(cm: { data?: Record<string, string> }): string {
  const pem = cm.data?.[consoleCaConfigMapKey];
  const where = `ConfigMap ${consoleCaConfigMap} key ${consoleCaConfigMapKey}`;
  if (typeof pem !== "string") throw new Error(`${where}: missing`);
  if (pem.length > maxCaBytes) throw new Error(`${where}: more than ${maxCaBytes} bytes`);
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${where}: not a PEM certificate`);
  if (pem.includes("PRIVATE KEY")) throw new Error(`${where}: holds a private key; only the CA certificate belongs there`);
  return pem;
}

export async function startConsoleServer(opts: ConsoleSetupOptions): Promise<ConsoleSetup> {
  let listen: { hostname: string; port: number };
  try {
    listen = parseHostPort(opts.addr);
  } catch (e) {
    throw new UsageError(`--console-addr: ${(e as Error).message}`);
  }
  const host = consoleAdvertiseHost(listen.hostname, opts.advertise, process.env.POD_IP);
  const certs = await makeWebhookCerts({ dnsNames: ["bunvirt-handler"], ips: isIPv4(host) ? [host] : [] });
  const sha256 = certificateSha256(pemDer(certs.certPem));
  let readNow: () => void = () => undefined;
  const server = new ConsoleServer({
    host: listen.hostname, port: listen.port, certPem: certs.certPem, keyPem: certs.keyPem, lookup: opts.lookup, log: opts.log,
    onRefused: () => readNow(),
  });
  const port = await server.listen();
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  opts.log(`console server on ${listen.hostname}:${port}, advertised as ${address} (certificate sha256 ${sha256})`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let reading = false;
  let lastRead = 0;
  let lastProblem = "";
  return {
    server,
    annotations: { [consoleAnnotation]: formatConsoleAnnotation({ address, sha256 }) },
    watchCa(kc) {
      if (timer !== undefined || reading) return;
      const rest = new KubeRest(kc);
      const path = `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/configmaps/${consoleCaConfigMap}`;
      const read = async (): Promise<void> => {
        clearTimeout(timer);
        timer = undefined;
        reading = true;
        lastRead = Date.now();
        let problem = "";
        try {
          const pem = caFromConfigMap(await rest.get<{ data?: Record<string, string> }>(path));
          if (pem !== server.clientCaPem) opts.log(`console: the controller's CA read from ConfigMap ${opts.namespace}/${consoleCaConfigMap}`);
          server.setClientCa(pem);
        } catch (e) {
          problem = (e as Error).message;
          // Gone or broken: nobody passes. A failed read keeps what was read before.
          if (isNotFound(e) || !(e instanceof KubeError)) server.setClientCa(undefined);
        }
        reading = false;
        if (problem !== "" && problem !== lastProblem) opts.log.warn(`console: no controller CA: ${problem}`);
        lastProblem = problem;
        if (!stopped) timer = setTimeout(() => void read(), nextCaReadMs(server.clientCaPem !== undefined));
      };
      // A refused controller: read again now (at most every 2 s), so a CA published or replaced a moment ago is in force for its retry.
      readNow = () => {
        if (stopped || reading || Date.now() - lastRead < consoleCaRetryMs) return;
        void read();
      };
      void read();
    },
        async stop() {
      stopped = true;
      clearTimeout(timer);
      await server.stop();
    },
  };
}
