/**
 * The launcher role (one pod per VM). Ready once its VM runs; until the
 * launcher issue lands there is no VM to run, so it reports why.
 */
import type { RoleMain } from "../role.ts";

export const launcherMain: RoleMain = async (ctx) => {
  ctx.readiness.fail("domain", "no VirtualMachineInstance has been synced to this launcher");
  return async () => undefined;
};
