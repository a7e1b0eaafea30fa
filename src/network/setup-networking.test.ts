/** setupNetworking's refusals happen before any command runs, so they are unit-testable. */
import { expect, test } from "bun:test";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { setupNetworking } from "./setup-networking.ts";

const spec = (interfaces: NonNullable<VmiSpec["domain"]["devices"]["interfaces"]>, networks: NonNullable<VmiSpec["networks"]>): VmiSpec => ({
  domain: { devices: { interfaces } },
  networks,
});

test.each<[string, VmiSpec, RegExp]>([
  // Specs come admitted; what admission cannot know is refused here.
  ["a bad pod interface name", spec([{ name: "a", bridge: {} }], [{ name: "a", pod: {} }]), /podInterface "a\/b"/],
  ["an interface that was not admitted (no binding)", spec([{ name: "a" }], [{ name: "a", pod: {} }]), /interface "a" sets no binding or several; the spec was not admitted/],
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
