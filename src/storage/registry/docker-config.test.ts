import { describe, expect, test } from "bun:test";
import { credentialsFor, InvalidDockerConfigError, normalizeRegistryKey, parseDockerConfigJson } from "./docker-config.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("parseDockerConfigJson", () => {
  test("auth field, text input", () => {
    const config = parseDockerConfigJson(JSON.stringify({ auths: { "127.0.0.1:5000": { auth: b64("alice:s3:cr:et") } } }));
    expect(credentialsFor(config, "127.0.0.1:5000")).toEqual({ username: "alice", password: "s3:cr:et" });
    expect(credentialsFor(config, "127.0.0.1:5001")).toBeUndefined();
  });

  test("username/password fields, object and bytes input, scheme and docker hub keys", () => {
    const doc = {
      auths: {
        "https://index.docker.io/v1/": { username: "bob", password: "pw" },
        "http://reg.example:8443/v2/": { username: "carol", password: "pw2", email: "x@y" },
      },
    };
    for (const input of [doc, new TextEncoder().encode(JSON.stringify(doc))]) {
      const config = parseDockerConfigJson(input);
      expect(credentialsFor(config, "docker.io")).toEqual({ username: "bob", password: "pw" });
      expect(credentialsFor(config, "registry-1.docker.io")).toEqual({ username: "bob", password: "pw" });
      expect(credentialsFor(config, "reg.example:8443", "a/b")).toEqual({ username: "carol", password: "pw2" });
    }
  });

  test("legacy .dockercfg shape and registrytoken", () => {
    const config = parseDockerConfigJson({ "quay.io": { registrytoken: "tok" } });
    expect(credentialsFor(config, "quay.io")).toEqual({ registryToken: "tok" });
  });

  test("longest path key wins", () => {
    const config = parseDockerConfigJson({
      auths: { "reg.io": { auth: b64("a:1") }, "reg.io/team": { auth: b64("b:2") }, "reg.io/team/app": { auth: b64("c:3") } },
    });
    expect(credentialsFor(config, "reg.io", "team/app")?.username).toBe("c");
    expect(credentialsFor(config, "reg.io", "team/other")?.username).toBe("b");
    expect(credentialsFor(config, "reg.io", "teams/x")?.username).toBe("a");
    expect(credentialsFor(undefined, "reg.io")).toBeUndefined();
  });

  test("normalizeRegistryKey", () => {
    expect(normalizeRegistryKey("https://Index.Docker.io/v1/")).toBe("docker.io");
    expect(normalizeRegistryKey("127.0.0.1:5000")).toBe("127.0.0.1:5000");
    expect(normalizeRegistryKey("http://Reg:1/ns/")).toBe("reg:1/ns");
  });

  const bad: Array<[unknown, RegExp]> = [
    ["not json", /not JSON/],
    ["[]", /not a JSON object/],
    [{ auths: [] }, /"auths" is not an object/],
    [{ auths: { h: "x" } }, /entry "h" is not an object/],
    [{ auths: { h: { auth: "!!!" } } }, /not base64/],
    [{ auths: { h: { auth: b64("nocolon") } } }, /does not decode to "user:password"/],
    [{ auths: { h: { username: "u" } } }, /username but no password/],
    [{ auths: { h: { password: "p" } } }, /password but no username/],
    [{ auths: { h: {} } }, /neither/],
    [{ auths: { h: { username: 3, password: "p" } } }, /"username" of "h" is not a string/],
    [{ auths: { h: { auth: b64("a:b"), username: "c" } } }, /different users/],
  ];
  for (const [input, reason] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      expect(() => parseDockerConfigJson(input)).toThrow(InvalidDockerConfigError);
      expect(() => parseDockerConfigJson(input)).toThrow(reason);
    });
  }

  test("errors never contain the password", () => {
    try {
      parseDockerConfigJson({ auths: { h: { auth: b64("user:supersecret"), username: "other" } } });
    } catch (error) {
      expect((error as Error).message).not.toContain("supersecret");
    }
  });
});
