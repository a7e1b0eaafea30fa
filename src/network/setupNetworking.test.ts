/** setupNetworking's refusals happen before any command runs, so they are unit-testable. */
import { expect, test } from "bun:test";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { setupNetworking } from "./setupNetworking.ts";

const spec = (interfaces: NonNullable<VmiSpec["domain"]["devices"]["interfaces"]>, networks: NonNullable<VmiSpec["networks"]>): VmiSpec => ({
  domain: { devices: { interfaces } },
  networks,
});

test.each<[string, VmiSpec, RegExp]>([
  ["an interface without its network", spec([{ name: "a", masquerade: {} }], [{ name: "b", pod: {} }]), /interface "a" has no network of the same name/],
  [
    "two interfaces on the pod network",
    spec([{ name: "a", masquerade: {} }, { name: "b", masquerade: {} }], [{ name: "a", pod: {} }, { name: "b", pod: {} }]),
    /interfaces "a" and "b" are both on the pod network/,
  ],
  ["a port out of range", spec([{ name: "a", masquerade: {}, ports: [{ port: 65536 }] }], [{ name: "a", pod: {} }]), /ports\[0\]\.port "65536" is not in 1\.\.65535/],
  ["no binding", spec([{ name: "a" }], [{ name: "a", pod: {} }]), /interface "a" must set exactly one binding/],
  ["a network without source", spec([{ name: "a", bridge: {} }], [{ name: "a" }]), /network "a" has no source/],
  ["a bad pod interface name", spec([{ name: "a", bridge: {} }], [{ name: "a", pod: {} }]), /podInterface "a\/b"/],
])("refuses %s", async (what, s, error) => {
  const opts = what === "a bad pod interface name" ? { podInterface: "a/b", dhcp: false } : { dhcp: false };
  const e = await setupNetworking(s, opts).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  expect((e as Error).message).toMatch(/^Cannot set up networking: /);
  expect((e as Error).message).toMatch(error);
});

test("no interfaces and autoattachPodInterface false: nothing to do", async () => {
  const net = await setupNetworking({ domain: { devices: { autoattachPodInterface: false } } }, { dhcp: false });
  expect(net.interfaces).toEqual({});
  expect(net.dhcpServers).toEqual({});
  await net.teardown();
});
