import { describe, expect, test } from "bun:test";
import recorded from "../../../tests/fixtures/domain-stats/recorded-answer.json";
import { parseExposition, samplesOf } from "../../../tests/lib/prometheus-text.ts";
import { Metrics } from "../../health/metrics.ts";
import type { StatsReply } from "../../launcher/command/schema.ts";
import { parseDomainStats, type RawDomainStats } from "../../launcher/libvirt/domain-stats.ts";
import { collectVmiStats, type StatsTarget } from "./vmi-stats-collector.ts";

const vmi = { namespace: "default", name: "testvm", node: "node-1" };
const reply: StatsReply = { domain: "default_testvm", ...parseDomainStats(recorded as RawDomainStats) };

describe("collecting from the launchers", () => {
  const target = (name: string, stats: StatsTarget["stats"]): StatsTarget => ({ vmi: { ...vmi, name }, stats });

  test("a stalled or refusing launcher costs only its own figures; up says which are in", async () => {
    const m = new Metrics();
    const errors: string[] = [];
    let aborted = false;
    await collectVmiStats(m, [
      target("good", async () => reply),
      target("stalled", (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => ((aborted = true), reject(new Error("aborted")))))),
      target("refusing", async () => { throw new Error("refused /v1/stats: no domain runs"); }),
    ], { timeoutMs: 100, onError: (v, e) => errors.push(`${v.name}: ${e.message}`) });
    const e = parseExposition(m.render());
    expect(samplesOf(e, "bunvirt_vmi_stats_up").map((s) => [s.labels.name, s.value])).toEqual([["good", 1], ["stalled", 0], ["refusing", 0]]);
    expect(samplesOf(e, "kubevirt_vmi_vcpu_seconds_total").map((s) => s.labels.name)).toEqual(["good"]);
    expect(errors.sort()).toEqual(["refusing: refused /v1/stats: no domain runs", "stalled: no stats within 100 ms"]);
    expect(aborted).toBe(true);
  });

  test("a launcher that ignores the abort still does not hold the scrape", async () => {
    const m = new Metrics();
    await collectVmiStats(m, [target("deaf", () => new Promise(() => undefined))], { timeoutMs: 20 });
    expect(samplesOf(parseExposition(m.render()), "bunvirt_vmi_stats_up")[0]!.value).toBe(0);
  });

  test("at most `concurrency` launchers are asked at once", async () => {
    let inFlight = 0;
    let most = 0;
    const slow = async (): Promise<StatsReply> => {
      most = Math.max(most, ++inFlight);
      await Bun.sleep(5);
      inFlight--;
      return reply;
    };
    const m = new Metrics();
    await collectVmiStats(m, Array.from({ length: 10 }, (_, i) => target(`vm${i}`, slow)), { concurrency: 3 });
    expect(most).toBe(3);
    expect(samplesOf(parseExposition(m.render()), "bunvirt_vmi_stats_up").filter((s) => s.value === 1)).toHaveLength(10);
  });
});
