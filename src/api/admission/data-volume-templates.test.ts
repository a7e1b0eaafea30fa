import { describe, expect, test } from "bun:test";
import { validate } from "../validate.ts";
import type { Problem } from "../problem.ts";

type Json = Record<string, unknown>;

function vm(templates: unknown[], volumes: Json[] = [{ name: "root", dataVolume: { name: "root-dv" } }]): Json {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "vm1", namespace: "default" },
    spec: {
      runStrategy: "Always",
      dataVolumeTemplates: templates,
      template: { spec: { domain: { devices: { disks: volumes.map((v) => ({ name: v.name, disk: { bus: "virtio" } })) }, resources: { requests: { memory: "128Mi" } } }, volumes } },
    },
  };
}

function dv(spec: Json, name = "root-dv"): Json {
  return { metadata: { name }, spec: { storage: { resources: { requests: { storage: "1Gi" } } }, ...spec } };
}

function problems(obj: Json): Problem[] {
  const r = validate(obj);
  return r.ok ? [] : r.problems;
}

const at = (p: Problem[]): string[] => p.map((x) => x.path);

describe("dataVolumeTemplates", () => {
  test("each source users use most is accepted, as the user guide writes them", () => {
    for (const source of [
      { http: { url: "https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img" } },
      { http: { url: "http://127.0.0.1:8080/disk.qcow2", secretRef: "web-creds" } },
      { registry: { url: "docker://quay.io/containerdisks/fedora:latest", pullMethod: "node" } },
      { blank: {} },
      { pvc: { namespace: "golden", name: "fedora-39" } },
    ]) {
      expect(problems(vm([dv({ source })]))).toEqual([]);
    }
    expect(problems(vm([dv({ source: { blank: {} }, storage: undefined, pvc: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } } })]))).toEqual([]);
    // A persistentVolumeClaim volume may name the template too (KubeVirt accepts both).
    expect(problems(vm([dv({ source: { blank: {} } })], [{ name: "root", persistentVolumeClaim: { claimName: "root-dv" } }]))).toEqual([]);
  });

  test("a dataVolume volume may name a DataVolume that is not a template (one already in the namespace)", () => {
    expect(problems(vm([], [{ name: "root", dataVolume: { name: "existing" } }]))).toEqual([]);
  });

  test("names: required, DNS-1123, unique, and used by a volume", () => {
    expect(problems(vm([dv({ source: { blank: {} } }, "")]))).toEqual([{ path: "spec.dataVolumeTemplates[0].metadata.name", rule: "is required: the DataVolume's (and its claim's) name" }]);
    expect(at(problems(vm([dv({ source: { blank: {} } }, "Root_DV")], [{ name: "root", dataVolume: { name: "Root_DV" } }])))).toEqual([
      "spec.template.spec.volumes[0].dataVolume.name",
      "spec.dataVolumeTemplates[0].metadata.name",
    ]);
    const twice = problems(vm([dv({ source: { blank: {} } }), dv({ source: { blank: {} } })]));
    expect(twice).toEqual([{ path: "spec.dataVolumeTemplates[1].metadata.name", rule: "\"root-dv\" is used by another template; template names must be unique" }]);
    const unused = problems(vm([dv({ source: { blank: {} } }), dv({ source: { blank: {} } }, "spare")]));
    expect(unused[0]?.path).toBe("spec.dataVolumeTemplates[1].metadata.name");
    expect(unused[0]?.rule).toMatch(/must be referenced in the template's volumes/);
  });

  test("a template's namespace, when given, is the VM's", () => {
    const t = dv({ source: { blank: {} } });
    (t.metadata as Json).namespace = "other";
    expect(problems(vm([t]))).toEqual([
      { path: "spec.dataVolumeTemplates[0].metadata.namespace", rule: "\"other\" differs from the VM's namespace \"default\"; a template's DataVolume lives in the VM's namespace" },
    ]);
    (t.metadata as Json).namespace = "default";
    expect(problems(vm([t]))).toEqual([]);
  });

  test("exactly one source, and one bunvirt imports", () => {
    expect(problems(vm([dv({ source: { blank: {}, http: { url: "http://h/d" } } })]))).toEqual([
      { path: "spec.dataVolumeTemplates[0].spec.source", rule: "has 2 sources (http, blank); set exactly one" },
    ]);
    expect(problems(vm([dv({ source: {} })]))[0]?.rule).toMatch(/has no source/);
    expect(problems(vm([dv({})]))[0]).toMatchObject({ path: "spec.dataVolumeTemplates[0].spec.source" });
    expect(at(problems(vm([dv({ source: { s3: { url: "s3://b/k" } } })])))).toEqual(["spec.dataVolumeTemplates[0].spec.source.s3"]);
    expect(at(problems(vm([dv({ source: { blank: {} }, sourceRef: { kind: "DataSource", name: "x" } })])))).toEqual(["spec.dataVolumeTemplates[0].spec.sourceRef"]);
  });

  test("http URLs: http or https, no credentials, bounded length", () => {
    const rule = (url: string): string | undefined => problems(vm([dv({ source: { http: { url } } })]))[0]?.rule;
    expect(rule("ftp://example.com/disk.img")).toBe("the scheme is \"ftp\"; only http and https are imported");
    expect(rule("https://user:secret@example.com/disk.img")).toMatch(/must not carry credentials/);
    expect(rule("not a url")).toMatch(/is not a URL/);
    expect(rule(`https://example.com/${"a".repeat(2100)}`)).toMatch(/at most 2048/);
    expect(problems(vm([dv({ source: { http: { url: "https://h/d", secretRef: "Bad/Name" } } })]))[0]?.path).toBe("spec.dataVolumeTemplates[0].spec.source.http.secretRef");
  });

  test("registry URLs: docker:// and an image reference", () => {
    const rule = (url: string): string | undefined => problems(vm([dv({ source: { registry: { url } } })]))[0]?.rule;
    expect(rule("quay.io/containerdisks/fedora")).toBe("\"quay.io/containerdisks/fedora\" must start with docker://");
    expect(rule("oci-archive:///tmp/image.tar")).toMatch(/the scheme is "oci-archive"; bunvirt imports only docker:\/\//);
    expect(rule("docker://quay.io/UPPER/Case:tag")).toMatch(/is not an image reference/);
    expect(problems(vm([dv({ source: { registry: { url: "docker://q/x", pullMethod: "magic" } } })]))[0]?.path).toBe("spec.dataVolumeTemplates[0].spec.source.registry.pullMethod");
  });

  test("the claim: storage or pvc (not both), with a size within bounds", () => {
    const noClaim = { metadata: { name: "root-dv" }, spec: { source: { blank: {} } } };
    expect(problems(vm([noClaim]))).toEqual([{ path: "spec.dataVolumeTemplates[0].spec.storage", rule: "is required: set storage (or pvc) with resources.requests.storage, the claim to import into" }]);
    expect(problems(vm([dv({ source: { blank: {} }, pvc: { resources: { requests: { storage: "1Gi" } } } })]))[0]?.path).toBe("spec.dataVolumeTemplates[0].spec.pvc");
    const size = (storage: unknown): Problem[] => problems(vm([dv({ source: { blank: {} }, storage: { resources: { requests: { storage } } } })]));
    expect(size("1k")).toEqual([{ path: "spec.dataVolumeTemplates[0].spec.storage.resources.requests.storage", rule: "\"1k\" is less than 1Mi; a disk needs at least one MiB" }]);
    expect(size("3Pi")[0]?.rule).toMatch(/more than 2Pi/);
    expect(size("lots")[0]?.path).toBe("spec.dataVolumeTemplates[0].spec.storage.resources.requests.storage");
    expect(problems(vm([dv({ source: { blank: {} }, storage: { accessModes: ["ReadWriteOnce"] } })]))[0]?.rule).toMatch(/is required: the size/);
    expect(problems(vm([dv({ source: { blank: {} }, storage: { volumeMode: "Tape", resources: { requests: { storage: "1Gi" } } } })]))[0]?.path).toBe("spec.dataVolumeTemplates[0].spec.storage.volumeMode");
  });

  test("pvc clone: a namespace and a name Kubernetes accepts", () => {
    expect(at(problems(vm([dv({ source: { pvc: { namespace: "Bad NS", name: "x" } } })])))).toEqual(["spec.dataVolumeTemplates[0].spec.source.pvc.namespace"]);
    expect(at(problems(vm([dv({ source: { pvc: { namespace: "ns" } } })])))).toEqual(["spec.dataVolumeTemplates[0].spec.source.pvc.name"]);
  });
});

describe("dataVolume volumes", () => {
  test("hotpluggable is refused: bunvirt attaches claims when the VM starts", () => {
    expect(problems(vm([dv({ source: { blank: {} } })], [{ name: "root", dataVolume: { name: "root-dv", hotpluggable: true } }]))).toEqual([
      { path: "spec.template.spec.volumes[0].dataVolume.hotpluggable", rule: "bunvirt does not hotplug volumes; the DataVolume's claim is attached when the VM starts: leave hotpluggable out or false" },
    ]);
  });

  test("a VMI cannot have dataVolumeTemplates (only a VM does), but may use a dataVolume", () => {
    const vmi = (spec: Json): Json => ({
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: { name: "vmi1" },
      spec: { domain: { devices: { disks: [{ name: "root", disk: {} }] }, resources: { requests: { memory: "128Mi" } } }, volumes: [{ name: "root", dataVolume: { name: "root-dv" } }], ...spec },
    });
    expect(problems(vmi({}))).toEqual([]);
    expect(problems(vmi({ dataVolumeTemplates: [dv({ source: { blank: {} } })] }))).toEqual([
      { path: "spec.dataVolumeTemplates", rule: "only a VirtualMachine has dataVolumeTemplates; a VirtualMachineInstance uses an existing DataVolume by a dataVolume volume" },
    ]);
  });
});
