/**
 * The handler role (a DaemonSet, one per node): ready once it reaches the
 * cluster. Watching VMIs and driving launchers is built on this skeleton by
 * a later issue.
 */
import { connectRole } from "../cluster-readiness.ts";
import type { RoleMain } from "../role.ts";

export const handlerMain: RoleMain = async (ctx) => {
  const connection = connectRole(ctx, () => undefined);
  return async () => connection.stop();
};
