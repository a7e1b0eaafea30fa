/**
 * How long converting a VMI into domain XML takes (goal: well under a
 * millisecond). KubeVirt's converter runs in Go in virt-launcher; it publishes
 * no figure, so the goal is the peer here.  Run: bun bench/domain-xml.ts
 */
import { domainXml } from "../src/domain/index.ts";
import { corpus } from "../tests/fixtures/domain-corpus.ts";

const rounds = 20_000;
console.log(`domain XML conversion, ${rounds} rounds per VMI (goal: well under 1 ms each)`);
for (const c of corpus) {
  for (let i = 0; i < 500; i++) domainXml(c.vmi, c.spec, c.facts); // warm up
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < rounds; i++) domainXml(c.vmi, c.spec, c.facts);
  const us = (Bun.nanoseconds() - t0) / rounds / 1000;
  console.log(`  ${c.name.padEnd(26)} ${us.toFixed(1).padStart(6)} µs per conversion`);
}
