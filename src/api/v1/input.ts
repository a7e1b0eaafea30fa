/** kubevirt.io/v1 Input: an input device the guest sees (a tablet, for absolute pointing on a graphical console). */
import * as v from "valibot";
import { doc } from "./primitives.ts";

export const inputBuses = ["usb", "virtio"] as const;

export const input = v.strictObject({
  name: doc(v.string(), "Name of the input device, a DNS-1123 label unique among the inputs."),
  type: doc(v.picklist(["tablet"]), "Kind of device: tablet (an absolute pointer, so a graphical console's cursor follows the mouse)."),
  bus: v.optional(doc(v.picklist(inputBuses), "Bus the device hangs on: usb (brings a USB controller) or virtio. Default: usb.")),
});
