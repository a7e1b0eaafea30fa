import pkg from "../package.json" with { type: "json" };

/** The bunvirt version, taken from package.json at build time. */
export const version: string = pkg.version;
