import { afterAll, describe, expect, test } from "bun:test";
import { createHealthApp } from "./health-app.ts";
import { listenTcp } from "./listen.ts";
import { Metrics } from "./metrics.ts";
import { Readiness } from "./readiness.ts";
import { parseExposition, samplesOf } from "../../tests/lib/prometheus-text.ts";

describe("health app over a real socket", () => {
  const readiness = new Readiness({ cluster: "cannot reach the cluster: connection refused" });
  const listener = listenTcp(createHealthApp({ role: "test", version: "0.0.0", readiness, metrics: new Metrics() }), "127.0.0.1:0");
  const url = (p: string): string => `http://${listener.address}${p}`;
  afterAll(() => listener.stop());

  test("/healthz answers 200 whatever readiness says", async () => {
    const res = await fetch(url("/healthz"));
    expect(res.status).toBe(200);
  });

  test("/readyz is 503 with the reason, then 200 once the condition holds", async () => {
    let res = await fetch(url("/readyz"));
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("cluster: cannot reach the cluster: connection refused");
    readiness.pass("cluster");
    res = await fetch(url("/readyz"));
    expect(res.status).toBe(200);
  });

  test("/metrics is Prometheus text with readiness and request counts", async () => {
    const res = await fetch(url("/metrics"));
    expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    const body = await res.text();
    expect(body).toContain('bunvirt_ready{role="test"} 1');
    expect(body).toMatch(/bunvirt_http_requests_total\{code="503",path="\/readyz"\} 1/);
    expect(body).toContain("# TYPE bunvirt_http_requests_total counter");
  });

  test("/metrics has the process' own figures and is valid exposition text", async () => {
    const e = parseExposition(await (await fetch(url("/metrics"))).text());
    expect(samplesOf(e, "process_resident_memory_bytes")[0]!.value).toBeGreaterThan(1 << 20);
    expect(samplesOf(e, "process_cpu_seconds_total")[0]!.value).toBeGreaterThan(0);
    expect(e.types.get("process_cpu_seconds_total")).toBe("counter");
    const start = samplesOf(e, "process_start_time_seconds")[0]!.value;
    expect(start).toBeLessThanOrEqual(Date.now() / 1000);
    expect(start).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5);
  });

  test("unknown paths are 404", async () => {
    expect((await fetch(url("/nope"))).status).toBe(404);
  });
});

describe("/readyz?exclude=", () => {
  const readiness = new Readiness({ leader: 'standby; the leader is "c1"' });
  const listener = listenTcp(createHealthApp({ role: "test", version: "0.0.0", readiness, metrics: new Metrics() }), "127.0.0.1:0");
  const url = (p: string): string => `http://${listener.address}${p}`;
  afterAll(() => listener.stop());

  test("leaves the named conditions out, and only those", async () => {
    expect((await fetch(url("/readyz"))).status).toBe(503);
    expect((await fetch(url("/readyz?exclude=leader"))).status).toBe(200);
    readiness.fail("webhooks", "not serving yet");
    const res = await fetch(url("/readyz?exclude=leader"));
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(body).toContain("webhooks: not serving yet");
    expect(body).not.toContain("leader:");
    expect((await fetch(url("/readyz?exclude=leader&exclude=webhooks"))).status).toBe(200);
  });
});
