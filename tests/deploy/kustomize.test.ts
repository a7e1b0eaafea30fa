/**
 * The deployment's manifests as kubectl builds them (`kubectl kustomize` of
 * every overlay, with the kubectl scripts/cluster/build-k8s.sh builds; the
 * builds skip with the reason when it is absent) and the rules that matter
 * for least privilege: only the handler's DaemonSet is privileged and mounts
 * host paths (the four the handler needs), no RBAC for launcher pods, no
 * wildcard in bunvirt's own roles, every container with resources, probes and
 * a seccomp profile, the controller without root. And the image's two
 * recipes install one package list.
 *
 *   bun test ./tests/deploy
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../lib/bunvirt.ts";
import { k8sBin } from "../lib/control-plane.ts";
import { commonInstancetypes } from "../../src/roles/controller/instancetype/common.ts";

const kubectl = join(k8sBin, "kubectl");
const noKubectl = existsSync(kubectl) ? null : `"${kubectl}" is not built (scripts/cluster/build-k8s.sh)`;
if (noKubectl !== null) console.warn(`deploy kustomize builds: skipped: ${noKubectl}`);

const overlays = ["default", "k3d", "test"] as const;
const allowedHostPaths = ["/var/lib/kubelet/pods", "/var/lib/kubelet/device-plugins", "/var/lib/bunvirt", "/dev"];
const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

// Only the fields the rules read.
interface Container {
  name: string;
  image: string;
  args?: string[];
  imagePullPolicy?: string;
  resources?: { requests?: Record<string, string> };
  readinessProbe?: object;
  livenessProbe?: object;
  securityContext?: {
    privileged?: boolean;
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
  };
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; hostPath?: { path: string }; configMap?: { name: string } }[];
}
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: { metadata?: { annotations?: Record<string, string> }; spec: PodSpec }; replicas?: number };
  rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] }[];
  subjects?: { kind: string; name: string; namespace?: string }[];
  data?: Record<string, string>;
}

async function build(dir: string, extra: string[] = []): Promise<Obj[]> {
  const p = Bun.spawn([kubectl, "kustomize", ...extra, dir], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`Cannot build "${dir}" with kubectl kustomize: exit ${code}: ${err.trim()}`);
  return parseAllDocuments(out).map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

const workloads = (objs: Obj[]): Obj[] => objs.filter((o) => o.kind === "Deployment" || o.kind === "DaemonSet" || o.kind === "StatefulSet" || o.kind === "Pod");
const podSpec = (o: Obj): PodSpec => (o.kind === "Pod" ? (o.spec as unknown as PodSpec) : o.spec!.template!.spec);
const containers = (o: Obj): Container[] => [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers];
const isPrivileged = (o: Obj): boolean => {
  const s = podSpec(o);
  return s.hostNetwork === true || s.hostPID === true || s.hostIPC === true
    || containers(o).some((c) => c.securityContext?.privileged === true || (c.securityContext?.capabilities?.add ?? []).length > 0);
};
const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`Cannot find ${kind} "${name}" in the build`);
  return o;
};

describe.skipIf(noKubectl !== null)("kubectl kustomize of each overlay", () => {
  for (const overlay of overlays) {
    describe(overlay, () => {
      let once: Promise<Obj[]> | undefined;
      const built = (): Promise<Obj[]> => (once ??= build(join(repoRoot, `deploy/kustomize/overlays/${overlay}`)));

      test("builds, with the objects the plan names", async () => {
        const objs = await built();
        for (const [kind, name] of [
          ["Namespace", "bunvirt"], ["ServiceAccount", "bunvirt-controller"], ["ServiceAccount", "bunvirt-handler"],
          ["Deployment", "bunvirt-controller"], ["Service", "bunvirt-controller"], ["PodDisruptionBudget", "bunvirt-controller"],
          ["DaemonSet", "bunvirt-handler"], ["ConfigMap", "bunvirt-config"],
          ["ValidatingAdmissionPolicy", "bunvirt-handler-node-restriction"], ["ValidatingAdmissionPolicyBinding", "bunvirt-handler-node-restriction"],
          ["ClusterRole", "kubevirt.io:admin"], ["ClusterRole", "kubevirt.io:edit"], ["ClusterRole", "kubevirt.io:view"],
          ["CustomResourceDefinition", "virtualmachines.kubevirt.io"], ["CustomResourceDefinition", "virtualmachineinstances.kubevirt.io"],
          ["CustomResourceDefinition", "virtualmachineinstancetypes.instancetype.kubevirt.io"], ["CustomResourceDefinition", "virtualmachineclusterinstancetypes.instancetype.kubevirt.io"],
          ["CustomResourceDefinition", "virtualmachinepreferences.instancetype.kubevirt.io"], ["CustomResourceDefinition", "virtualmachineclusterpreferences.instancetype.kubevirt.io"],
          ["ClusterRole", "instancetype.kubevirt.io:view"],
        ] as const) find(objs, kind, name);
        // No custom resource in the deployment: one `kubectl apply -k` never waits for a CRD to be established.
        expect(objs.filter((o) => o.apiVersion.includes("kubevirt.io"))).toEqual([]);
        // Namespaced objects land in bunvirt.
        for (const o of objs.filter((x) => x.metadata.namespace !== undefined)) expect(o.metadata.namespace).toBe("bunvirt");
        expect(find(objs, "Deployment", "bunvirt-controller").spec?.replicas).toBe(2);
      });

      test("only the handler's DaemonSet is privileged, and only it mounts host paths (the allowed ones)", async () => {
        const objs = await built();
        const privileged = workloads(objs).filter(isPrivileged).map((o) => `${o.kind}/${o.metadata.name}`);
        expect(privileged).toEqual(["DaemonSet/bunvirt-handler"]);
        for (const o of workloads(objs)) {
          const paths = (podSpec(o).volumes ?? []).flatMap((v) => (v.hostPath !== undefined ? [v.hostPath.path] : []));
          if (o.metadata.name === "bunvirt-handler") expect(paths.sort()).toEqual([...allowedHostPaths].sort());
          else expect(paths).toEqual([]);
        }
      });

      test("no RBAC for launcher pods; no wildcard in bunvirt's own roles", async () => {
        const objs = await built();
        const rbac = objs.filter((o) => ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount"].includes(o.kind));
        expect(rbac.filter((o) => /launcher/i.test(o.metadata.name) || (o.subjects ?? []).some((s) => /launcher/i.test(s.name)))).toEqual([]);
        // Every binding names one of the two roles' ServiceAccounts in bunvirt, but KubeVirt's
        // kubevirt.io:default: every signed-in user may read the subresource API's version, nothing else,
        // and instancetype.kubevirt.io:view: the cluster-wide instancetypes and preferences, read only.
        const everyone = [find(objs, "ClusterRoleBinding", "kubevirt.io:default"), find(objs, "ClusterRoleBinding", "instancetype.kubevirt.io:view")];
        for (const b of everyone) expect(b.subjects?.map((s) => `${s.kind}:${s.name}`)).toEqual(["Group:system:authenticated"]);
        expect(find(objs, "ClusterRole", "kubevirt.io:default").rules).toEqual([{ apiGroups: ["subresources.kubevirt.io"], resources: ["version"], verbs: ["get", "list"] }]);
        expect(find(objs, "ClusterRole", "instancetype.kubevirt.io:view").rules).toEqual([
          { apiGroups: ["instancetype.kubevirt.io"], resources: ["virtualmachineclusterinstancetypes", "virtualmachineclusterpreferences"], verbs: ["get", "list", "watch"] },
        ]);
        for (const b of objs.filter((o) => o.kind.endsWith("Binding") && o.subjects !== undefined && !everyone.includes(o))) {
          expect(b.subjects!.map((s) => `${s.kind}:${s.namespace}/${s.name}`).every((s) => ["ServiceAccount:bunvirt/bunvirt-controller", "ServiceAccount:bunvirt/bunvirt-handler"].includes(s))).toBe(true);
        }
        const roles = objs.filter((o) => o.kind === "Role" || o.kind === "ClusterRole");
        expect(roles.length).toBeGreaterThanOrEqual(6);
        for (const r of roles) {
          for (const rule of r.rules ?? []) {
            for (const field of [rule.verbs, rule.resources ?? [], rule.apiGroups ?? []]) expect(field.filter((x) => x.includes("*"))).toEqual([]);
          }
        }
        // KubeVirt's user roles join the cluster's admin, edit and view.
        for (const level of ["admin", "edit", "view"]) {
          expect(find(objs, "ClusterRole", `kubevirt.io:${level}`).metadata.labels?.[`rbac.authorization.k8s.io/aggregate-to-${level}`]).toBe("true");
        }
        expect(find(objs, "ClusterRole", "kubevirt.io:view").rules!.flatMap((r) => r.verbs).every((v) => ["get", "list", "watch"].includes(v))).toBe(true);
        // The handler's reads of pods stay reads, and it gets no Secrets.
        const handler = find(objs, "ClusterRole", "bunvirt-handler");
        expect(handler.rules!.filter((r) => r.resources?.includes("pods")).flatMap((r) => r.verbs).sort()).toEqual(["get", "list", "watch"]);
        expect(handler.rules!.some((r) => r.resources?.includes("secrets"))).toBe(false);
        // The controller creates and patches (server-side applies) only the cluster instancetypes and preferences it ships.
        const controller = find(objs, "ClusterRole", "bunvirt-controller");
        const patched = controller.rules!.filter((r) => r.apiGroups?.includes("instancetype.kubevirt.io") && (r.verbs.includes("patch") || r.verbs.includes("create")));
        for (const r of patched) expect(r.verbs).toEqual(["create", "patch"]);
        expect(patched.flatMap((r) => (r.resourceNames ?? ["(any)"]).map((n) => `${r.resources!.join()}/${n}`)).sort()).toEqual(
          commonInstancetypes.map((o) => `${o.kind === "VirtualMachineClusterInstancetype" ? "virtualmachineclusterinstancetypes" : "virtualmachineclusterpreferences"}/${o.metadata.name}`).sort(),
        );
        // Secrets only in bunvirt's namespace (a Role), never cluster-wide.
        for (const r of objs.filter((o) => o.kind === "ClusterRole")) expect(r.rules!.some((rule) => rule.resources?.includes("secrets"))).toBe(false);
      });

      test("every container has resource requests, both probes and a seccomp profile", async () => {
        const objs = await built();
        const ws = workloads(objs);
        expect(ws.map((o) => o.metadata.name).sort()).toEqual(["bunvirt-controller", "bunvirt-handler"]);
        for (const o of ws) {
          for (const c of containers(o)) {
            const where = `${o.kind}/${o.metadata.name} container "${c.name}"`;
            expect({ where, cpu: c.resources?.requests?.cpu !== undefined, memory: c.resources?.requests?.memory !== undefined }).toEqual({ where, cpu: true, memory: true });
            expect({ where, readiness: c.readinessProbe !== undefined, liveness: c.livenessProbe !== undefined }).toEqual({ where, readiness: true, liveness: true });
            expect({ where, seccomp: c.securityContext?.seccompProfile?.type ?? podSpec(o).securityContext?.seccompProfile?.type }).toEqual({ where, seccomp: "RuntimeDefault" });
          }
          expect(o.spec?.template?.metadata?.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "8186", "prometheus.io/path": "/metrics" });
          // Settings from the ConfigMap dir in both roles.
          expect(podSpec(o).volumes?.find((v) => v.configMap?.name === "bunvirt-config")).toBeDefined();
          for (const c of containers(o)) expect(c.args?.join(" ")).toContain("--config-dir /etc/bunvirt/config");
        }
      });

      test("the controller runs without root, capabilities or a writable root filesystem", async () => {
        const c = find(await built(), "Deployment", "bunvirt-controller");
        const spec = podSpec(c);
        expect(spec.securityContext?.runAsNonRoot).toBe(true);
        expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
        for (const k of spec.containers) {
          expect(k.securityContext?.readOnlyRootFilesystem).toBe(true);
          expect(k.securityContext?.allowPrivilegeEscalation).toBe(false);
          expect(k.securityContext?.capabilities?.drop).toEqual(["ALL"]);
        }
      });

      test("the overlay's image and settings", async () => {
        const objs = await built();
        const images = workloads(objs).flatMap(containers).map((c) => c.image);
        const config = find(objs, "ConfigMap", "bunvirt-config").data!;
        expect(config["log-format"]).toBe("json");
        if (overlay === "default") {
          expect(new Set(images)).toEqual(new Set([`ghcr.io/bunvirt/bunvirt:${version}`]));
          expect(config).toMatchObject({ emulation: "false", "log-level": "info" });
        } else if (overlay === "k3d") {
          expect(new Set(images)).toEqual(new Set([`ghcr.io/bunvirt/bunvirt:${version}`]));
          expect(config).toMatchObject({ emulation: "true", "log-level": "info" });
        } else {
          // The cluster tier's generated overlay sets the image; the node has no registry for it.
          expect(new Set(images)).toEqual(new Set(["bunvirt"]));
          expect(new Set(workloads(objs).flatMap(containers).map((c) => c.imagePullPolicy))).toEqual(new Set(["Never"]));
          expect(config).toMatchObject({ emulation: "true", "log-level": "debug" });
        }
      });
    });
  }

  test("the servicemonitor component adds a headless handler Service and two ServiceMonitors to an overlay", async () => {
    // An overlay outside the tree that uses the default overlay and the component, as a user's would.
    const dir = mkdtempSync(join(tmpdir(), "bunvirt-kustomize-"));
    try {
      writeFileSync(join(dir, "kustomization.yaml"), [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        `resources: [${relative(dir, join(repoRoot, "deploy/kustomize/overlays/default"))}]`,
        `components: [${relative(dir, join(repoRoot, "deploy/kustomize/components/servicemonitor"))}]`,
        "",
      ].join("\n"));
      const objs = await build(dir, ["--load-restrictor=LoadRestrictionsNone"]);
      const headless = find(objs, "Service", "bunvirt-handler-metrics") as Obj & { spec: { clusterIP?: string; selector?: Record<string, string> } };
      expect(headless.spec.clusterIP).toBe("None");
      expect(headless.spec.selector).toEqual({ "app.kubernetes.io/name": "bunvirt", "app.kubernetes.io/component": "handler" });
      for (const name of ["bunvirt-controller", "bunvirt-handler"]) expect(find(objs, "ServiceMonitor", name).metadata.namespace).toBe("bunvirt");
      // Each ServiceMonitor selects a Service that exists, on a port it names.
      const services = objs.filter((o) => o.kind === "Service") as unknown as { metadata: { labels?: Record<string, string> }; spec: { ports: { name: string }[] } }[];
      for (const sm of objs.filter((o) => o.kind === "ServiceMonitor") as unknown as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } }[]) {
        const hit = services.filter((svc) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v));
        expect(hit.length).toBeGreaterThan(0);
        for (const svc of hit) expect(svc.spec.ports.map((p) => p.name)).toContain(sm.spec.endpoints[0]!.port);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the image's package list", () => {
  const list = (file: string): string[] =>
    readFileSync(join(repoRoot, "deploy/image", file), "utf8").split("\n").filter((l) => !l.startsWith("#")).flatMap((l) => l.split(/\s+/)).filter((w) => w !== "");

  test("the Containerfile installs exactly deploy/image/packages.txt, the image script reads the same file", () => {
    const wanted = list("packages.txt");
    expect(wanted).toContain("qemu-system-x86");
    expect(new Set(wanted).size).toBe(wanted.length);
    const containerfile = readFileSync(join(repoRoot, "deploy/image/Containerfile"), "utf8");
    // One apt-get install, of the file's list and nothing else.
    const installs = [...containerfile.matchAll(/apt-get install ([^\n\\&]*)/g)].map((m) => m[1]!.trim());
    expect(installs).toEqual(["-y --no-install-recommends $(grep -v '^#' /tmp/image/packages.txt)"]);
    expect(containerfile).toContain("COPY deploy/image/packages.txt deploy/image/prune.sh /tmp/image/");
    expect(containerfile).toMatch(/^FROM docker\.io\/library\/debian:bookworm-slim$/m);
    const script = readFileSync(join(repoRoot, "scripts/cluster/build-launcher-image.sh"), "utf8");
    expect(script).toContain("mapfile -t WANT < <(list packages.txt)");
    expect(script).toContain("mapfile -t OMIT < <(list omit.txt)");
    // No package is both wanted and left out.
    expect(wanted.filter((p) => list("omit.txt").includes(p))).toEqual([]);
  });

  test("the Containerfile makes the users and groups of the image script's /etc/passwd and /etc/group", () => {
    const script = readFileSync(join(repoRoot, "scripts/cluster/build-launcher-image.sh"), "utf8");
    const containerfile = readFileSync(join(repoRoot, "deploy/image/Containerfile"), "utf8");
    const heredoc = (file: string): string[] => {
      const m = new RegExp(`cat > "\\$rootfs/etc/${file}" <<'EOF'\\n([\\s\\S]*?)\\nEOF`).exec(script);
      if (m === null) throw new Error(`Cannot find /etc/${file} in build-launcher-image.sh`);
      return m[1]!.split("\n");
    };
    // bookworm-slim has root, nobody and nogroup with these ids already.
    const builtIn = new Set(["root", "nobody", "nogroup"]);
    for (const line of heredoc("passwd")) {
      const [name, , uid] = line.split(":");
      if (!builtIn.has(name!)) expect(containerfile).toMatch(new RegExp(`useradd -r -u ${uid} .* ${name}\\b`));
    }
    for (const line of heredoc("group")) {
      const [name, , gid] = line.split(":");
      if (!builtIn.has(name!)) expect(containerfile).toContain(`groupadd -g ${gid} ${name}`);
    }
  });
});
