import { expect, test } from "bun:test";
import fc from "fast-check";
import { maxSourceUrlLength } from "../limits.ts";
import { parseHttpSourceUrl, parseRegistrySourceUrl } from "./source-url.ts";

test("http: an http(s) URL with a host is taken as the URL parser reads it", () => {
  const r = parseHttpSourceUrl("https://download.example.org:8443/images/disk.qcow2?x=1");
  expect(r.ok && r.url.host).toBe("download.example.org:8443");
  expect(parseHttpSourceUrl("http://127.0.0.1/disk.img").ok).toBe(true);
});

test("http: whatever the text, the parser answers (never throws), and what it accepts is http(s), without credentials, bounded", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.webUrl().map((u) => u.replace("://", "://user:pw@"))), (text) => {
      const r = parseHttpSourceUrl(text);
      if (!r.ok) return typeof r.rule === "string" && r.rule.length > 0;
      return (r.url.protocol === "http:" || r.url.protocol === "https:") && r.url.username === "" && r.url.password === "" && text.length <= maxSourceUrlLength;
    }),
    { numRuns: 500 },
  );
});

test("registry: docker:// and a reference; anything else is refused with the reason", () => {
  const r = parseRegistrySourceUrl("docker://quay.io/containerdisks/fedora:39");
  expect(r.ok && [r.reference.registry, r.reference.repository, r.reference.tag]).toEqual(["quay.io", "containerdisks/fedora", "39"]);
  const hub = parseRegistrySourceUrl("docker://kubevirt/fedora-cloud-container-disk-demo");
  expect(hub.ok && hub.reference.registry).toBe("docker.io");
  fc.assert(
    fc.property(fc.string(), (text) => {
      const r = parseRegistrySourceUrl(text);
      return r.ok ? text.startsWith("docker://") : r.rule.length > 0;
    }),
    { numRuns: 500 },
  );
});
