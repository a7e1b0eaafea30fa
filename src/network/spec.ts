/** The slices of the VMI spec the network code reads. */
import type { VmiSpec } from "../api/v1/vmi.ts";

export type Interface = NonNullable<VmiSpec["domain"]["devices"]["interfaces"]>[number];
export type Network = NonNullable<VmiSpec["networks"]>[number];
export type Port = NonNullable<Interface["ports"]>[number];
