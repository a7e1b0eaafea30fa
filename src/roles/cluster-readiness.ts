/** Connects a role to its cluster and keeps its "cluster" readiness condition true to the facts. */
import type { KubeConfig } from "@kubernetes/client-node";
import { connectWithRetry, type Connection } from "../kube/cluster.ts";
import type { RoleContext } from "./role.ts";

export function connectRole(ctx: RoleContext, onConnected: (kc: KubeConfig) => void): Connection {
  ctx.readiness.fail("cluster", "connecting");
  let last: string | null = "";
  return connectWithRetry(
    ctx.flags.kubeconfig === undefined ? {} : { kubeconfig: ctx.flags.kubeconfig },
    (reason) => {
      if (reason === null) ctx.readiness.pass("cluster");
      else {
        ctx.readiness.fail("cluster", reason);
        ctx.metrics.inc("bunvirt_cluster_connect_failures_total", "Failed attempts to reach the cluster.");
      }
      if (reason !== last) (reason === null ? ctx.log.info : ctx.log.warn)(reason === null ? "connected to the cluster" : `${reason}; retrying with backoff`);
      last = reason;
    },
    onConnected,
  );
}
