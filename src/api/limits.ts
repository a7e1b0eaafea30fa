/**
 * The bounds bunvirt puts on values that reach libvirt, each with its reason.
 * The schemas (src/api/v1) and the admission rules read them from here, so
 * a CRD generator can state the same numbers.
 */

/** KubeVirt's MaxItems on disks, interfaces, volumes and networks (kubevirt.io/api core/v1 types.go, schema.go). */
export const maxListItems = 256;

/** KubeVirt's disk serial rule (pkg/storage/admitters/disks.go): these characters, at most 256 of them. */
export const serialPattern = /^[A-Za-z0-9_.+-]+$/;
export const maxSerialLength = 256;

/** KubeVirt's interface name rule (pkg/network/admitter/netiface.go); libvirt's device alias takes these characters. */
export const interfaceNamePattern = /^[A-Za-z0-9_-]+$/;

/** libvirt's schema for the <type machine='…'> attribute (domaincommon.rng). */
export const machineTypePattern = /^[A-Za-z0-9_.-]+$/;

/** A UUID in its canonical hyphenated form, as libvirt's <uuid> takes it. */
export const uuidPattern = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/**
 * vCPUs (sockets × cores × threads): QEMU's largest x86 machine, q35, takes
 * at most 4096 (QEMU ≥ 9.0; older QEMU refuses fewer when the domain starts).
 */
export const maxVcpus = 4096;

/** Boot order: libvirt reads <boot order='…'> as an unsigned int. */
export const maxBootOrder = 2 ** 32 - 1;

/**
 * Guest memory (memory.guest, memory requests and limits): 4 PiB, the
 * physical address space x86-64 defines (52 bits). No guest can use more,
 * libvirt's limit (2^63-1 bytes) is far above it, and sizes stay exact in
 * a JavaScript number.
 */
export const maxMemoryBytes = 2 ** 52;

/** emptyDisk capacity: 2 PiB, the largest qcow2 image qemu-img creates with its default 64 KiB clusters. */
export const maxDiskBytes = 2 ** 51;

/**
 * hostDisk capacity (DiskOrCreate): 2 PiB, emptyDisk's bound, far above
 * what a node's file system holds; the launcher also refuses more than the
 * directory's free space.
 */
export const maxHostDiskBytes = 2 ** 51;

/** The smallest memory request KubeVirt accepts ("1M"). */
export const minMemoryBytes = 1e6;

/**
 * A DataVolume source URL (http and registry): 2048 characters, what common
 * HTTP servers and proxies accept in a request line; a longer one is an
 * attack or a mistake, and it is quoted in messages and logs.
 */
export const maxSourceUrlLength = 2048;
