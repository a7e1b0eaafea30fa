import { describe, expect, test } from "bun:test";
import { RegistryClient } from "./registry-client.ts";

describe("RegistryClient credentials", () => {
  /** A registry at reg.test that wants Basic auth and redirects to storage.test; records what each request carried. */
  function client(insecure: boolean, realm?: string): { client: RegistryClient; seen: Array<[string, string | null]> } {
    const seen: Array<[string, string | null]> = [];
    const fetch = async (url: string, init: BunFetchRequestInit): Promise<Response> => {
      const auth = new Headers(init.headers as Record<string, string>).get("authorization");
      seen.push([url, auth]);
      const u = new URL(url);
      if (u.host === "reg.test") {
        if (auth === null) {
          const challenge = realm !== undefined ? `Bearer realm="${realm}",service="s"` : 'Basic realm="r"';
          return new Response("{}", { status: 401, headers: { "www-authenticate": challenge } });
        }
        return new Response(null, { status: 307, headers: { location: `${u.protocol}//storage.test/blob` } });
      }
      if (u.pathname === "/token") return Response.json({ token: "tok" });
      return new Response("data");
    };
    const c = new RegistryClient({
      registry: "reg.test",
      repository: "vm/x",
      insecure,
      credentials: { username: "u", password: "p" },
      fetch,
    });
    return { client: c, seen };
  }

  test("Basic credentials go to the registry, not to where it redirects", async () => {
    const { client: c, seen } = client(true);
    const response = await c.get("blobs/sha256:x", { what: "blob" });
    expect(new TextDecoder().decode((await response.body.read()).value)).toBe("data");
    expect(seen.map(([url, auth]) => [new URL(url).host, auth?.split(" ")[0] ?? null])).toEqual([
      ["reg.test", null],
      ["reg.test", "Basic"],
      ["storage.test", null],
    ]);
  });

  test("a token realm over plain http is refused for an https registry, before anything is sent there", async () => {
    const { client: c, seen } = client(false, "http://auth.test/token");
    await expect(c.get("manifests/v1", { what: "the manifest" })).rejects.toThrow('the token realm "http://auth.test/token" is plain http and the registry is not marked insecure');
    expect(seen.map(([url]) => new URL(url).host)).toEqual(["reg.test"]);
  });

  test("the token realm gets the credentials, the registry the token", async () => {
    const { client: c, seen } = client(true, "http://auth.test/token");
    await c.get("manifests/v1", { what: "the manifest" });
    expect(seen.map(([url, auth]) => [new URL(url).host, auth?.split(" ")[0] ?? null])).toEqual([
      ["reg.test", null],
      ["auth.test", "Basic"],
      ["reg.test", "Bearer"],
      ["storage.test", null],
    ]);
  });
});
