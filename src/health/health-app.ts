/**
 * The Hono app every role serves: /healthz, /readyz, /metrics. A role adds
 * its own routes to the returned app.
 */
import { Hono } from "hono";
import type { Metrics } from "./metrics.ts";
import { processMetrics } from "./process-metrics.ts";
import type { Readiness } from "./readiness.ts";

export interface HealthOptions {
  role: string;
  version: string;
  readiness: Readiness;
  metrics: Metrics;
}

export function createHealthApp(opts: HealthOptions): Hono {
  const app = new Hono();
  opts.metrics.collect(processMetrics);
  app.use(async (c, next) => {
    await next();
    opts.metrics.inc("bunvirt_http_requests_total", "HTTP requests served by the health app.", {
      path: c.req.routePath,
      code: String(c.res.status),
    });
  });
  app.get("/healthz", (c) => c.text("ok\n"));
  // ?exclude=NAME (repeatable) leaves a condition out, as Kubernetes components
  // do: the controller's Deployment probes /readyz?exclude=leader, so a
  // standby that serves webhooks is Ready while only the leader reconciles.
  app.get("/readyz", (c) => {
    const ready = opts.readiness.ready;
    opts.metrics.set("bunvirt_ready", "1 when this role is ready, else 0.", ready ? 1 : 0, { role: opts.role });
    const excluded = new Set(c.req.queries("exclude") ?? []);
    if (opts.readiness.readyExcept(excluded)) return c.text("ok\n");
    return c.text(`not ready\n${opts.readiness.reasons(excluded).join("\n")}\n`, 503);
  });
  app.get("/metrics", async (c) => {
    opts.metrics.set("bunvirt_ready", "1 when this role is ready, else 0.", opts.readiness.ready ? 1 : 0, { role: opts.role });
    opts.metrics.set("bunvirt_build_info", "Constant 1, labelled with the build.", 1, { role: opts.role, version: opts.version });
    return c.body(await opts.metrics.scrape(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  return app;
}
