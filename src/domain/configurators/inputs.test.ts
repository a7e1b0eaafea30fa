import { expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { inputs } from "./inputs.ts";

test("no usb device: no USB controller at all, no inputs", () => {
  expect(render(inputs(ctxOf({ devices: { disks: [{ name: "a", disk: { bus: "sata" } }] } })))).toEqual({ controllers: ["<controller type='usb' model='none'/>"], inputs: [] });
});

test("a usb disk brings the xhci controller", () => {
  expect(render(inputs(ctxOf({ devices: { disks: [{ name: "a", disk: { bus: "usb" } }] } }))).controllers).toEqual(["<controller type='usb' index='0' model='qemu-xhci'/>"]);
});

test("a tablet is on usb by default and brings the controller; a virtio tablet needs none", () => {
  expect(render(inputs(ctxOf({ devices: { inputs: [{ name: "tablet", type: "tablet" }] } })))).toEqual({
    controllers: ["<controller type='usb' index='0' model='qemu-xhci'/>"],
    inputs: ["<input type='tablet' bus='usb'><alias name='ua-tablet'/></input>"],
  });
  expect(render(inputs(ctxOf({ devices: { inputs: [{ name: "t", type: "tablet", bus: "virtio" }] } })))).toEqual({
    controllers: ["<controller type='usb' model='none'/>"],
    inputs: ["<input type='tablet' bus='virtio'><alias name='ua-t'/></input>"],
  });
});
