/**
 * What every role shares: the health app on --health-addr, readiness,
 * metrics, and a clean stop on SIGTERM/SIGINT.
 */
import type { Hono } from "hono";
import { createHealthApp } from "../health/health-app.ts";
import { listenTcp } from "../health/listen.ts";
import { Metrics } from "../health/metrics.ts";
import { Readiness } from "../health/readiness.ts";
import { makeLogger, parseLogFormat, parseLogLevel, type Logger } from "../log/logger.ts";
import { version } from "../version.ts";
import type { ConfigSnapshot } from "../cli/config-dir.ts";
import { watchConfigDir } from "./config-watch.ts";

export interface RoleFlags {
  healthAddr: string;
  kubeconfig?: string;
  [flag: string]: string | boolean | undefined;
}

export interface RoleContext {
  flags: RoleFlags;
  /** Ends the role (as a signal would), with this exit code. */
  exit(code: number): void;
  app: Hono;
  readiness: Readiness;
  metrics: Metrics;
  log: Logger;
}

/** Where a role's settings came from (--config-dir): watched, the role restarts when they change. */
export interface RoleSettings {
  dir: string;
  snapshot: ConfigSnapshot;
  /** Keys given on the command line (they win over the dir). */
  ignored: ReadonlySet<string>;
}

/** A role's body: sets itself up, returns how to stop. */
export type RoleMain = (ctx: RoleContext) => Promise<() => Promise<void>>;

export async function runRole(name: string, flags: RoleFlags, main: RoleMain, settings?: RoleSettings): Promise<number> {
  const format = parseLogFormat(typeof flags.logFormat === "string" ? flags.logFormat : undefined);
  const level = parseLogLevel(typeof flags.logLevel === "string" ? flags.logLevel : undefined);
  const log = makeLogger({ role: name, format, level, write: (line) => console.error(line) });
  const readiness = new Readiness();
  const metrics = new Metrics();
  const app = createHealthApp({ role: name, version, readiness, metrics });
  let finish: (why: { signal: NodeJS.Signals } | { code: number }) => void = () => undefined;
  const finished = new Promise<{ signal: NodeJS.Signals } | { code: number }>((resolve) => (finish = resolve));
  process.once("SIGTERM", () => finish({ signal: "SIGTERM" }));
  process.once("SIGINT", () => finish({ signal: "SIGINT" }));
  const exit = (code: number): void => finish({ code });
  const stopRole = await main({ flags, app, readiness, metrics, log, exit });
  const stopWatch = settings === undefined ? () => undefined : watchConfigDir({ log, exit }, { dir: settings.dir, initial: settings.snapshot, ignored: settings.ignored });
  const listener = listenTcp(app, flags.healthAddr);
  log(`bunvirt ${version} serving /healthz, /readyz, /metrics on http://${listener.address}`);
  const why = await finished;
  log("signal" in why ? `${why.signal}: stopping` : `exiting with code ${why.code}`);
  stopWatch();
  await stopRole();
  await listener.stop();
  log("stopped");
  return "code" in why ? why.code : 0;
}
