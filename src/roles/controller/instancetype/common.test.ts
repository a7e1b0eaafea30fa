import { expect, test } from "bun:test";
import { validate } from "../../../api/validate.ts";
import { documentSource } from "../../../api/instancetype/document-source.ts";
import { commonInstancetypes } from "./common.ts";

test("every shipped instancetype and preference is valid, under a unique name", () => {
  for (const obj of commonInstancetypes) expect({ name: obj.metadata.name, result: validate(obj) }).toMatchObject({ name: obj.metadata.name, result: { ok: true } });
  const names = commonInstancetypes.map((o) => `${o.kind}/${o.metadata.name}`);
  expect(new Set(names).size).toBe(names.length);
});

test("each size fits each preference's requirements, except a size below a preference's least memory", () => {
  const valids = commonInstancetypes.map((o) => {
    const r = validate(o);
    if (!r.ok) throw new Error("invalid");
    return r.valid;
  });
  const source = documentSource(valids);
  const vm = (it: string, pref: string) => ({
    apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "v", namespace: "default" },
    spec: {
      runStrategy: "Always", instancetype: { name: it }, preference: { name: pref },
      template: { spec: { domain: { devices: { disks: [{ name: "root" }] } }, volumes: [{ name: "root", containerDisk: { image: "x" } }] } },
    },
  });
  const medium = validate(vm("u1.medium", "fedora"), source);
  expect(medium.ok && medium.valid.key === "v1/VirtualMachine" && medium.valid.expanded?.spec.domain).toMatchObject({ memory: { guest: "4Gi" }, devices: { disks: [{ name: "root", disk: { bus: "virtio" } }], rng: {} } });
  const win = validate(vm("u1.large", "windows.2k22"), source);
  expect(win.ok && win.valid.key === "v1/VirtualMachine" && win.valid.expanded?.spec.domain).toMatchObject({
    devices: { disks: [{ disk: { bus: "sata" } }] }, firmware: { bootloader: { efi: { secureBoot: true } } }, features: { smm: {} }, clock: { utc: {} },
  });
  const small = validate(vm("u1.nano", "windows.2k22"), source);
  expect(small.ok).toBe(false);
  expect(!small.ok && small.problems[0]!.rule).toContain("4Gi");
});
