/** The webhook routes through app.request() with AdmissionReview and ConversionReview bodies shaped as the API server sends them. */
import { describe, expect, test } from "bun:test";
import { parseManifests } from "../../api/manifest.ts";
import { vmiFinalizer } from "./reconcile-vmi.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";
import { admissionMaxBytes, webhookApp } from "./webhook-app.ts";
import { fedora, foundOf, itVm, small } from "../../../tests/lib/instancetype-objects.ts";

const fixture = async (path: URL): Promise<Record<string, any>> => parseManifests(await Bun.file(path.pathname).text())[0]!.value as Record<string, any>;
const testvm = await fixture(new URL("../../../tests/fixtures/user-guide/quickstart-testvm.yaml", import.meta.url));
const seed = await fixture(new URL("../../../examples/vm-v1alpha1.yaml", import.meta.url));

let n = 0;
const uuids = (): string => `00000000-0000-4000-8000-00000000000${n++ % 10}`;
const app = webhookApp({ newUuid: uuids });

/** An AdmissionReview as kube-apiserver sends it (admission.k8s.io/v1, cf. the Kubernetes docs' example). */
function review(object: Record<string, any> | null, over: Record<string, unknown> = {}): Record<string, unknown> {
  const [group, version] = String(object?.apiVersion ?? "kubevirt.io/v1").split("/");
  const kind = String(object?.kind ?? "VirtualMachine");
  const resource = kind === "VirtualMachine" ? "virtualmachines" : "virtualmachineinstances";
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      name: object?.metadata?.name ?? "testvm",
      namespace: "default",
      operation: "CREATE",
      userInfo: { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] },
      object: object === null ? null : { ...object, metadata: { ...object.metadata, namespace: "default", generation: 1, creationTimestamp: null } },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
      ...over,
    },
  };
}

const post = async (path: string, body: unknown): Promise<{ status: number; json: any }> => {
  const res = await app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
};
const decodePatch = (p: string): any[] => JSON.parse(Buffer.from(p, "base64").toString());

describe("POST /admission/validate", () => {
  test("the user guide's VM is allowed; the response echoes the request uid", async () => {
    const { status, json } = await post("/admission/validate", review(testvm));
    expect(status).toBe(200);
    expect(json).toEqual({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true } });
  });

  test("the seed's v1alpha1 VM is allowed", async () => {
    expect((await post("/admission/validate", review(seed))).json.response.allowed).toBe(true);
  });

  test("an invalid VM is denied with the field path and rule, as `bunvirt validate` says it", async () => {
    const bad = structuredClone(testvm);
    bad.spec.template.spec.domain.devices.disks[0].disk.bus = "ide";
    const { json } = await post("/admission/validate", review(bad));
    expect(json.response.allowed).toBe(false);
    expect(json.response.status.code).toBe(422);
    expect(json.response.status.message).toContain("spec.template.spec.domain.devices.disks[0].disk.bus: must be one of");
    expect(json.response.status.details.causes).toContainEqual(expect.objectContaining({ field: "spec.template.spec.domain.devices.disks[0].disk.bus" }));
  });

  test("KubeVirt's semantic rules too: running and runStrategy together are refused", async () => {
    const bad = structuredClone(testvm);
    bad.spec.running = true;
    const { json } = await post("/admission/validate", review(bad));
    expect(json.response.allowed).toBe(false);
    expect(json.response.status.message).toMatch(/^spec\.(running|runStrategy): .*runStrategy/);
  });

  test("an unknown field is denied by name, not dropped", async () => {
    const bad = structuredClone(testvm);
    bad.spec.template.spec.domain.devices.gpus = [];
    const { json } = await post("/admission/validate", review(bad));
    expect(json.response.status.message).toContain("spec.template.spec.domain.devices.gpus: field is not supported by bunvirt");
  });

  test("a VMI's spec cannot change on update; its status and metadata can", async () => {
    const vmi = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "testvm" }, spec: structuredClone(testvm.spec.template.spec) };
    const changed = structuredClone(vmi);
    changed.spec.domain.resources.requests.memory = "128M";
    const denied = await post("/admission/validate", review(changed, { operation: "UPDATE", oldObject: vmi }));
    expect(denied.json.response.allowed).toBe(false);
    expect(denied.json.response.status.message).toStartWith("spec: cannot change after the VirtualMachineInstance is created");
    const relabelled = { ...structuredClone(vmi), metadata: { name: "testvm", labels: { a: "b" } } };
    expect((await post("/admission/validate", review(relabelled, { operation: "UPDATE", oldObject: vmi }))).json.response.allowed).toBe(true);
    expect((await post("/admission/validate", review(changed, { operation: "UPDATE", oldObject: vmi, subResource: "status" }))).json.response.allowed).toBe(true);
  });

  test("deletes pass without an object", async () => {
    expect((await post("/admission/validate", review(null, { operation: "DELETE", oldObject: testvm }))).json.response.allowed).toBe(true);
  });
});

describe("POST /admission/mutate", () => {
  test("a VM on create: machine type, firmware UUID and serial, and the VM controller's finalizer, as one JSON Patch", async () => {
    const { json } = await post("/admission/mutate", review(testvm));
    expect(json.response.allowed).toBe(true);
    expect(json.response.patchType).toBe("JSONPatch");
    const [op, finalizer] = decodePatch(json.response.patch);
    expect(finalizer).toEqual({ op: "add", path: "/metadata/finalizers", value: [vmControllerFinalizer] });
    expect(op.op).toBe("replace");
    expect(op.path).toBe("/spec");
    expect(op.value.template.spec.domain.machine).toEqual({ type: "q35" });
    expect(op.value.template.spec.domain.firmware.uuid).toMatch(/^00000000-0000-4000-8000-/);
    expect(op.value.template.spec.domain.firmware.serial).toMatch(/^00000000-0000-4000-8000-/);
    expect(op.value.template.spec.domain.devices).toEqual(testvm.spec.template.spec.domain.devices);
  });

  test("a VM on create with finalizers of its own: the controller's is appended, once", async () => {
    const other = { ...structuredClone(testvm), metadata: { ...testvm.metadata, finalizers: ["example.com/keep"] } };
    const ops = decodePatch((await post("/admission/mutate", review(other))).json.response.patch);
    expect(ops).toContainEqual({ op: "add", path: "/metadata/finalizers/-", value: vmControllerFinalizer });
    const has = { ...structuredClone(testvm), metadata: { ...testvm.metadata, finalizers: [vmControllerFinalizer] } };
    expect(decodePatch((await post("/admission/mutate", review(has))).json.response.patch).some((o: { path: string }) => o.path.startsWith("/metadata/finalizers"))).toBe(false);
  });

  test("a VM on update keeps its firmware; nothing to patch when the defaults are there", async () => {
    const done = structuredClone(testvm);
    done.spec.template.spec.domain.machine = { type: "q35" };
    const { json } = await post("/admission/mutate", review(done, { operation: "UPDATE", oldObject: done }));
    expect(json.response).toEqual({ uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true });
  });

  test("a VMI on create: KubeVirt's device defaults and the foreground finalizer", async () => {
    const vmi = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "v" }, spec: { domain: { devices: { disks: [{ name: "d" }] }, memory: { guest: "64M" } }, volumes: [{ name: "d", containerDisk: { image: "x" } }] } };
    const { json } = await post("/admission/mutate", review(vmi));
    const ops = decodePatch(json.response.patch);
    expect(ops[0].value.domain.devices.disks).toEqual([{ name: "d", disk: { bus: "virtio" } }]);
    expect(ops[0].value.networks).toEqual([{ name: "default", pod: {} }]);
    expect(ops[1]).toEqual({ op: "add", path: "/metadata/finalizers", value: [vmiFinalizer] });
  });

  test("an invalid object passes unpatched (the validating webhook refuses it with every problem)", async () => {
    const bad = structuredClone(testvm);
    bad.spec.template.spec.domain.devices.disks[0].disk.bus = "ide";
    expect((await post("/admission/mutate", review(bad))).json.response).toEqual({ uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true });
  });
});

describe("malformed reviews", () => {
  test("not JSON: 400", async () => {
    const r = await post("/admission/validate", "{not json");
    expect(r.status).toBe(400);
    expect(r.json.error).toBe("Cannot read AdmissionReview: the body is not JSON");
  });
  test("a missing uid or a wrong operation: 400 naming the field", async () => {
    const r = review(testvm);
    delete (r.request as any).uid;
    expect(await post("/admission/validate", r)).toEqual({ status: 400, json: { error: "Cannot read AdmissionReview: request.uid: is required" } });
    const s = review(testvm, { operation: "PATCH" });
    const res = await post("/admission/mutate", s);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('Cannot read AdmissionReview: request.operation: must be one of "CREATE", "UPDATE", "DELETE", "CONNECT"');
  });
  test("the wrong kind of review: 400 naming apiVersion", async () => {
    const r = await post("/conversion", review(testvm));
    expect(r.status).toBe(400);
    expect(r.json.error).toContain("apiVersion: must be");
  });
  test("a body over the limit: 413", async () => {
    const big = JSON.stringify(review({ ...testvm, metadata: { name: "x", annotations: { pad: "x".repeat(admissionMaxBytes) } } }));
    const res = await app.request("/admission/validate", { method: "POST", headers: { "content-type": "application/json", "content-length": String(big.length) }, body: big });
    expect(res.status).toBe(413);
  });
});

describe("POST /conversion", () => {
  const conversion = (desiredAPIVersion: string, objects: unknown[]) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "ConversionReview",
    request: { uid: "f2d2b6d8-3a4d-4b4a-9b6f-0c1e2d3f4a5b", desiredAPIVersion, objects },
  });

  test("the seed's v1alpha1 VM to v1 and back, unchanged", async () => {
    const up = await post("/conversion", conversion("kubevirt.io/v1", [seed]));
    expect(up.status).toBe(200);
    expect(up.json.kind).toBe("ConversionReview");
    expect(up.json.response.uid).toBe("f2d2b6d8-3a4d-4b4a-9b6f-0c1e2d3f4a5b");
    expect(up.json.response.result).toEqual({ status: "Success" });
    const v1 = up.json.response.convertedObjects[0];
    expect(v1.apiVersion).toBe("kubevirt.io/v1");
    expect(v1.spec.runStrategy).toBe("Always");
    expect(v1.spec.template.spec.volumes[0].containerDisk.image).toBe("kubevirt/cirros-registry-disk-demo:devel");
    const down = await post("/conversion", conversion("kubevirt.io/v1alpha1", [v1]));
    expect(down.json.response.convertedObjects).toEqual([seed]);
  });

  test("objects already at the desired version pass as they are, in order", async () => {
    const r = await post("/conversion", conversion("kubevirt.io/v1", [testvm, seed]));
    expect(r.json.response.convertedObjects[0]).toEqual(testvm);
    expect(r.json.response.convertedObjects[1].apiVersion).toBe("kubevirt.io/v1");
  });

  test("an unknown version, or a VMI to v1alpha1: Failure naming the object", async () => {
    expect((await post("/conversion", conversion("kubevirt.io/v2", [seed]))).json.response.result.status).toBe("Failure");
    const vmi = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "v" }, spec: {} };
    const r = await post("/conversion", conversion("kubevirt.io/v1alpha1", [vmi]));
    expect(r.json.response.result.status).toBe("Failure");
    expect(r.json.response.result.message).toContain('request.objects[0] ("VirtualMachineInstance" "v")');
  });
});

describe("a VM that names an instancetype and a preference", () => {
  const named: string[] = [];
  const withBoth = webhookApp({
    newUuid: uuids,
    fetchFound: (vm) => {
      named.push(`${vm.spec.instancetype?.name}/${vm.spec.preference?.name}`);
      return Promise.resolve({ found: foundOf([small(), fedora()]), warnings: [] });
    },
  });
  const send = async (path: string, obj: object): Promise<any> =>
    ((await (await withBoth.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(review(obj as Record<string, any>)) })).json()) as any).response;

  test("is read from the cluster and admitted as expanded; a field its instancetype sets is refused by name", async () => {
    expect((await send("/admission/validate", itVm())).allowed).toBe(true);
    expect(named).toEqual(["u1.small/fedora"]);
    const bad = itVm();
    bad.spec.template.spec.domain.cpu = { sockets: 4 };
    const r = await send("/admission/validate", bad);
    expect(r.allowed).toBe(false);
    expect(r.status.code).toBe(422);
    expect(r.status.details.causes).toContainEqual(expect.objectContaining({ field: "spec.template.spec.domain.cpu.sockets" }));
  });

  test("one that names a missing instancetype is admitted with a warning; the default webhook app finds nothing", async () => {
    const r = (await post("/admission/validate", review(itVm() as never))).json.response;
    expect(r.allowed).toBe(true);
    expect(r.warnings).toEqual([expect.stringContaining('VirtualMachineClusterInstancetype "u1.small" not found'), expect.stringContaining('VirtualMachineClusterPreference "fedora" not found')]);
  });

  test("the mutating webhook takes the preference's machine type before the default, and still sets the firmware UUID and finalizer", async () => {
    const r = await send("/admission/mutate", itVm());
    const ops = decodePatch(r.patch);
    const spec = ops.find((o) => o.path === "/spec").value;
    expect(spec.template.spec.domain.machine).toEqual({ type: "pc-q35-7.2" });
    expect(spec.template.spec.domain.firmware.uuid).toMatch(/^00000000-/);
    expect(ops).toContainEqual({ op: "add", path: "/metadata/finalizers", value: [vmControllerFinalizer] });
    // Without the preference found: the default.
    const plain = decodePatch((await post("/admission/mutate", review(itVm() as never))).json.response.patch);
    expect(plain.find((o) => o.path === "/spec").value.template.spec.domain.machine).toEqual({ type: "q35" });
  });

  test("instancetypes and preferences themselves are validated", async () => {
    const it = { ...small(), metadata: { name: "u1.small" } };
    expect((await send("/admission/validate", it)).allowed).toBe(true);
    const bad = { ...it, spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" }, gpus: [] } };
    const r = await send("/admission/validate", bad);
    expect(r.allowed).toBe(false);
    expect(r.status.message).toContain("spec.gpus");
  });
});
