import { expect, test } from "bun:test";
import { allowedName, remoteUser, requestHeaderConfig } from "./request-header.ts";

const data = {
  "requestheader-client-ca-file": "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
  "requestheader-allowed-names": '["front-proxy-client"]',
  "requestheader-username-headers": '["X-Remote-User"]',
  "requestheader-group-headers": '["X-Remote-Group"]',
  "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
};

test("the API server's ConfigMap is read; a missing CA or a malformed list is refused naming the key", () => {
  const c = requestHeaderConfig(data);
  expect(c.allowedNames).toEqual(["front-proxy-client"]);
  expect(c.extraPrefixes).toEqual(["x-remote-extra-"]);
  expect(allowedName(c, "front-proxy-client")).toBe(true);
  expect(allowedName(c, "admin")).toBe(false);
  expect(allowedName(c, undefined)).toBe(false);
  expect(allowedName({ ...c, allowedNames: [] }, "admin")).toBe(true);
  expect(() => requestHeaderConfig({ ...data, "requestheader-client-ca-file": "" })).toThrow('"requestheader-client-ca-file" is missing');
  expect(() => requestHeaderConfig({ ...data, "requestheader-allowed-names": "front-proxy-client" })).toThrow('"requestheader-allowed-names" is not a JSON list');
  expect(() => requestHeaderConfig({ ...data, "requestheader-username-headers": "[]" })).toThrow("names no header");
});

test("the user, groups and extra come from the headers the ConfigMap names", () => {
  const c = requestHeaderConfig(data);
  const h = new Headers();
  h.set("X-Remote-User", "alice");
  h.append("X-Remote-Group", "devs");
  h.append("X-Remote-Group", "system:authenticated");
  h.set("X-Remote-Extra-Scopes%2fA", "one");
  expect(remoteUser(c, h)).toEqual({ user: "alice", groups: ["devs", "system:authenticated"], extra: { "scopes/a": ["one"] } });
  expect(remoteUser(c, new Headers({ "X-Remote-Group": "devs" }))).toBeUndefined();
});
