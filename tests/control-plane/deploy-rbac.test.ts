/**
 * The deployment's RBAC and the handler's own-node policy on a real
 * kube-apiserver: `kubectl apply -k deploy/kustomize/overlays/test` (no node
 * runs the Deployment or the DaemonSet here), then real requests with the
 * roles' ServiceAccount tokens and with users bound to KubeVirt's user roles.
 *
 * The handler's token is bound to a Pod scheduled on node-a, as the
 * kubelet's projected token is: the API server then puts the node's name in
 * the request's user extra (authentication.kubernetes.io/node-name), which
 * the ValidatingAdmissionPolicy bunvirt-handler-node-restriction reads.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("control-plane deploy-rbac");
const policy = "bunvirt-handler-node-restriction";
const ns = "vms";

interface Answer {
  status: number;
  body: string;
}

function vmi(name: string, node: string): object {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name, namespace: ns, labels: { "kubevirt.io/nodeName": node } },
    spec: {
      domain: { resources: { requests: { memory: "64Mi" } }, devices: { disks: [{ name: "root", disk: { bus: "virtio" } }] } },
      volumes: [{ name: "root", containerDisk: { image: "example.com/disk:1" } }],
    },
  };
}

function vm(name: string): object {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name, namespace: ns },
    spec: { runStrategy: "Halted", template: { spec: (vmi(name, "x") as { spec: object }).spec } },
  };
}

describe.skipIf(skip !== null)("deployment RBAC and the handler's own-node policy", () => {
  let cp: ControlPlane;
  let ca: Buffer;
  let handlerToken = "";
  let unboundHandlerToken = "";
  let controllerToken = "";

  /** A request with a bearer token (or as the admin's impersonation of `as`). */
  const call = async (token: string, method: string, path: string, body?: unknown, type = "application/merge-patch+json"): Promise<Answer> => {
    const res = await fetch(cp.server + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": method === "PATCH" ? type : "application/json", accept: "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      tls: { ca },
    });
    return { status: res.status, body: await res.text() };
  };
  const vmiPath = (name: string): string => `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances/${name}`;
  /** Refused by the policy's validation that says `message` (not by a CEL error, which failurePolicy Fail would also turn into a refusal). */
  const expectPolicyDenied = (a: Answer, message: string): void => {
    expect(a.status).toBe(403);
    expect(a.body).toContain(policy);
    expect(a.body).toContain(message);
  };
  const expectRbacDenied = (a: Answer): void => {
    expect(a.status).toBe(403);
    expect(a.body).not.toContain(policy);
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    ca = readFileSync(join(cp.pki, "ca.crt"));
    await cp.kubectlOk(["apply", "-k", join(repoRoot, "deploy/kustomize/overlays/test")]);
    // No controller runs here to serve the webhooks the base registers: without this, every VMI write fails (no endpoints).
    await cp.kubectlOk(["delete", "validatingwebhookconfiguration/bunvirt-validator", "mutatingwebhookconfiguration/bunvirt-mutator"]);
    await cp.kubectlOk(["create", "namespace", ns]);
    for (const n of ["node-a", "node-b"]) {
      await cp.kubectlOk(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: n, labels: { "kubernetes.io/hostname": n } } }) });
    }
    // The handler's pod, as the DaemonSet would place it on node-a (no kubelet runs it).
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "bunvirt-handler-a", namespace: "bunvirt" },
      spec: { serviceAccountName: "bunvirt-handler", automountServiceAccountToken: false, nodeName: "node-a", containers: [{ name: "handler", image: "bunvirt" }] },
    };
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: JSON.stringify(pod) });
    const uid = (await cp.kubectlOk(["get", "pod", "-n", "bunvirt", "bunvirt-handler-a", "-o", "jsonpath={.metadata.uid}"])).trim();
    handlerToken = (await cp.kubectlOk(["create", "token", "-n", "bunvirt", "bunvirt-handler", "--bound-object-kind", "Pod", "--bound-object-name", "bunvirt-handler-a", "--bound-object-uid", uid])).trim();
    unboundHandlerToken = (await cp.kubectlOk(["create", "token", "-n", "bunvirt", "bunvirt-handler"])).trim();
    controllerToken = (await cp.kubectlOk(["create", "token", "-n", "bunvirt", "bunvirt-controller"])).trim();
    for (const [name, node] of [["on-a", "node-a"], ["on-b", "node-b"]] as const) {
      await cp.kubectlOk(["create", "-f", "-"], { stdin: JSON.stringify(vmi(name, node)) });
    }
    // The API server enforces a new policy once its admission plugin has loaded the policy and the
    // binding (a few seconds): wait for a dry-run write the policy refuses to be refused.
    for (let i = 0; ; i++) {
      const probe = await call(handlerToken, "PATCH", `${vmiPath("on-b")}?dryRun=All`, { status: { phase: "Failed" } });
      if (probe.status === 403) break;
      if (i === 300) throw new Error(`Cannot see the policy "${policy}" in force after 60 s: a dry-run patch of a VMI on node-b answered ${probe.status}`);
      await Bun.sleep(200);
    }
    await cp.kubectlOk(["create", "rolebinding", "-n", ns, "viewer", "--clusterrole=kubevirt.io:view", "--user=viewer"]);
    await cp.kubectlOk(["create", "rolebinding", "-n", ns, "editor", "--clusterrole=kubevirt.io:edit", "--user=editor"]);
  }, 240_000);
  afterAll(async () => cp?.stop());

  test("the handler's token carries its pod's node", async () => {
    const review = await call(handlerToken, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });
    expect(review.status).toBe(201);
    const info = (JSON.parse(review.body) as { status: { userInfo: { username: string; extra?: Record<string, string[]> } } }).status.userInfo;
    expect(info.username).toBe("system:serviceaccount:bunvirt:bunvirt-handler");
    expect(info.extra?.["authentication.kubernetes.io/node-name"]).toEqual(["node-a"]);
  });

  test("the handler may patch the status of a VMI on its node", async () => {
    const a = await call(handlerToken, "PATCH", vmiPath("on-a"), { status: { phase: "Scheduled", nodeName: "node-a" } });
    expect(a.status).toBe(200);
    expect((JSON.parse(a.body) as { status: { phase: string } }).status.phase).toBe("Scheduled");
  });

  test("the handler may not patch a VMI on another node", async () => {
    expectPolicyDenied(await call(handlerToken, "PATCH", vmiPath("on-b"), { status: { phase: "Failed" } }), "may change only VMIs labelled");
  });

  test("the handler may not change a VMI's spec", async () => {
    expectPolicyDenied(await call(handlerToken, "PATCH", vmiPath("on-a"), { spec: { domain: { resources: { requests: { memory: "128Mi" } } } } }), "may not change the spec");
  });

  test("the handler may not move a VMI to another node", async () => {
    expectPolicyDenied(await call(handlerToken, "PATCH", vmiPath("on-a"), { metadata: { labels: { "kubevirt.io/nodeName": "node-b" } } }), "may not move a VMI");
  });

  test("a handler token not bound to a pod changes no VMI", async () => {
    expectPolicyDenied(await call(unboundHandlerToken, "PATCH", vmiPath("on-a"), { status: { phase: "Running" } }), "token bound to its Pod");
  });

  test("the handler may set its own Node's kubevirt.io/ label and annotation (the heartbeat)", async () => {
    const a = await call(handlerToken, "PATCH", "/api/v1/nodes/node-a", {
      metadata: { labels: { "kubevirt.io/schedulable": "true" }, annotations: { "kubevirt.io/heartbeat": "2026-01-01T00:00:00Z" } },
    });
    expect(a.status).toBe(200);
    expect((JSON.parse(a.body) as { metadata: { labels: Record<string, string> } }).metadata.labels["kubevirt.io/schedulable"]).toBe("true");
  });

  test("the handler may not patch another Node", async () => {
    expectPolicyDenied(await call(handlerToken, "PATCH", "/api/v1/nodes/node-b", { metadata: { labels: { "kubevirt.io/schedulable": "true" } } }), "only the Node it runs on");
  });

  test("the handler may not set a label outside kubevirt.io/ on its Node, nor change the Node's spec", async () => {
    expectPolicyDenied(await call(handlerToken, "PATCH", "/api/v1/nodes/node-a", { metadata: { labels: { "example.com/role": "vm" } } }), "only kubevirt.io/ labels");
    expectPolicyDenied(await call(handlerToken, "PATCH", "/api/v1/nodes/node-a", { metadata: { annotations: { "example.com/note": "x" } } }), "only kubevirt.io/ labels and annotations");
    expectPolicyDenied(await call(handlerToken, "PATCH", "/api/v1/nodes/node-a", { spec: { unschedulable: true } }), "may not change the spec");
  });

  test("the handler may not create pods, read secrets or list nodes", async () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "x" }, spec: { nodeName: "node-a", containers: [{ name: "x", image: "x" }] } };
    expectRbacDenied(await call(handlerToken, "POST", `/api/v1/namespaces/${ns}/pods`, pod));
    expectRbacDenied(await call(handlerToken, "GET", "/api/v1/namespaces/bunvirt/secrets"));
    expectRbacDenied(await call(handlerToken, "GET", "/api/v1/nodes"));
    expectRbacDenied(await call(handlerToken, "DELETE", vmiPath("on-a")));
    // What it needs: its VMIs and the launcher pods of its node.
    expect((await call(handlerToken, "GET", `/apis/kubevirt.io/v1/virtualmachineinstances?labelSelector=kubevirt.io%2FnodeName%3Dnode-a`)).status).toBe(200);
    expect((await call(handlerToken, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a")).status).toBe(200);
  });

  test("the handler reads ConfigMap bunvirt-ca (the console's controller CA) and no other ConfigMap; it may publish its console on its Node", async () => {
    await cp.kubectlOk(["create", "configmap", "-n", "bunvirt", "bunvirt-ca", "--from-literal=ca.crt=x"]);
    expect((await call(handlerToken, "GET", "/api/v1/namespaces/bunvirt/configmaps/bunvirt-ca")).status).toBe(200);
    expectRbacDenied(await call(handlerToken, "GET", "/api/v1/namespaces/bunvirt/configmaps/bunvirt-config"));
    expectRbacDenied(await call(handlerToken, "GET", "/api/v1/namespaces/bunvirt/configmaps"));
    expectRbacDenied(await call(handlerToken, "PUT", "/api/v1/namespaces/bunvirt/configmaps/bunvirt-ca", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bunvirt-ca" }, data: { "ca.crt": "y" } }));
    const a = await call(handlerToken, "PATCH", "/api/v1/nodes/node-a", { metadata: { annotations: { "kubevirt.io/bunvirt-console": '{"address":"10.0.0.1:8187","sha256":"00"}' } } });
    expect(a.status).toBe(200);
    // The controller's own test makes it (create is its right).
    await cp.kubectlOk(["delete", "configmap", "-n", "bunvirt", "bunvirt-ca"]);
  });

  test("the controller reads its CA Secret in its namespace and no Secret elsewhere", async () => {
    await cp.kubectlOk(["create", "secret", "generic", "-n", "bunvirt", "bunvirt-webhook-ca", "--from-literal=ca.crt=x"]);
    await cp.kubectlOk(["create", "secret", "generic", "-n", ns, "user-secret", "--from-literal=k=v"]);
    expect((await call(controllerToken, "GET", "/api/v1/namespaces/bunvirt/secrets/bunvirt-webhook-ca")).status).toBe(200);
    expectRbacDenied(await call(controllerToken, "GET", `/api/v1/namespaces/${ns}/secrets/user-secret`));
    expectRbacDenied(await call(controllerToken, "GET", "/api/v1/namespaces/bunvirt/secrets"));
    expectRbacDenied(await call(controllerToken, "GET", "/api/v1/secrets"));
  });

  test("the controller may do what its loops do", async () => {
    for (const path of ["/apis/kubevirt.io/v1/virtualmachines", "/apis/kubevirt.io/v1/virtualmachineinstances", "/api/v1/pods", "/api/v1/nodes", "/api/v1/persistentvolumeclaims"]) {
      expect((await call(controllerToken, "GET", path)).status).toBe(200);
    }
    // pods/log (an importer's progress): allowed, so the API server gets as far as finding no such pod.
    expect((await call(controllerToken, "GET", `/api/v1/namespaces/${ns}/pods/importer-none/log`)).status).toBe(404);
    expectRbacDenied(await call(handlerToken, "GET", `/api/v1/namespaces/${ns}/pods/importer-none/log`));
    const lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "bunvirt-controller" }, spec: { holderIdentity: "test" } };
    expect((await call(controllerToken, "POST", "/apis/coordination.k8s.io/v1/namespaces/bunvirt/leases", lease)).status).toBe(201);
    expect((await call(controllerToken, "GET", "/apis/coordination.k8s.io/v1/namespaces/bunvirt/leases/bunvirt-controller")).status).toBe(200);
    expectRbacDenied(await call(controllerToken, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"));
    const crd = await call(controllerToken, "PATCH", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.kubevirt.io", { metadata: { labels: { "bunvirt.io/test": "x" } } });
    expect(crd.status).toBe(200);
    expectRbacDenied(await call(controllerToken, "PATCH", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachineinstances.kubevirt.io", { metadata: { labels: { "bunvirt.io/test": "x" } } }));
    const review = await call(controllerToken, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });
    expect(review.status).toBe(201);
  });

  test("the controller may server-side apply its two webhook configurations, and no other", async () => {
    // The deployment ships them (their static copy); the leader applies its caBundle over them.
    for (const [kind, name] of [["ValidatingWebhookConfiguration", "bunvirt-validator"], ["MutatingWebhookConfiguration", "bunvirt-mutator"], ["ValidatingWebhookConfiguration", "someone-else"]] as const) {
      await cp.kubectlOk(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "admissionregistration.k8s.io/v1", kind, metadata: { name } }) });
    }
    const reg = "/apis/admissionregistration.k8s.io/v1";
    const apply = (path: string, kind: string, name: string): Promise<Answer> =>
      call(controllerToken, "PATCH", `${path}?fieldManager=bunvirt-controller&force=true`, { apiVersion: "admissionregistration.k8s.io/v1", kind, metadata: { name, labels: { "app.kubernetes.io/part-of": "bunvirt" } } }, "application/apply-patch+yaml");
    expect((await apply(`${reg}/validatingwebhookconfigurations/bunvirt-validator`, "ValidatingWebhookConfiguration", "bunvirt-validator")).status).toBe(200);
    expect((await apply(`${reg}/mutatingwebhookconfigurations/bunvirt-mutator`, "MutatingWebhookConfiguration", "bunvirt-mutator")).status).toBe(200);
    expectRbacDenied(await apply(`${reg}/validatingwebhookconfigurations/someone-else`, "ValidatingWebhookConfiguration", "someone-else"));
    expectRbacDenied(await apply(`${reg}/validatingwebhookconfigurations/new-one`, "ValidatingWebhookConfiguration", "new-one"));
  });

  test("the controller may serve the aggregated API: its APIService (no other), the front-proxy ConfigMap, reviews, bunvirt-ca", async () => {
    const apiReg = "/apis/apiregistration.k8s.io/v1/apiservices";
    const applyApiService = (name: string, group: string): Promise<Answer> =>
      call(controllerToken, "PATCH", `${apiReg}/${name}?fieldManager=bunvirt-controller&force=true`, {
        apiVersion: "apiregistration.k8s.io/v1", kind: "APIService", metadata: { name },
        spec: { group, version: "v1", groupPriorityMinimum: 1000, versionPriority: 15, service: { namespace: "bunvirt", name: "bunvirt-controller", port: 8444 } },
      }, "application/apply-patch+yaml");
    expect((await applyApiService("v1.subresources.kubevirt.io", "subresources.kubevirt.io")).status).toBe(200);
    expectRbacDenied(await applyApiService("v1.other.example.com", "other.example.com"));
    expect((await call(controllerToken, "GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")).status).toBe(200);
    expectRbacDenied(await call(controllerToken, "GET", "/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt"));
    const sar = await call(controllerToken, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview",
      spec: { user: "viewer", resourceAttributes: { group: "subresources.kubevirt.io", version: "v1", resource: "virtualmachines", subresource: "stop", namespace: ns, name: "x", verb: "update" } },
    });
    expect(sar.status).toBe(201);
    expect(JSON.parse(sar.body).status.allowed).toBe(false);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bunvirt-ca" }, data: { "ca.crt": "x" } };
    expect((await call(controllerToken, "POST", "/api/v1/namespaces/bunvirt/configmaps", cm)).status).toBe(201);
    expect((await call(controllerToken, "PUT", "/api/v1/namespaces/bunvirt/configmaps/bunvirt-ca", { ...cm, data: { "ca.crt": "y" } })).status).toBe(200);
    expectRbacDenied(await call(controllerToken, "GET", "/api/v1/namespaces/bunvirt/configmaps/bunvirt-config"));
    // Back to the static copy: no controller serves it here.
    await cp.kubectlOk(["delete", "apiservice", "v1.subresources.kubevirt.io"]);
  });

  test("the pods of the Deployment and the DaemonSet pass admission in namespace bunvirt", async () => {
    for (const [kind, name] of [["deployment", "bunvirt-controller"], ["daemonset", "bunvirt-handler"]] as const) {
      const w = JSON.parse(await cp.kubectlOk(["get", kind, "-n", "bunvirt", name, "-o", "json"])) as { spec: { template: { metadata: object; spec: object } } };
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { ...w.spec.template.metadata, name: `${name}-dry-run`, namespace: "bunvirt" }, spec: { ...w.spec.template.spec, nodeName: "node-a" } };
      // Server-side dry run: every admission step (ServiceAccount, Priority, Pod Security), nothing stored.
      const out = await cp.kubectlOk(["create", "--dry-run=server", "-o", "name", "-f", "-"], { stdin: JSON.stringify(pod) });
      expect(out.trim()).toBe(`pod/${name}-dry-run`);
    }
  });

  test("kubevirt.io:view may read VMs but not create them; kubevirt.io:edit may create them", async () => {
    await cp.kubectlOk(["create", "-f", "-"], { stdin: JSON.stringify(vm("existing")) });
    expect((await cp.kubectl(["--as=viewer", "get", "vm", "-n", ns, "existing"])).code).toBe(0);
    expect((await cp.kubectl(["--as=viewer", "get", "vmi", "-n", ns])).code).toBe(0);
    const denied = await cp.kubectl(["--as=viewer", "create", "-f", "-"], { stdin: JSON.stringify(vm("by-viewer")) });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("forbidden");
    expect((await cp.kubectl(["--as=viewer", "get", "vm", "-n", "default"])).code).not.toBe(0);
    await cp.kubectlOk(["--as=editor", "create", "-f", "-"], { stdin: JSON.stringify(vm("by-editor")) });
    await cp.kubectlOk(["--as=editor", "delete", "vm", "-n", ns, "by-editor"]);
  });

  test("instancetypes: the controller applies the ones it ships (no other) and reads revisions; users as KubeVirt's roles let them", async () => {
    const it = (kind: string, name: string, namespace?: string): object => ({
      apiVersion: "instancetype.kubevirt.io/v1beta1", kind, metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, spec: { cpu: { guest: 1 }, memory: { guest: "1Gi" } },
    });
    const cluster = "/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes";
    const apply = (name: string): Promise<Answer> =>
      call(controllerToken, "PATCH", `${cluster}/${name}?fieldManager=bunvirt-controller&force=true`, it("VirtualMachineClusterInstancetype", name), "application/apply-patch+yaml");
    // Server-side apply of a missing one creates it: create and patch, by name.
    expect((await apply("u1.small")).status).toBe(201);
    expect((await apply("u1.small")).status).toBe(200);
    expectRbacDenied(await apply("someone-elses"));
    for (const path of [cluster, "/apis/instancetype.kubevirt.io/v1beta1/virtualmachinepreferences", `/apis/instancetype.kubevirt.io/v1beta1/namespaces/${ns}/virtualmachineinstancetypes`]) {
      expect((await call(controllerToken, "GET", path)).status).toBe(200);
    }
    expectRbacDenied(await call(controllerToken, "DELETE", `${cluster}/u1.small`));
    const revisions = `/apis/apps/v1/namespaces/${ns}/controllerrevisions`;
    const rev = { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: "vm-it-rev" }, data: it("VirtualMachineClusterInstancetype", "u1.small"), revision: 0 };
    expect((await call(controllerToken, "POST", revisions, rev)).status).toBe(201);
    expect((await call(controllerToken, "GET", `${revisions}/vm-it-rev`)).status).toBe(200);
    expectRbacDenied(await call(controllerToken, "DELETE", `${revisions}/vm-it-rev`));
    expectRbacDenied(await call(controllerToken, "GET", "/apis/apps/v1/deployments"));

    // Every signed-in user reads the cluster-wide ones; view reads the namespaced ones; edit writes them.
    expect((await cp.kubectl(["--as=anyone", "--as-group=system:authenticated", "get", "vmcf", "u1.small"])).code).toBe(0);
    expect((await cp.kubectl(["--as=anyone", "--as-group=system:authenticated", "get", "vmpref", "-n", ns])).code).not.toBe(0);
    expect((await cp.kubectl(["--as=viewer", "get", "vminstancetype,vmpref", "-n", ns])).code).toBe(0);
    const byViewer = await cp.kubectl(["--as=viewer", "create", "-f", "-"], { stdin: JSON.stringify(it("VirtualMachineInstancetype", "by-viewer", ns)) });
    expect(byViewer.stderr).toContain("forbidden");
    await cp.kubectlOk(["--as=editor", "create", "-f", "-"], { stdin: JSON.stringify(it("VirtualMachineInstancetype", "by-editor", ns)) });
    await cp.kubectlOk(["--as=editor", "delete", "vminstancetype", "-n", ns, "by-editor"]);
    // A RoleBinding to edit does not reach the cluster-wide ones.
    const clusterByEditor = await cp.kubectl(["--as=editor", "create", "-f", "-"], { stdin: JSON.stringify(it("VirtualMachineClusterInstancetype", "by-editor")) });
    expect(clusterByEditor.stderr).toContain("forbidden");
  });
});
