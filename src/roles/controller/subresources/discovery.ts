/**
 * What the aggregated API says about itself: the group and version
 * (subresources.kubevirt.io/v1) and the subresources served, in the forms
 * the kube-aggregator and kubectl read (APIGroupList, APIGroup,
 * APIResourceList, the root paths), and `/version` as KubeVirt's
 * version.Info (virtctl's version check after every command, `virtctl version`).
 */
import { version } from "../../../version.ts";
import { subresourceGroup } from "./sar.ts";

export const groupVersion = `${subresourceGroup}/v1`;

/** The subresources served, with the verb the API server authorizes them as. */
export const servedSubresources = [
  { name: "virtualmachines/start", verb: "update" },
  { name: "virtualmachines/stop", verb: "update" },
  { name: "virtualmachines/restart", verb: "update" },
  { name: "virtualmachineinstances/console", verb: "get" },
] as const;

const preferred = { groupVersion, version: "v1" };

export function apiGroup(): object {
  return { kind: "APIGroup", apiVersion: "v1", name: subresourceGroup, versions: [preferred], preferredVersion: preferred };
}

export function apiGroupList(): object {
  return { kind: "APIGroupList", apiVersion: "v1", groups: [apiGroup()] };
}

export function apiResourceList(): object {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion,
    resources: servedSubresources.map((r) => ({ name: r.name, singularName: "", namespaced: true, kind: "", verbs: [r.verb] })),
  };
}

export function rootPaths(): object {
  return { paths: ["/apis", `/apis/${subresourceGroup}`, `/apis/${groupVersion}`, "/healthz"] };
}

/** KubeVirt's version.Info; gitVersion is semver with a "v" (virtctl parses it). */
export function versionInfo(): object {
  return {
    gitVersion: `v${version}`,
    gitCommit: "",
    gitTreeState: "",
    buildDate: "",
    goVersion: "",
    compiler: "bun",
    platform: `${process.platform}/${process.arch}`,
  };
}
