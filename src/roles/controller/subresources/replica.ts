/**
 * A controller replica's share of the aggregated API (--subresource-addr).
 * Once connected, every replica serves it: a serving certificate and a
 * client certificate (CN bunvirt-controller, for the handlers' consoles),
 * both signed by the replicas' shared CA (webhook-ca.ts), the front door
 * (front-door.ts) checking the API server's front-proxy certificate against
 * ConfigMap kube-system/extension-apiserver-authentication, re-read every
 * 30 s. The leader registers the APIService and publishes the CA
 * (registration.ts), once per term, retried until written.
 *
 * Readiness "subresources": false until this replica serves with the
 * front-proxy settings; while it leads, until its registration is written.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeRest } from "../../../kube/rest.ts";
import { retryUntil, type Retrying } from "../../../retry/retry-until.ts";
import type { RoleContext } from "../../role.ts";
import { sharedWebhookCa } from "../webhook-ca.ts";
import { makeClientCert, makeServingCert, servingRenewMs } from "../webhook-certs.ts";
import { consoleClientCommonName } from "../../handler/console-protocol.ts";
import type { FrontDoor } from "./front-door.ts";
import { dialHandlerOnceMore, handlerEndpoint } from "./handler-dial.ts";
import { innerApp } from "./inner-app.ts";
import { apiServiceName, publishCa, registerApiService, type ServiceRef } from "./registration.ts";
import { authConfigMap, requestHeaderConfig } from "./request-header.ts";

export interface SubresourceReplicaOptions {
  /** --subresource-addr: where the aggregated API listens. */
  addr: string;
  /** The Service the APIService points at (none: this replica serves, registers nothing). */
  service?: ServiceRef;
  /** Names the serving certificate covers. */
  hosts: string[];
  /** The controller's namespace (the CA's Secret, ConfigMap bunvirt-ca). */
  namespace: string;
  /** How often the front-proxy settings are read again. */
  configPollMs?: number;
  /** How often the serving and console client certificates are renewed. Default servingRenewMs (a week). */
  renewMs?: number;
}

export class SubresourceReplica {
  readonly #ctx: Pick<RoleContext, "log" | "readiness" | "exit">;
  readonly #opts: SubresourceReplicaOptions;
  #door: FrontDoor | undefined;
  #caPem: string | undefined;
  #serving: Retrying | undefined;
  #registering: Retrying | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #renew: ReturnType<typeof setInterval> | undefined;
  #configText = "";
  #leading = false;
  #registered = false;
  #stopped = false;
  #served!: () => void;
  readonly #whenServed = new Promise<void>((resolve) => (this.#served = resolve));

  constructor(ctx: Pick<RoleContext, "log" | "readiness" | "exit">, opts: SubresourceReplicaOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
    ctx.readiness.fail("subresources", "not serving yet");
  }

  /** The address bound, once serving. */
  get address(): string | undefined {
    return this.#door?.address;
  }

  connect(kc: KubeConfig): void {
    if (this.#serving !== undefined) return;
    const rest = new KubeRest(kc);
    this.#serving = retryUntil(async (_, retrying) => {
      const ca = await sharedWebhookCa(rest, this.#opts.namespace);
      if (retrying.stopped || this.#stopped) return;
      const ips = this.#opts.hosts.filter((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h));
      const serving = await makeServingCert(ca, { dnsNames: this.#opts.hosts.filter((h) => !ips.includes(h)), ips });
      let client = await makeClientCert(ca, { commonName: consoleClientCommonName });
      const fetch = innerApp({
        rest,
        config: () => this.#door?.config(),
        dial: (vmi) => dialHandlerOnceMore(() => handlerEndpoint(rest, vmi.status?.nodeName ?? ""), client, vmi),
        log: this.#ctx.log,
      });
      try {
        this.#door = await (await import("./front-door.ts")).openFrontDoor({ addr: this.#opts.addr, certPem: serving.certPem, keyPem: serving.keyPem, fetch, log: this.#ctx.log });
      } catch (e) {
        this.#ctx.log.error(`Cannot serve the subresource API on "${this.#opts.addr}": ${(e as Error).message}`);
        this.#ctx.exit(1);
        return;
      }
      if (this.#stopped) {
        await this.#door.stop();
        return;
      }
      this.#caPem = ca.certPem;
      this.#ctx.log(`subresource API (${apiServiceName}) served over TLS on ${this.#door.address}`);
      this.#served();
      await this.#readConfig(rest);
      this.#poll = setInterval(() => void this.#readConfig(rest), this.#opts.configPollMs ?? 30_000);
      // Both certificates are valid for a year: renewed every week, from the same CA.
      this.#renew = setInterval(() => {
        void (async () => {
          const next = await makeServingCert(ca, { dnsNames: this.#opts.hosts.filter((h) => !ips.includes(h)), ips });
          client = await makeClientCert(ca, { commonName: consoleClientCommonName });
          this.#door?.setCertificate(next.certPem, next.keyPem);
          this.#ctx.log("subresource API: serving and console client certificates renewed");
        })().catch((e: unknown) => this.#ctx.log.warn(`Cannot renew the subresource API's certificates (those in use stay): ${(e as Error).message}`));
      }, this.#opts.renewMs ?? servingRenewMs);
      this.#renew.unref();
    }, (e, n) => {
      this.#ctx.readiness.fail("subresources", e.message);
      this.#ctx.log.warn(`${e.message}; retrying (attempt ${n + 1})`);
    });
  }

  async #readConfig(rest: KubeRest): Promise<void> {
    try {
      const cm = await rest.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${authConfigMap.namespace}/configmaps/${authConfigMap.name}`);
      const text = JSON.stringify(cm.data ?? {});
      if (text !== this.#configText) {
        this.#door?.setConfig(requestHeaderConfig(cm.data));
        this.#configText = text;
        this.#ctx.log(`front-proxy settings read from ConfigMap ${authConfigMap.namespace}/${authConfigMap.name}`);
      }
      this.#report();
    } catch (e) {
      // The settings last read stay in force.
      if (this.#configText === "") this.#ctx.readiness.fail("subresources", (e as Error).message);
      this.#ctx.log.warn(`Cannot read the front-proxy settings: ${(e as Error).message}; reading again in ${(this.#opts.configPollMs ?? 30_000) / 1000} s`);
    }
  }

  lead(kc: KubeConfig): void {
    this.#leading = true;
    this.#registered = false;
    this.#registering?.stop();
    this.#report();
    const service = this.#opts.service;
    const rest = new KubeRest(kc);
    this.#registering = retryUntil(async (_, retrying) => {
      await this.#whenServed;
      if (retrying.stopped) return;
      const caPem = this.#caPem!;
      await publishCa(rest, this.#opts.namespace, caPem);
      if (service !== undefined) await registerApiService(rest, service, caPem);
      if (retrying.stopped) return;
      this.#registered = true;
      this.#ctx.log(service !== undefined ? `APIService ${apiServiceName} registered at Service ${service.namespace}/${service.name}:${service.port}` : "the CA published in ConfigMap bunvirt-ca");
      this.#report();
    }, (e) => {
      this.#ctx.readiness.fail("subresources", e.message);
      this.#ctx.log.warn(`${e.message}; retrying`);
    });
  }

  follow(): void {
    this.#leading = false;
    this.#registering?.stop();
    this.#registering = undefined;
    this.#report();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#serving?.stop();
    this.#registering?.stop();
    clearInterval(this.#poll);
    clearInterval(this.#renew);
    await this.#door?.stop();
  }

  #report(): void {
    if (this.#door === undefined) return;
    if (this.#configText === "") this.#ctx.readiness.fail("subresources", "no front-proxy settings yet");
    else if (this.#leading && !this.#registered) this.#ctx.readiness.fail("subresources", "not registered yet");
    else this.#ctx.readiness.pass("subresources");
  }
}
