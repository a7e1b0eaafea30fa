/** The handler's device plugins for /dev/kvm, /dev/net/tun, /dev/vhost-net (device-plugins.ts). */
export { startDevicePlugins, type DevicePlugins, type DevicePluginsConfig } from "./device-plugins.ts";
