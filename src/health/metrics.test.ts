import { expect, test } from "bun:test";
import { Metrics } from "./metrics.ts";

test("renders counters and gauges in Prometheus text format", () => {
  const m = new Metrics();
  m.inc("bunvirt_requests_total", "Requests served.", { path: "/healthz" });
  m.inc("bunvirt_requests_total", "Requests served.", { path: "/healthz" });
  m.set("bunvirt_ready", "1 when ready.", 0);
  m.set("bunvirt_label", "Escaping.", 1, { v: 'a"b\\c\nd' });
  expect(m.render()).toBe(
    [
      "# HELP bunvirt_requests_total Requests served.",
      "# TYPE bunvirt_requests_total counter",
      'bunvirt_requests_total{path="/healthz"} 2',
      "# HELP bunvirt_ready 1 when ready.",
      "# TYPE bunvirt_ready gauge",
      "bunvirt_ready 0",
      "# HELP bunvirt_label Escaping.",
      "# TYPE bunvirt_label gauge",
      'bunvirt_label{v="a\\"b\\\\c\\nd"} 1',
      "",
    ].join("\n"),
  );
});

test("refuses bad names and type clashes", () => {
  const m = new Metrics();
  expect(() => m.inc("bad-name", "x")).toThrow(/not a valid metric name/);
  m.inc("x_total", "x");
  expect(() => m.set("x_total", "x", 1)).toThrow(/already a counter/);
});
