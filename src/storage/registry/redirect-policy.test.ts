import { describe, expect, test } from "bun:test";
import { UnsafeResponseError } from "./errors.ts";
import { mayCarryCredentials, redirectTarget, tokenRealmProblem } from "./redirect-policy.ts";

const refused = (from: string, location: string): string => {
  try {
    redirectTarget(new URL(from), location, 'the manifest "latest"');
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafeResponseError);
    return (error as Error).message;
  }
  throw new Error(`expected ${location} to be refused`);
};

describe("redirectTarget", () => {
  test("follows http and https, relative locations resolved against the current URL", () => {
    const from = new URL("https://reg.example:5000/v2/a/manifests/latest");
    expect(redirectTarget(from, "https://storage.example/blob?sig=1", "x").href).toBe("https://storage.example/blob?sig=1");
    expect(redirectTarget(from, "/v2/b/manifests/latest", "x").href).toBe("https://reg.example:5000/v2/b/manifests/latest");
    expect(redirectTarget(new URL("http://127.0.0.1:5000/v2/a/blobs/x"), "http://127.0.0.1:6000/b", "x").href).toBe("http://127.0.0.1:6000/b");
    expect(redirectTarget(new URL("http://127.0.0.1:5000/v2/a/blobs/x"), "https://storage.example/b", "x").protocol).toBe("https:");
  });

  test("refuses every scheme but http and https", () => {
    for (const location of ["file:///etc/shadow", "file:///dev/zero", "data:text/plain,hi", "s3://bucket/key", "blob:x", "ftp://h/x", "unix:///run/x.sock"]) {
      const message = refused("http://127.0.0.1:5000/v2/a/manifests/latest", location);
      expect(message).toContain("only http and https redirects are followed");
      expect(message).toContain('the manifest "latest"');
      expect(message).toContain('"127.0.0.1:5000"');
    }
  });

  test("refuses an https to http downgrade, also to the same host", () => {
    expect(refused("https://reg.example/v2/a/blobs/x", "http://reg.example/v2/a/blobs/x")).toContain("from https to plain http");
    expect(refused("https://reg.example/v2/a/blobs/x", "http://storage.example/x")).toContain('"storage.example"');
  });

  test("refuses credentials in the target and unparsable locations", () => {
    expect(refused("https://reg.example/x", "https://user:pw@other.example/x")).toContain("credentials");
    expect(refused("https://reg.example/x", "http://[::1")).toContain("not a URL");
  });
});

describe("mayCarryCredentials", () => {
  test("only the same scheme, host and port", () => {
    const origin = new URL("https://reg.example:5000").origin;
    expect(mayCarryCredentials(new URL("https://reg.example:5000/v2/x"), origin)).toBe(true);
    expect(mayCarryCredentials(new URL("https://reg.example:5001/v2/x"), origin)).toBe(false);
    expect(mayCarryCredentials(new URL("http://reg.example:5000/v2/x"), origin)).toBe(false);
    expect(mayCarryCredentials(new URL("https://storage.reg.example:5000/x"), origin)).toBe(false);
  });
});

describe("tokenRealmProblem", () => {
  test("https always, http only for an insecure registry, nothing else", () => {
    expect(tokenRealmProblem(new URL("https://auth.example/token"), false)).toBeNull();
    expect(tokenRealmProblem(new URL("http://auth.example/token"), true)).toBeNull();
    expect(tokenRealmProblem(new URL("http://auth.example/token"), false)).toContain("plain http and the registry is not marked insecure");
    expect(tokenRealmProblem(new URL("file:///etc/shadow"), true)).toContain("not an http or https URL");
  });
});
