/**
 * The controller role (a Deployment, two replicas): only the Lease holder is
 * ready and reconciles. Reconciling VirtualMachines into VMIs and launcher
 * pods is built on this skeleton by a later issue.
 */
import { hostname } from "node:os";
import { secondsFlag } from "../../cli/seconds-flag.ts";
import { runLeaderElection } from "../../kube/leader-election.ts";
import { connectRole } from "../cluster-readiness.ts";
import type { RoleMain } from "../role.ts";

export const controllerMain: RoleMain = async (ctx) => {
  const identity = `${process.env.POD_NAME ?? hostname()}_${process.pid}`;
  const namespace = process.env.POD_NAMESPACE ?? "bunvirt";
  const leaseSeconds = secondsFlag("leader-elect-lease-duration", ctx.flags.leaseDuration, true);
  const retrySeconds = secondsFlag("leader-elect-retry-period", ctx.flags.leaseRetry);
  ctx.readiness.fail("leader", "not the leader yet");
  let election: { stop(): void } | undefined;
  const connection = connectRole(ctx, (kc) => {
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
      },
    });
  });
  return async () => {
    connection.stop();
    election?.stop();
  };
};
