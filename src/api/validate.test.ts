import { describe, expect, test } from "bun:test";
import { validate } from "./validate.ts";

type Obj = Record<string, any>;

/** A valid VirtualMachine touching most fields; each bad case breaks one rule. */
function goodVm(): Obj {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "vm1" },
    spec: {
      runStrategy: "Always",
      template: {
        spec: {
          hostname: "vm1",
          domain: {
            cpu: { cores: 1 },
            resources: { requests: { memory: "64M", cpu: "500m" }, limits: { memory: "128M", cpu: "1" } },
            devices: {
              disks: [
                { name: "root", disk: { bus: "virtio" }, bootOrder: 1 },
                { name: "cloudinit", disk: { bus: "virtio" } },
              ],
              interfaces: [{ name: "default", masquerade: {}, macAddress: "02:00:00:00:00:01", ports: [{ port: 22 }] }],
            },
          },
          networks: [{ name: "default", pod: {} }],
          volumes: [
            { name: "root", containerDisk: { image: "example/disk:1", path: "/disk/disk.img" } },
            { name: "cloudinit", cloudInitNoCloud: { userData: "#cloud-config\n" } },
          ],
        },
      },
    },
  };
}

const T = "spec.template.spec";
const tspec = (vm: Obj): Obj => vm.spec.template.spec;

const cases: [string, (vm: Obj) => void, string, RegExp][] = [
  ["unknown field", (vm) => (tspec(vm).domain.devices.disks[0].disk.fancy = true), `${T}.domain.devices.disks[0].disk.fancy`, /not supported by bunvirt/],
  ["unknown top-level spec field", (vm) => (vm.spec.updateVolumesStrategy = "Migration"), "spec.updateVolumesStrategy", /not supported/],
  ["wrong type", (vm) => (tspec(vm).terminationGracePeriodSeconds = "5"), `${T}.terminationGracePeriodSeconds`, /must be a number/],
  ["unknown bus", (vm) => (tspec(vm).domain.devices.disks[1].disk.bus = "ide"), `${T}.domain.devices.disks[1].disk.bus`, /must be one of "virtio", "sata", "scsi", "usb"/],
  ["unknown runStrategy", (vm) => (vm.spec.runStrategy = "Sometimes"), "spec.runStrategy", /must be one of "Always"/],
  ["missing disk name", (vm) => delete tspec(vm).domain.devices.disks[0].name, `${T}.domain.devices.disks[0].name`, /is required/],
  ["duplicate volume name", (vm) => tspec(vm).volumes.push({ name: "root", emptyDisk: { capacity: "1Gi" } }), `${T}.volumes[2].name`, /must be unique/],
  ["duplicate disk name", (vm) => tspec(vm).domain.devices.disks.push({ name: "root" }), `${T}.domain.devices.disks[2].name`, /disk names must be unique/],
  ["disk without volume", (vm) => tspec(vm).domain.devices.disks.push({ name: "data" }), `${T}.domain.devices.disks[2].name`, /has no volume/],
  ["volume with two sources", (vm) => (tspec(vm).volumes[0].emptyDisk = { capacity: "1Gi" }), `${T}.volumes[0]`, /has 2 sources \(containerDisk, emptyDisk\)/],
  ["volume without source", (vm) => delete tspec(vm).volumes[0].containerDisk, `${T}.volumes[0]`, /has no source/],
  ["disk name not DNS-1123", (vm) => { tspec(vm).domain.devices.disks[0].name = "Root_Disk"; tspec(vm).volumes[0].name = "Root_Disk"; }, `${T}.domain.devices.disks[0].name`, /DNS-1123 label/],
  ["virtio cdrom", (vm) => (tspec(vm).domain.devices.disks[1] = { name: "cloudinit", cdrom: { bus: "virtio" } }), `${T}.domain.devices.disks[1].cdrom.bus`, /not allowed for a cdrom/],
  ["read-only sata disk", (vm) => (tspec(vm).domain.devices.disks[1].disk = { bus: "sata", readonly: true }), `${T}.domain.devices.disks[1].disk.readonly`, /sata disk cannot be read-only/],
  ["disk and cdrom both", (vm) => (tspec(vm).domain.devices.disks[1].cdrom = {}), `${T}.domain.devices.disks[1]`, /at most one of disk, cdrom, lun/],
  ["containerDisk path relative", (vm) => (tspec(vm).volumes[0].containerDisk.path = "disk/disk.img"), `${T}.volumes[0].containerDisk.path`, /absolute path/],
  ["containerDisk path with ..", (vm) => (tspec(vm).volumes[0].containerDisk.path = "/disk/../etc/shadow"), `${T}.volumes[0].containerDisk.path`, /without "\.\."/],
  ["containerDisk path /", (vm) => (tspec(vm).volumes[0].containerDisk.path = "/"), `${T}.volumes[0].containerDisk.path`, /not "\/"/],
  ["kernelPath relative", (vm) => (tspec(vm).domain.firmware = { kernelBoot: { container: { image: "k", kernelPath: "vmlinuz" } } }), `${T}.domain.firmware.kernelBoot.container.kernelPath`, /absolute path/],
  ["initrdPath with ..", (vm) => (tspec(vm).domain.firmware = { kernelBoot: { container: { image: "k", kernelPath: "/vmlinuz", initrdPath: "/boot/../../x" } } }), `${T}.domain.firmware.kernelBoot.container.initrdPath`, /without "\.\."/],
  ["user data too long", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud.userData = "x".repeat(2049)), `${T}.volumes[1].cloudInitNoCloud.userData`, /2049 bytes; at most 2048/],
  ["user data base64 too long", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud = { userDataBase64: Buffer.alloc(2049).toString("base64") }), `${T}.volumes[1].cloudInitNoCloud.userDataBase64`, /2049 bytes after base64 decoding/],
  ["network data too long", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud.networkData = "é".repeat(1025)), `${T}.volumes[1].cloudInitNoCloud.networkData`, /2050 bytes; at most 2048/],
  ["two user data sources", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud.secretRef = { name: "s" }), `${T}.volumes[1].cloudInitNoCloud`, /userData and secretRef .*set only one/],
  ["two network data sources", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud = { networkData: "a", networkDataBase64: "YQ==" }), `${T}.volumes[1].cloudInitNoCloud`, /networkData and networkDataBase64/],
  ["bad base64", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud = { userDataBase64: "not base64!" }), `${T}.volumes[1].cloudInitNoCloud.userDataBase64`, /not valid base64/],
  ["cloud-init without data", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud = {}), `${T}.volumes[1].cloudInitNoCloud`, /needs user data or network data/],
  ["no memory at all", (vm) => (tspec(vm).domain.resources = {}), `${T}.domain.resources.requests.memory`, /memory must be given/],
  ["memory request below 1M", (vm) => (tspec(vm).domain.resources = { requests: { memory: "999k" } }), `${T}.domain.resources.requests.memory`, /at least 1M/],
  ["memory request above limit", (vm) => (tspec(vm).domain.resources.requests.memory = "256M"), `${T}.domain.resources.requests.memory`, /requests must not exceed limits/],
  ["guest memory above limit", (vm) => (tspec(vm).domain.memory = { guest: "1Gi" }), `${T}.domain.memory.guest`, /must not exceed/],
  ["memory not a quantity", (vm) => (tspec(vm).domain.resources.requests.memory = "lots"), `${T}.domain.resources.requests.memory`, /must be a quantity/],
  ["cpu request above limit", (vm) => (tspec(vm).domain.resources.requests.cpu = "2"), `${T}.domain.resources.requests.cpu`, /requests must not exceed limits/],
  ["bootOrder zero", (vm) => (tspec(vm).domain.devices.disks[1].bootOrder = 0), `${T}.domain.devices.disks[1].bootOrder`, /at least 1/],
  ["bootOrder duplicate", (vm) => (tspec(vm).domain.devices.interfaces[0].bootOrder = 1), `${T}.domain.devices.interfaces[0].bootOrder`, /already used by "root"/],
  ["bad MAC", (vm) => (tspec(vm).domain.devices.interfaces[0].macAddress = "02:00:00:00:00"), `${T}.domain.devices.interfaces[0].macAddress`, /"02:00:00:00:00" is not a MAC address/],
  ["multicast MAC", (vm) => (tspec(vm).domain.devices.interfaces[0].macAddress = "01-00-5e-00-00-01"), `${T}.domain.devices.interfaces[0].macAddress`, /multicast MAC address .*libvirt cannot use/],
  ["masquerade bridge's MAC", (vm) => (tspec(vm).domain.devices.interfaces[0].macAddress = "0200.0000.0000"), `${T}.domain.devices.interfaces[0].macAddress`, /reserved for the in-pod bridge/],
  ["port 0", (vm) => (tspec(vm).domain.devices.interfaces[0].ports[0].port = 0), `${T}.domain.devices.interfaces[0].ports[0].port`, /at least 1/],
  ["port 65536", (vm) => (tspec(vm).domain.devices.interfaces[0].ports[0].port = 65536), `${T}.domain.devices.interfaces[0].ports[0].port`, /at most 65535/],
  ["port protocol SCTP", (vm) => (tspec(vm).domain.devices.interfaces[0].ports[0].protocol = "SCTP"), `${T}.domain.devices.interfaces[0].ports[0].protocol`, /must be one of "TCP", "UDP"/],
  ["runStrategy and running", (vm) => (vm.spec.running = true), "spec.running", /mutually exclusive/],
  ["hostname not DNS-1123", (vm) => (tspec(vm).hostname = "My_Host"), `${T}.hostname`, /DNS-1123 label/],
  ["interface without network", (vm) => (tspec(vm).networks = [{ name: "other", pod: {} }]), `${T}.domain.devices.interfaces[0].name`, /no network of the same name/],
  ["interface with two bindings", (vm) => (tspec(vm).domain.devices.interfaces[0].bridge = {}), `${T}.domain.devices.interfaces[0]`, /exactly one binding/],
  ["masquerade vmNetworkCIDR with host bits", (vm) => (tspec(vm).networks[0].pod = { vmNetworkCIDR: "10.0.2.1/24" }), `${T}.networks[0].pod.vmNetworkCIDR`, /"10\.0\.2\.1\/24" has host bits set/],
  ["masquerade vmNetworkCIDR too small", (vm) => (tspec(vm).networks[0].pod = { vmNetworkCIDR: "10.0.2.0/31" }), `${T}.networks[0].pod.vmNetworkCIDR`, /too small/],
  ["masquerade vmIPv6NetworkCIDR not IPv6", (vm) => (tspec(vm).networks[0].pod = { vmIPv6NetworkCIDR: "fd10::zz/120" }), `${T}.networks[0].pod.vmIPv6NetworkCIDR`, /is not an IPv6 CIDR/],
  ["two pod networks", (vm) => { tspec(vm).networks.push({ name: "b", pod: {} }); tspec(vm).domain.devices.interfaces.push({ name: "b", masquerade: {} }); }, `${T}.networks`, /at most one network may be the pod network/],
  ["secure boot with SMM off", (vm) => { tspec(vm).domain.firmware = { bootloader: { efi: {} } }; tspec(vm).domain.features = { smm: { enabled: false } }; }, `${T}.domain.features.smm.enabled`, /SecureBoot requires SMM/],
  ["secure boot on an i440fx machine", (vm) => { tspec(vm).domain.firmware = { bootloader: { efi: { secureBoot: true } } }; tspec(vm).domain.machine = { type: "pc-i440fx-7.2" }; }, `${T}.domain.machine.type`, /needs a q35 machine/],
  ["kernel boot without a kernel", (vm) => (tspec(vm).domain.firmware = { kernelBoot: { container: { image: "k", initrdPath: "/initrd" } } }), `${T}.domain.firmware.kernelBoot.container.kernelPath`, /not an initrd alone/],
  ["bios and efi", (vm) => (tspec(vm).domain.firmware = { bootloader: { bios: {}, efi: {} } }), `${T}.domain.firmware.bootloader`, /bios or efi, not both/],
  // Values that reach the domain XML (issue 9).
  ["serial with a space", (vm) => (tspec(vm).domain.devices.disks[0].serial = "abc def"), `${T}.domain.devices.disks[0].serial`, /characters A-Z a-z 0-9 _ \. \+ -/],
  ["serial with XML metacharacters", (vm) => (tspec(vm).domain.devices.disks[0].serial = "a'b<c>&"), `${T}.domain.devices.disks[0].serial`, /characters A-Z a-z 0-9/],
  ["empty serial", (vm) => (tspec(vm).domain.devices.disks[0].serial = ""), `${T}.domain.devices.disks[0].serial`, /at least one/],
  ["serial of 257 characters", (vm) => (tspec(vm).domain.devices.disks[0].serial = "s".repeat(257)), `${T}.domain.devices.disks[0].serial`, /at most 256 characters/],
  ["NUL in the hostname", (vm) => (tspec(vm).hostname = "vm\u0000"), `${T}.hostname`, /contains U\+0000 at character 3, which XML cannot carry/],
  ["control character in the cpu model", (vm) => (tspec(vm).domain.cpu.model = "Haswell\u001b[0m"), `${T}.domain.cpu.model`, /contains U\+001B/],
  ["U+FFFE in kernelArgs", (vm) => (tspec(vm).domain.firmware = { kernelBoot: { kernelArgs: "console=ttyS0 \uFFFE", container: { image: "k", kernelPath: "/vmlinuz" } } }), `${T}.domain.firmware.kernelBoot.kernelArgs`, /contains U\+FFFE/],
  ["lone surrogate in the firmware serial", (vm) => (tspec(vm).domain.firmware = { serial: "abc\uD800" }), `${T}.domain.firmware.serial`, /contains U\+D800/],
  ["lone low surrogate in user data", (vm) => (tspec(vm).volumes[1].cloudInitNoCloud.userData = "#cloud-config\n\uDC00"), `${T}.volumes[1].cloudInitNoCloud.userData`, /contains U\+DC00/],
  ["control character in a nodeSelector key", (vm) => (tspec(vm).nodeSelector = { "a\u0007": "b" }), `${T}.nodeSelector`, /a key contains U\+0007/],
  ["control character in metadata.uid", (vm) => (vm.metadata.uid = "x\u000by"), "metadata.uid", /contains U\+000B/],
  ["firmware uuid not a UUID", (vm) => (tspec(vm).domain.firmware = { uuid: "not-a-uuid</uuid>" }), `${T}.domain.firmware.uuid`, /must be a UUID/],
  ["machine type outside libvirt's pattern", (vm) => (tspec(vm).domain.machine = { type: "q35' evil='1" }), `${T}.domain.machine.type`, /characters A-Z a-z 0-9 _ \. -/],
  ["empty machine type", (vm) => (tspec(vm).domain.machine = { type: "" }), `${T}.domain.machine.type`, /at least one/],
  ["interface name outside KubeVirt's rule", (vm) => { tspec(vm).domain.devices.interfaces[0].name = "a.b"; tspec(vm).networks[0].name = "a.b"; }, `${T}.domain.devices.interfaces[0].name`, /characters A-Z a-z 0-9 - _/],
  ["memory request 1e30", (vm) => { tspec(vm).domain.resources.requests.memory = "1e30"; tspec(vm).domain.resources.limits.memory = "1e30"; }, `${T}.domain.resources.requests.memory`, /more than 4Pi \(4503599627370496 bytes\)/],
  ["memory request 1e400 (Infinity)", (vm) => (tspec(vm).domain.resources.requests.memory = "1e400"), `${T}.domain.resources.requests.memory`, /must be a quantity/],
  ["memory limit above 4Pi", (vm) => (tspec(vm).domain.resources.limits.memory = "5Pi"), `${T}.domain.resources.limits.memory`, /more than 4Pi/],
  ["guest memory above 4Pi", (vm) => { tspec(vm).domain.memory = { guest: 2 ** 53 }; delete tspec(vm).domain.resources.limits; }, `${T}.domain.memory.guest`, /more than 4Pi/],
  ["negative memory limit", (vm) => (tspec(vm).domain.resources.limits.memory = "-128M"), `${T}.domain.resources.limits.memory`, /is negative/],
  ["negative cpu request", (vm) => (tspec(vm).domain.resources.requests.cpu = "-1"), `${T}.domain.resources.requests.cpu`, /is negative/],
  ["emptyDisk capacity 1e30", (vm) => { tspec(vm).volumes.push({ name: "scratch", emptyDisk: { capacity: "1e30" } }); tspec(vm).domain.devices.disks.push({ name: "scratch" }); }, `${T}.volumes[2].emptyDisk.capacity`, /more than 2Pi \(2251799813685248 bytes\)/],
  ["emptyDisk capacity zero", (vm) => { tspec(vm).volumes.push({ name: "scratch", emptyDisk: { capacity: 0 } }); tspec(vm).domain.devices.disks.push({ name: "scratch" }); }, `${T}.volumes[2].emptyDisk.capacity`, /not a positive size/],
  ["257 disks", (vm) => { for (let i = 0; i < 255; i++) { tspec(vm).domain.devices.disks.push({ name: `d${i}` }); tspec(vm).volumes.push({ name: `d${i}`, emptyDisk: { capacity: "1Mi" } }); } }, `${T}.domain.devices.disks`, /at most 256 items/],
  ["257 volumes", (vm) => { for (let i = 0; i < 255; i++) tspec(vm).volumes.push({ name: `v${i}`, emptyDisk: { capacity: "1Mi" } }); }, `${T}.volumes`, /at most 256 items/],
  ["257 interfaces", (vm) => { for (let i = 0; i < 256; i++) tspec(vm).domain.devices.interfaces.push({ name: `n${i}`, bridge: {} }); }, `${T}.domain.devices.interfaces`, /at most 256 items/],
  ["257 networks", (vm) => { for (let i = 0; i < 256; i++) tspec(vm).networks.push({ name: `n${i}`, pod: {} }); }, `${T}.networks`, /at most 256 items/],
  ["cores above 4096", (vm) => (tspec(vm).domain.cpu.cores = 1e300), `${T}.domain.cpu.cores`, /at most 4096/],
  ["sockets × cores × threads above 4096", (vm) => (tspec(vm).domain.cpu = { sockets: 64, cores: 64, threads: 2 }), `${T}.domain.cpu`, /8192 vCPUs; at most 4096/],
  ["bootOrder above unsigned int", (vm) => (tspec(vm).domain.devices.disks[0].bootOrder = 2 ** 32), `${T}.domain.devices.disks[0].bootOrder`, /at most 4294967295/],
  ["hyperv spinlocks below 4096", (vm) => (tspec(vm).domain.features = { hyperv: { spinlocks: { spinlocks: 4095 } } }), `${T}.domain.features.hyperv.spinlocks.spinlocks`, /must be at least 4096/],
  ["hyperv vendor id over 12 characters", (vm) => (tspec(vm).domain.features = { hyperv: { vendorid: { vendorid: "ABCDEFGHIJKLM" } } }), `${T}.domain.features.hyperv.vendorid.vendorid`, /at most 12 characters/],
  ["unknown hyperv enlightenment", (vm) => (tspec(vm).domain.features = { hyperv: { crash: {} } }), `${T}.domain.features.hyperv.crash`, /not supported by bunvirt/],
  ["hyperv synic on, vpindex off", (vm) => (tspec(vm).domain.features = { hyperv: { synic: {}, vpindex: { enabled: false } } }), `${T}.domain.features.hyperv.synic`, /synic needs vpindex, which is turned off/],
  ["clock utc and timezone", (vm) => (tspec(vm).domain.clock = { utc: {}, timezone: "Europe/Berlin" }), `${T}.domain.clock.timezone`, /utc and timezone exclude each other/],
  ["unknown time zone", (vm) => (tspec(vm).domain.clock = { timezone: "Atlantis/Capital" }), `${T}.domain.clock.timezone`, /not an IANA time zone/],
  ["unknown hpet tick policy", (vm) => (tspec(vm).domain.clock = { timer: { hpet: { tickPolicy: "hurry" } } }), `${T}.domain.clock.timer.hpet.tickPolicy`, /must be one of "delay", "catchup", "merge", "discard"/],
  ["rtc tick policy merge", (vm) => (tspec(vm).domain.clock = { timer: { rtc: { tickPolicy: "merge" } } }), `${T}.domain.clock.timer.rtc.tickPolicy`, /must be one of "delay", "catchup"/],
  ["input of an unknown type", (vm) => (tspec(vm).domain.devices.inputs = [{ name: "kbd", type: "keyboard" }]), `${T}.domain.devices.inputs[0].type`, /must be one of "tablet"/],
  ["input on ps2", (vm) => (tspec(vm).domain.devices.inputs = [{ name: "t", type: "tablet", bus: "ps2" }]), `${T}.domain.devices.inputs[0].bus`, /must be one of "usb", "virtio"/],
  ["input name twice", (vm) => (tspec(vm).domain.devices.inputs = [{ name: "t", type: "tablet" }, { name: "t", type: "tablet", bus: "virtio" }]), `${T}.domain.devices.inputs[1].name`, /input names must be unique/],
  ["input name not DNS-1123", (vm) => (tspec(vm).domain.devices.inputs = [{ name: "My_Tablet", type: "tablet" }]), `${T}.domain.devices.inputs[0].name`, /DNS-1123 label/],
  ["persistent TPM", (vm) => (tspec(vm).domain.devices.tpm = { persistent: true }), `${T}.domain.devices.tpm.persistent`, /must not be true: bunvirt keeps no state across restarts/],
  ["TPM with a model", (vm) => (tspec(vm).domain.devices.tpm = { model: "tpm-crb" }), `${T}.domain.devices.tpm.model`, /not supported by bunvirt/],
  ["TPM enabled not a boolean", (vm) => (tspec(vm).domain.devices.tpm = { enabled: "yes" }), `${T}.domain.devices.tpm.enabled`, /boolean/],
  ["TPM not an object", (vm) => (tspec(vm).domain.devices.tpm = true), `${T}.domain.devices.tpm`, /object/],
  ["unknown eviction strategy", (vm) => (tspec(vm).evictionStrategy = "Migrate"), `${T}.evictionStrategy`, /must be one of "None", "LiveMigrate", "LiveMigrateIfPossible", "External"/],
  ["priorityClassName not a DNS-1123 subdomain", (vm) => (tspec(vm).priorityClassName = "VM_Critical"), `${T}.priorityClassName`, /DNS-1123 subdomain/],
  ["unknown apiVersion", (vm) => (vm.apiVersion = "kubevirt.io/v2"), "apiVersion", /not served by bunvirt/],
];

describe("validate", () => {
  test("the base manifest is valid", () => {
    const r = validate(goodVm());
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  test("a volume without a disk is admitted (KubeVirt's defaulting gives it one)", () => {
    const vm = goodVm();
    tspec(vm).volumes.push({ name: "spare", emptyDisk: { capacity: "1Gi" } });
    const r = validate(vm);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  test("a MAC in any form Go's net.ParseMAC reads for six octets is admitted", () => {
    for (const mac of ["02:00:5E:00:53:01", "02-00-5e-00-53-01", "0200.5e00.5301"]) {
      const vm = goodVm();
      tspec(vm).domain.devices.interfaces[0].macAddress = mac;
      const r = validate(vm);
      expect(r.ok ? [] : r.problems).toEqual([]);
    }
  });

  test("a bridge interface's network may carry any vmNetworkCIDR (only masquerade uses it)", () => {
    const vm = goodVm();
    tspec(vm).domain.devices.interfaces[0] = { name: "default", bridge: {} };
    tspec(vm).networks[0].pod = { vmNetworkCIDR: "10.0.2.1/24" };
    const r = validate(vm);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  for (const [name, mutate, path, rule] of cases) {
    test(`rejects: ${name}`, () => {
      const vm = goodVm();
      mutate(vm);
      const r = validate(vm);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const hit = r.problems.find((p) => p.path === path);
      expect(hit, `no problem at ${path}; got ${JSON.stringify(r.problems)}`).toBeDefined();
      expect(hit!.rule).toMatch(rule);
    });
  }

  test("exactly 256 disks and volumes are accepted (KubeVirt's MaxItems is inclusive)", () => {
    const vm = goodVm();
    for (let i = 0; i < 254; i++) {
      tspec(vm).domain.devices.disks.push({ name: `d${i}` });
      tspec(vm).volumes.push({ name: `d${i}`, emptyDisk: { capacity: "1Mi" } });
    }
    const r = validate(vm);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  test("the largest bounded values are accepted", () => {
    const vm = goodVm();
    tspec(vm).domain.devices.disks[0].serial = "A".repeat(256);
    tspec(vm).domain.resources = { requests: { memory: "4Pi" } };
    tspec(vm).domain.cpu = { sockets: 16, cores: 128, threads: 2 };
    tspec(vm).domain.firmware = { uuid: "5D307CA9-B3EF-428C-8861-06E72D69F223", serial: "tab\tand\r\nnewline é 😀" };
    tspec(vm).volumes[1].cloudInitNoCloud.userData = "#cloud-config\n\t# tab, CR\r\n";
    vm.metadata.annotations = { note: "annotations may hold anything: \u0000" };
    const r = validate(vm);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  test("text XML cannot carry is reported alone, never quoted back by other rules", () => {
    const vm = goodVm();
    tspec(vm).hostname = "Bad\u001b[2J";
    const r = validate(vm);
    expect(r.ok ? [] : r.problems).toEqual([{ path: `${T}.hostname`, rule: expect.stringMatching(/^the value contains U\+001B at character 4/) }]);
  });

  test("a v1alpha1 VM is checked at its own paths", () => {
    const alpha = {
      apiVersion: "kubevirt.io/v1alpha1",
      kind: "VirtualMachine",
      metadata: { name: "a" },
      spec: {
        domain: { resources: { requests: { memory: "64M" } }, devices: { disks: [{ name: "d", volumeName: "v", serial: "x y" }] } },
        volumes: [{ name: "v", registryDisk: { image: "img\u0000" } }],
      },
    };
    const r = validate(alpha);
    expect(r.ok ? [] : r.problems.map((p) => p.path).sort()).toEqual(["spec.domain.devices.disks[0].serial"]);
    alpha.spec.domain.devices.disks[0]!.serial = "ok";
    const r2 = validate(alpha);
    expect(r2.ok ? [] : r2.problems.map((p) => p.path)).toEqual(["spec.volumes[0].registryDisk.image"]);
  });

  test("a VMI is checked at spec.*", () => {
    const vm = goodVm();
    const vmi = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "x" }, spec: tspec(vm) };
    vmi.spec.domain.devices.disks[0].disk.bus = "ide";
    const r = validate(vmi);
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toContain("spec.domain.devices.disks[0].disk.bus");
  });
});
