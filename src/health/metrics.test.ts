import { expect, test } from "bun:test";
import { parseExposition, samplesOf } from "../../tests/lib/prometheus-text.ts";
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

test("scrape() adds the collectors' figures to a copy: what a collector no longer reports is gone", async () => {
  const m = new Metrics();
  m.inc("bunvirt_requests_total", "Requests served.");
  let vmis = ["a", "b"];
  m.collect((into) => {
    for (const v of vmis) into.setCounter("kubevirt_vmi_vcpu_seconds_total", "vCPU time.", 1.5, { name: v });
  });
  m.collect(() => {
    throw new Error("a broken collector");
  });
  const errors: string[] = [];
  const first = parseExposition(await m.scrape((e) => errors.push(e.message)));
  expect(samplesOf(first, "kubevirt_vmi_vcpu_seconds_total").map((s) => s.labels.name)).toEqual(["a", "b"]);
  expect(first.types.get("kubevirt_vmi_vcpu_seconds_total")).toBe("counter");
  expect(errors).toEqual(["a broken collector"]);
  vmis = ["b"];
  const second = parseExposition(await m.scrape());
  expect(samplesOf(second, "kubevirt_vmi_vcpu_seconds_total").map((s) => s.labels.name)).toEqual(["b"]);
  expect(samplesOf(second, "bunvirt_requests_total")[0]!.value).toBe(1);
  expect(m.render()).not.toContain("kubevirt_vmi");
});

test("values the text format spells specially, and label names are checked", () => {
  const m = new Metrics();
  m.set("g", "x", Infinity, { a: "1" });
  m.set("g", "x", NaN, { a: "2" });
  expect(parseExposition(m.render()).samples.map((s) => s.value)).toEqual([Infinity, NaN]);
  expect(() => m.set("g", "x", 1, { "bad-label": "1" })).toThrow(/not a valid label name/);
});

test("the exposition checker refuses what Prometheus would", () => {
  const ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\n";
  expect(parseExposition(ok).samples).toHaveLength(1);
  for (const bad of [
    "a 1", // no final newline
    "# TYPE a gauge\n# TYPE a gauge\na 1\n",
    "a{x=\"1\"} 1\na{x=\"1\"} 2\n",
    "a 1\nb 1\na 2\n",
    'a{x="\\t"} 1\n',
    "a{x=1} 1\n",
    "a one\n",
    "a 1\n# TYPE a gauge\n",
    "# TYPE a_total counter\na_total -1\n",
  ]) expect(() => parseExposition(bad)).toThrow();
});
