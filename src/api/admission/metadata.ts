/**
 * Object names as Kubernetes' API server admits them: `metadata.name` a
 * DNS-1123 subdomain, `metadata.namespace` a DNS-1123 label, and
 * `generateName` a prefix that makes such a name. bunvirt builds paths and
 * libvirt names from them, so nothing else may pass.
 */
import { dns1123LabelRule, dns1123SubdomainRule, isDns1123Label, isDns1123Subdomain } from "../names.ts";
import { joinPath, type Problem } from "../problem.ts";

export interface Meta {
  name?: string | undefined;
  generateName?: string | undefined;
  namespace?: string | undefined;
}

/** Kubernetes' maskTrailingDash: a generateName prefix may end in '-'. */
function asPrefix(s: string): string {
  return s.length > 1 && s.endsWith("-") ? `${s.slice(0, -1)}a` : s;
}

/** Problems with a manifest's metadata (paths start at `at`, e.g. "metadata"). */
export function checkMetadata(meta: Meta | undefined, at: string): Problem[] {
  const out: Problem[] = [];
  const name = meta?.name;
  const generateName = meta?.generateName;
  if ((name === undefined || name === "") && (generateName === undefined || generateName === "")) {
    out.push({ path: joinPath(at, "name"), rule: "is required (give metadata.name or metadata.generateName)" });
  }
  if (name !== undefined && name !== "" && !isDns1123Subdomain(name)) {
    out.push({ path: joinPath(at, "name"), rule: `${JSON.stringify(name)} ${dns1123SubdomainRule}` });
  }
  if (generateName !== undefined && generateName !== "" && !isDns1123Subdomain(asPrefix(generateName))) {
    out.push({ path: joinPath(at, "generateName"), rule: `${JSON.stringify(generateName)} ${dns1123SubdomainRule} (a trailing '-' is allowed)` });
  }
  const namespace = meta?.namespace;
  if (namespace !== undefined && !isDns1123Label(namespace)) {
    out.push({ path: joinPath(at, "namespace"), rule: `${JSON.stringify(namespace)} ${dns1123LabelRule}` });
  }
  return out;
}
