import { describe, expect, test } from "bun:test";
import { formatReference, InvalidReferenceError, parseReference } from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  const ok: Array<[string, { registry: string; repository: string; tag?: string; digest?: string }, string?]> = [
    ["kubevirt/cirros-registry-disk-demo:devel", { registry: "127.0.0.1:5000", repository: "kubevirt/cirros-registry-disk-demo", tag: "devel" }],
    ["kubevirt/fedora", { registry: "127.0.0.1:5000", repository: "kubevirt/fedora", tag: "latest" }],
    ["cirros", { registry: "127.0.0.1:5000", repository: "cirros", tag: "latest" }],
    ["127.0.0.1:5000/x/y:tag", { registry: "127.0.0.1:5000", repository: "x/y", tag: "tag" }],
    ["localhost/x", { registry: "localhost", repository: "x", tag: "latest" }],
    ["localhost:5000/a/b/c:v1.2_3-rc", { registry: "localhost:5000", repository: "a/b/c", tag: "v1.2_3-rc" }],
    [`quay.io/x@${D}`, { registry: "quay.io", repository: "x", digest: D }],
    [`quay.io/x:1.0@${D}`, { registry: "quay.io", repository: "x", tag: "1.0", digest: D }],
    ["UPPER/case", { registry: "upper", repository: "case", tag: "latest" }],
    ["Registry.Example.COM/ns/img", { registry: "registry.example.com", repository: "ns/img", tag: "latest" }],
    ["[::1]:5000/img:t", { registry: "[::1]:5000", repository: "img", tag: "t" }],
    ["docker.io/cirros", { registry: "docker.io", repository: "library/cirros", tag: "latest" }],
    ["a__b/c.d/e-f--g:x", { registry: "127.0.0.1:5000", repository: "a__b/c.d/e-f--g", tag: "x" }],
    ["  spaced/outside:t  ", { registry: "127.0.0.1:5000", repository: "spaced/outside", tag: "t" }],
  ];
  for (const [input, want] of ok) {
    test(`parses ${input.trim()}`, () => {
      const ref = parseReference(input, { defaultRegistry: "127.0.0.1:5000" });
      expect(ref.registry).toBe(want.registry);
      expect(ref.repository).toBe(want.repository);
      expect(ref.tag).toBe(want.tag);
      expect(ref.digest).toBe(want.digest);
    });
  }

  test("docker.io is the default registry and gets library/", () => {
    const ref = parseReference("cirros:0.6");
    expect(ref.registry).toBe("docker.io");
    expect(ref.repository).toBe("library/cirros");
    expect(formatReference(ref)).toBe("docker.io/library/cirros:0.6");
  });

  const bad: Array<[string, RegExp]> = [
    ["", /empty/],
    ["UPPER", /component "UPPER" is invalid \(repository names are lower case\)/],
    ["ns/Upper", /"Upper" is invalid \(repository names are lower case\)/],
    ["x:", /tag after ":" is empty/],
    ["x:.bad", /tag ".bad" is invalid/],
    [`x:${"t".repeat(129)}`, /tag .* is invalid/],
    ["x@", /digest after "@" is empty/],
    ["x@sha256:abc", /not a sha256 digest/],
    [`x@sha512:${"a".repeat(128)}`, /algorithm "sha512" is not supported/],
    [`x@sha256:${"A".repeat(64)}`, /not a sha256 digest/],
    ["x@notadigest", /is not a digest/],
    ["host:5000/", /repository name is empty/],
    ["a//b", /empty path component/],
    ["a/-b", /component "-b" is invalid/],
    ["https://host/x", /URL scheme/],
    ["a b", /white space/],
    ["bad_host:99999/x", /registry host "bad_host:99999" is invalid/],
    [`${"a".repeat(300)}`, /longer than 255/],
  ];
  for (const [input, reason] of bad) {
    test(`rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
      let caught: unknown;
      try {
        parseReference(input, { defaultRegistry: "127.0.0.1:5000" });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidReferenceError);
      expect((caught as Error).message).toStartWith(`Cannot parse image reference "${input.trim()}": `);
      expect((caught as Error).message).toMatch(reason);
    });
  }

  test("rejects an invalid default registry", () => {
    expect(() => parseReference("x", { defaultRegistry: "http://x" })).toThrow(/default registry "http:\/\/x"/);
  });
});
