/** Domain XML from a VMI spec and the launcher's facts. Pure: no I/O anywhere below. */
export { buildDomain, domainXml } from "./builder.ts";
export { DomainError } from "./context.ts";
export type { LauncherFacts, PreparedInterface, PreparedVolume, VmiIdentity } from "./facts.ts";
export { domainName } from "./configurators/identity.ts";
export { placeholderFacts } from "./placeholder-facts.ts";
export { vmiOf, type VmiOf } from "./vmi-of.ts";
export { deviceNames, type DeviceNames } from "./device-names.ts";
