/**
 * The controller role (a Deployment, two replicas): every replica serves the
 * admission and conversion webhooks over TLS with the replicas' shared CA,
 * and the Lease holder registers them (webhook-replica.ts); only the Lease
 * holder is ready, reconciles VirtualMachines into VMIs and launcher pods
 * (controller-loop.ts) and checks the nodes' heartbeats (node-watch.ts).
 * Losing the Lease stops the loop; a replica that wins it again starts a
 * fresh one from a new list.
 */
import { hostname } from "node:os";
import { secondsFlag } from "../../cli/seconds-flag.ts";
import { hostDiskDirsFlag } from "../../cli/host-disk-dir-flag.ts";
import { UsageError } from "../../cli/usage.ts";
import { type Election, runLeaderElection } from "../../kube/leader-election.ts";
import { heartbeatSeconds } from "../handler/node-heartbeat.ts";
import { connectRole } from "../cluster-readiness.ts";
import type { RoleMain } from "../role.ts";
import type { ControllerLoop } from "./controller-loop.ts";
import { defaultNodeHeartbeatTimeoutSeconds } from "./node-health.ts";
import type { NodeWatch } from "./node-watch.ts";
import { WebhookReplica } from "./webhook-replica.ts";
import type { LauncherPodOptions } from "./launcher-pod.ts";
import { readOwnImage } from "./own-image.ts";
import { isNotFound } from "../../kube/rest.ts";
import { retryUntil, type Retrying } from "../../retry/retry-until.ts";
import { parseWebhookService, parseWebhookUrl, targetHosts } from "./webhook-target.ts";
import { SubresourceReplica } from "./subresources/replica.ts";
import { subresourceService } from "./subresources/service-flag.ts";

/** The launcher image when --launcher-image is not given outside a pod. */
export const defaultLauncherImage = "bunvirt:dev";

export const controllerMain: RoleMain = async (ctx) => {
  const identity = `${process.env.POD_NAME ?? hostname()}_${process.pid}`;
  const namespace = process.env.POD_NAMESPACE ?? "bunvirt";
  const leaseSeconds = secondsFlag("leader-elect-lease-duration", ctx.flags.leaseDuration, true);
  const retrySeconds = secondsFlag("leader-elect-retry-period", ctx.flags.leaseRetry);
  const heartbeatTimeout = secondsFlag("node-heartbeat-timeout", ctx.flags.nodeHeartbeatTimeout) ?? defaultNodeHeartbeatTimeoutSeconds;
  // A live handler beats every heartbeatSeconds: a shorter timeout would fail the VMIs of healthy nodes.
  if (heartbeatTimeout <= heartbeatSeconds) {
    throw new UsageError(`--node-heartbeat-timeout "${heartbeatTimeout}" must be longer than the handler's heartbeat interval (${heartbeatSeconds} s)`);
  }
  // Opt-in: a replica without --webhook-addr serves no webhooks (two replicas on one host would share the port).
  const webhookAddr = ctx.flags.webhookAddr === undefined ? undefined : String(ctx.flags.webhookAddr);
  const webhookUrl = ctx.flags.webhookUrl === undefined ? undefined : String(ctx.flags.webhookUrl);
  const webhookService = ctx.flags.webhookService === undefined ? undefined : String(ctx.flags.webhookService);
  if (webhookUrl !== undefined && webhookService !== undefined) throw new UsageError("give --webhook-url or --webhook-service, not both");
  const webhookTarget = webhookUrl !== undefined ? parseWebhookUrl(webhookUrl) : webhookService !== undefined ? parseWebhookService(webhookService) : undefined;
  if (webhookTarget !== undefined && webhookAddr === undefined) {
    throw new UsageError(`--webhook-${webhookUrl !== undefined ? "url" : "service"} needs --webhook-addr (where the webhooks listen)`);
  }
  // Opt-in too: the aggregated API (subresources.kubevirt.io) on --subresource-addr.
  const subresourceAddr = ctx.flags.subresourceAddr === undefined ? undefined : String(ctx.flags.subresourceAddr);
  const apiService = subresourceService(ctx.flags.subresourceService, webhookService);
  if (apiService !== undefined && subresourceAddr === undefined) throw new UsageError("--subresource-service needs --subresource-addr (where the subresource API listens)");
  const podOptions: LauncherPodOptions = {
    image: String(ctx.flags.launcherImage ?? defaultLauncherImage),
    emulation: ctx.flags.emulation === true,
    ipForwardSysctl: ctx.flags.ipForwardSysctl === true,
    hostDiskDirs: hostDiskDirsFlag(ctx.flags.hostDiskDirs),
  };
  // Importer pods (DataVolumes' registry sources) get the controller's --registry and --insecure-registry, as the handler has them.
  const importRegistry = {
    ...(typeof ctx.flags.registry === "string" && ctx.flags.registry !== "" ? { registry: ctx.flags.registry } : {}),
    ...(typeof ctx.flags.insecureRegistry === "string" && ctx.flags.insecureRegistry !== "" ? { insecureRegistries: ctx.flags.insecureRegistry.split(",") } : {}),
  };
  // In a pod without --launcher-image: launchers run this pod's own image (own-image.ts), known before the loop starts.
  const ownPod = ctx.flags.launcherImage === undefined ? process.env.POD_NAME : undefined;
  let imageKnown: Promise<void> = Promise.resolve();
  let imageLookup: Retrying | undefined;

  // Set up in the background, so the health listener is up at once.
  const loopModule = import("./controller-loop.ts");
  const nodeWatchModule = import("./node-watch.ts");
  const webhooks = webhookAddr === undefined ? undefined : new WebhookReplica(ctx, {
    addr: webhookAddr,
    ...(webhookTarget !== undefined ? { target: webhookTarget } : {}),
    hosts: [...new Set([...(webhookTarget !== undefined ? targetHosts(webhookTarget) : ["localhost"]), "127.0.0.1"])],
    namespace,
    hostDiskDirs: podOptions.hostDiskDirs ?? [],
  });

  const subresources = subresourceAddr === undefined ? undefined : new SubresourceReplica(ctx, {
    addr: subresourceAddr,
    ...(apiService !== undefined ? { service: apiService } : {}),
    hosts: [...new Set([...(apiService !== undefined ? targetHosts({ service: apiService }) : ["localhost"]), "127.0.0.1"])],
    namespace,
  });

  ctx.readiness.fail("leader", "not the leader yet");
  let election: Election | undefined;
  let loop: ControllerLoop | undefined;
  let nodeWatch: NodeWatch | undefined;
  /** Set while leading; a loop starts only if its term is still the current one. */
  let term: object | undefined;
  let loopStopped: Promise<void> = Promise.resolve();
  let stopping = false;
  const connection = connectRole(ctx, (kc) => {
    webhooks?.connect(kc);
    subresources?.connect(kc);
    if (ownPod !== undefined) {
      ctx.readiness.fail("launcher-image", "reading this pod's image");
      imageKnown = new Promise((resolve) => {
        imageLookup = retryUntil(async () => {
          const own = await readOwnImage(kc, namespace, ownPod).catch((e: unknown) => {
            if (!isNotFound(e)) throw e;
            // POD_NAME set outside a pod (a test's process): the default, as outside a pod.
            ctx.log.warn(`no pod "${namespace}/${ownPod}" (POD_NAME): launchers run the default image "${podOptions.image}"`);
            return undefined;
          });
          if (own !== undefined) {
            Object.assign(podOptions, own);
            ctx.log(`launcher image "${own.image}" (this pod's own${own.imagePullPolicy !== undefined ? `, pull policy ${own.imagePullPolicy}` : ""})`);
          }
          ctx.readiness.pass("launcher-image");
          resolve();
        }, (e) => {
          ctx.readiness.fail("launcher-image", e.message);
          ctx.log.warn(`${e.message}; retrying`);
        });
      });
    }
    election = runLeaderElection(kc, {
      namespace,
      name: "bunvirt-controller",
      identity,
      ...(leaseSeconds !== undefined ? { leaseSeconds } : {}),
      ...(retrySeconds !== undefined ? { retrySeconds } : {}),
      onChange: (leading, holder) => {
        if (leading) ctx.readiness.pass("leader");
        else ctx.readiness.fail("leader", `standby; the leader is "${holder ?? "unknown"}"`);
        ctx.metrics.set("bunvirt_controller_leader", "1 when this replica holds the lease.", leading ? 1 : 0);
        ctx.log(leading ? "became the leader" : `following the leader "${holder ?? "unknown"}"`);
        if (leading && !stopping) {
          webhooks?.lead(kc);
          subresources?.lead(kc);
        } else if (!leading) {
          webhooks?.follow();
          subresources?.follow();
        }
        if (leading && !stopping) {
          const mine = {};
          term = mine;
          // It starts once the previous loop has stopped, unless the Lease was lost meanwhile.
          void Promise.all([loopModule, nodeWatchModule, loopStopped, imageKnown]).then(([m, n]) => {
            if (term !== mine || stopping) return;
            loop = new m.ControllerLoop(kc, { podOptions, importRegistry, log: ctx.log, count: (name, help) => ctx.metrics.inc(name, help) });
            nodeWatch = new n.NodeWatch(kc, { timeoutSeconds: heartbeatTimeout, vmis: loop.vmis, pods: loop.pods, log: ctx.log });
            nodeWatch.start();
            return loop.start();
          }).catch((e: unknown) => ctx.log.error(`Cannot start the controller loop: ${(e as Error).message}`));
        } else if (!leading) {
          term = undefined;
          const old = loop;
          const oldWatch = nodeWatch;
          loop = undefined;
          nodeWatch = undefined;
          if (old !== undefined) loopStopped = loopStopped.then(() => Promise.all([old.stop(), oldWatch?.stop()])).then(() => undefined);
        }
      },
    });
  });
  return async () => {
    stopping = true;
    connection.stop();
    imageLookup?.stop();
    election?.stop();
    const running = loop;
    const watching = nodeWatch;
    loop = undefined;
    nodeWatch = undefined;
    await loopStopped;
    await Promise.all([running?.stop(), watching?.stop()]);
    // Only now, with nothing of this replica reconciling, may a standby lead.
    await election?.release().then(
      () => ctx.log("released the Lease"),
      (e: unknown) => ctx.log.warn(`Cannot release the Lease: ${e instanceof Error ? e.message : String(e)}; the standby takes it when it lapses`),
    );
    await webhooks?.stop();
    await subresources?.stop();
  };
};
