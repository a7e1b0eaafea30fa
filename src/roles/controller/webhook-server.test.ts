import { expect, test } from "bun:test";
import { webhookConfigurations } from "./webhook-server.ts";

type Hook = { name: string; matchConditions: { name: string; expression: string }[] };
const hooks = (c: object): Hook[] => (c as { webhooks: Hook[] }).webhooks;

test("the controller's own VMI creates skip the VMI webhooks; VM webhooks and other users' creates do not", () => {
  const { validating, mutating } = webhookConfigurations({ url: "https://h:1" }, "PEM", "system:serviceaccount:bunvirt:bunvirt-controller");
  for (const h of [...hooks(validating), ...hooks(mutating)]) {
    const own = h.matchConditions.find((m) => m.name === "not-the-controllers-own-create");
    if (h.name.startsWith("virtualmachineinstances.")) {
      expect(own?.expression).toContain(`request.userInfo.username == "system:serviceaccount:bunvirt:bunvirt-controller"`);
      expect(own?.expression).toContain("r.kind == 'VirtualMachine'");
    } else {
      expect(own).toBeUndefined();
    }
  }
  // Its user unknown: every create goes through.
  const plain = webhookConfigurations({ url: "https://h:1" }, "PEM");
  expect([...hooks(plain.validating), ...hooks(plain.mutating)].flatMap((h) => h.matchConditions.map((m) => m.name))).not.toContain("not-the-controllers-own-create");
});
