/**
 * The aggregated API's routes, served on the inner unix socket that only
 * the front door (front-door.ts) reaches: so the X-Remote-* headers are the
 * API server's word for who asks. Discovery and /version answer anyone the
 * API server sends; every subresource is authorized by a
 * SubjectAccessReview first (sar.ts).
 */
import type { Server } from "bun";
import type { KubeRest } from "../../../kube/rest.ts";
import type { Vmi } from "../model.ts";
import { type ConsoleSession, openConsole } from "./console-proxy.ts";
import { apiGroup, apiGroupList, apiResourceList, groupVersion, rootPaths, versionInfo } from "./discovery.ts";
import type { Dialed } from "./handler-dial.ts";
import { type LifecycleAction, runLifecycle } from "./lifecycle-app.ts";
import { remoteUser, type RequestHeaderConfig } from "./request-header.ts";
import { authorize, subresourceGroup } from "./sar.ts";
import { jsonResponse, methodNotAllowed, pathNotFound, statusResponse, unauthorized } from "./status.ts";

export interface InnerAppDeps {
  rest: Pick<KubeRest, "get" | "patch" | "create">;
  /** The front-proxy settings now (the header names). */
  config: () => RequestHeaderConfig | undefined;
  dial: (vmi: Vmi) => Promise<Dialed>;
  log?: { warn(line: string): void };
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const subresourcePath = new RegExp(`^/apis/${subresourceGroup.replaceAll(".", "\\.")}/v1/namespaces/([^/]+)/(virtualmachines|virtualmachineinstances)/([^/]+)/([a-z]+)$`);

export interface Route {
  namespace: string;
  resource: "virtualmachines" | "virtualmachineinstances";
  name: string;
  subresource: "start" | "stop" | "restart" | "console";
}

/** The subresource a path names, or undefined. */
export function subresourceRoute(pathname: string): Route | undefined {
  const m = subresourcePath.exec(pathname);
  if (m === null) return undefined;
  const [, namespace, resource, name, sub] = m as unknown as [string, string, Route["resource"], string, string];
  if (!dnsLabel.test(namespace) || !dnsSubdomain.test(name)) return undefined;
  if (resource === "virtualmachines" && (sub === "start" || sub === "stop" || sub === "restart")) return { namespace, resource, name, subresource: sub };
  if (resource === "virtualmachineinstances" && sub === "console") return { namespace, resource, name, subresource: sub };
  return undefined;
}

export function innerApp(deps: InnerAppDeps) {
  const discovery: Record<string, () => object> = {
    "/": rootPaths,
    "/apis": apiGroupList,
    [`/apis/${subresourceGroup}`]: apiGroup,
    [`/apis/${groupVersion}`]: apiResourceList,
    [`/apis/${groupVersion}/version`]: versionInfo,
    [`/apis/${groupVersion}/healthz`]: () => ({ apiserver: { connectivity: "ok" } }),
    "/healthz": () => ({ apiserver: { connectivity: "ok" } }),
  };
  return async function fetch(req: Request, server: Server<ConsoleSession>): Promise<Response | undefined> {
    try {
      const url = new URL(req.url);
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
      const fixed = discovery[path];
      if (fixed !== undefined) {
        if (req.method !== "GET" && req.method !== "HEAD") throw methodNotAllowed(req.method);
        return jsonResponse(fixed());
      }
      const route = subresourceRoute(path);
      if (route === undefined) throw pathNotFound();
      const verb = route.subresource === "console" ? "get" : "update";
      if ((verb === "get" && req.method !== "GET") || (verb === "update" && req.method !== "PUT")) throw methodNotAllowed(req.method);
      const config = deps.config();
      const user = config === undefined ? undefined : remoteUser(config, req.headers);
      if (user === undefined) throw unauthorized();
      await authorize(deps.rest, user, { verb, resource: route.resource, subresource: route.subresource, namespace: route.namespace, name: route.name });
      if (route.subresource === "console") return await openConsole(req, server, deps.rest, deps.dial, route.namespace, route.name);
      await runLifecycle(deps.rest, route.subresource as LifecycleAction, route.namespace, route.name, req);
      return new Response(null, { status: 202 });
    } catch (e) {
      const res = statusResponse(e);
      if (res.status >= 500) deps.log?.warn(`${req.method} ${new URL(req.url).pathname}: ${(e as Error).message}`);
      return res;
    }
  };
}
