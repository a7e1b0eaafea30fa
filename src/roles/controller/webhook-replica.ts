/**
 * A controller replica's share of admission. Once connected, every replica
 * serves the webhooks with a certificate signed by the replicas' shared CA
 * (webhook-ca.ts), so any of them answers the API server with a chain the
 * registered caBundle trusts. Only the replica that leads writes the
 * configurations and the CRD's conversion stanza (its --webhook-url or
 * --webhook-service and the CA), once per term, retried until written or the term ends: no replica
 * overwrites another's registration with a CA of its own, and after a
 * failover the new leader points admission at itself.
 *
 * Readiness "webhooks": false until this replica serves; while it leads,
 * false until its registration is written.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeRest } from "../../kube/rest.ts";
import { retryUntil, type Retrying } from "../../retry/retry-until.ts";
import type { RoleContext } from "../role.ts";
import { sharedWebhookCa } from "./webhook-ca.ts";
import type { WebhookServer } from "./webhook-server.ts";
import { describeTarget, type WebhookTarget } from "./webhook-target.ts";

export interface WebhookReplicaOptions {
  /** --webhook-addr: where the webhooks listen. */
  addr: string;
  /** --webhook-url or --webhook-service: what the leader registers (none: this replica serves, registers nothing). */
  target?: WebhookTarget;
  /** Names the serving certificate covers. */
  hosts: string[];
  /** The controller's namespace (the CA's Secret lives there). */
  namespace: string;
  /** Node directories hostDisk volumes may use (`--host-disk-dirs`); none by default. */
  hostDiskDirs?: readonly string[];
}

export class WebhookReplica {
  readonly #ctx: Pick<RoleContext, "log" | "readiness" | "exit">;
  readonly #opts: WebhookReplicaOptions;
  #server: WebhookServer | undefined;
  #serving: Retrying | undefined;
  #registering: Retrying | undefined;
  #served!: (s: WebhookServer) => void;
  readonly #whenServed = new Promise<WebhookServer>((resolve) => (this.#served = resolve));
  #leading = false;
  #registered = false;
  #stopped = false;

  constructor(ctx: Pick<RoleContext, "log" | "readiness" | "exit">, opts: WebhookReplicaOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
    ctx.readiness.fail("webhooks", "no serving certificate yet");
  }

  /** Gets the shared CA (retrying) and serves. */
  connect(kc: KubeConfig): void {
    if (this.#serving !== undefined) return;
    const m = import("./webhook-server.ts");
    this.#serving = retryUntil(async (_, retrying) => {
      const ca = await sharedWebhookCa(new KubeRest(kc), this.#opts.namespace);
      if (retrying.stopped || this.#stopped) return;
      let server: WebhookServer;
      try {
        server = await (await m).serveWebhooks(this.#opts.addr, this.#opts.hosts, ca, kc, { hostDiskDirs: this.#opts.hostDiskDirs ?? [] }, {
          onRenew: (r) => (r instanceof Error
            ? this.#ctx.log.warn(`Cannot renew the webhooks' serving certificate (the one in use stays): ${r.message}`)
            : this.#ctx.log("webhooks' serving certificate renewed")),
        });
      } catch (e) {
        // A port that cannot be bound will not free itself: end the role.
        this.#ctx.log.error(`Cannot serve the webhooks on "${this.#opts.addr}": ${(e as Error).message}`);
        this.#ctx.exit(1);
        return;
      }
      if (this.#stopped) {
        await server.stop();
        return;
      }
      this.#server = server;
      this.#ctx.log(`webhooks served over TLS on https://${server.address} with the shared CA`);
      this.#served(server);
      this.#report();
    }, (e, n) => {
      this.#ctx.readiness.fail("webhooks", e.message);
      this.#ctx.log.warn(`${e.message}; retrying (attempt ${n + 1})`);
    });
  }

  /** This replica leads (again): register, once served. */
  lead(kc: KubeConfig): void {
    this.#leading = true;
    this.#registered = false;
    this.#registering?.stop();
    this.#report();
    const target = this.#opts.target;
    if (target === undefined) return;
    const m = import("./webhook-server.ts");
    const term = retryUntil(async (_, retrying) => {
      const server = await this.#whenServed;
      if (retrying.stopped) return;
      await (await m).registerWebhooks(kc, target, server.certs.caPem);
      if (retrying.stopped) return;
      this.#registered = true;
      this.#ctx.log(`webhooks registered at ${describeTarget(target)}`);
      this.#report();
    }, (e) => {
      this.#ctx.readiness.fail("webhooks", e.message);
      this.#ctx.log.warn(`${e.message}; retrying`);
    });
    this.#registering = term;
  }

  /** This replica stopped leading: no registration from it until it leads again. */
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
    await this.#server?.stop();
  }

  #report(): void {
    if (this.#server === undefined) return;
    if (this.#leading && this.#opts.target !== undefined && !this.#registered) this.#ctx.readiness.fail("webhooks", "not registered yet");
    else this.#ctx.readiness.pass("webhooks");
  }
}
