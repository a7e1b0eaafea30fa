/**
 * What every role shares: the health app on --health-addr, readiness,
 * metrics, and a clean stop on SIGTERM/SIGINT.
 */
import type { Hono } from "hono";
import { createHealthApp } from "../server/health-app.ts";
import { listenTcp } from "../server/listen.ts";
import { Metrics } from "../server/metrics.ts";
import { Readiness } from "../server/readiness.ts";
import { version } from "../version.ts";

export interface RoleFlags {
  healthAddr: string;
  kubeconfig?: string;
  [flag: string]: string | boolean | undefined;
}

export interface RoleContext {
  flags: RoleFlags;
  app: Hono;
  readiness: Readiness;
  metrics: Metrics;
  log: (msg: string) => void;
}

/** A role's body: sets itself up, returns how to stop. */
export type RoleMain = (ctx: RoleContext) => Promise<() => Promise<void>>;

export async function runRole(name: string, flags: RoleFlags, main: RoleMain): Promise<number> {
  const log = (msg: string): void => console.error(`${new Date().toISOString()} ${name}: ${msg}`);
  const readiness = new Readiness();
  const metrics = new Metrics();
  const app = createHealthApp({ role: name, version, readiness, metrics });
  const stopRole = await main({ flags, app, readiness, metrics, log });
  const listener = listenTcp(app, flags.healthAddr);
  log(`bunvirt ${version} serving /healthz, /readyz, /metrics on http://${listener.address}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log(`${signal}: stopping`);
  await stopRole();
  await listener.stop();
  log("stopped");
  return 0;
}
