/** DNS-1123 label: lower-case alphanumerics and '-', starts and ends alphanumeric, at most 63 characters. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

const subdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * DNS-1123 subdomain (Kubernetes' rule for object names): at most 253
 * characters, dot-separated DNS-1123 labels of lower-case alphanumerics and
 * '-'. Never holds '/', '..' segments, NUL or anything a path could use.
 */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && subdomainRe.test(s);
}

/** What Kubernetes says when a name is not a DNS-1123 subdomain. */
export const dns1123SubdomainRule =
  "must be a DNS-1123 subdomain (Kubernetes' rule for object names): at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit";

/** What Kubernetes says when a name is not a DNS-1123 label. */
export const dns1123LabelRule = "must be a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit";

/** An absolute path inside an image: starts with '/', is not '/', has no '..' segment. */
export function isSafeImagePath(p: string): boolean {
  if (!p.startsWith("/") || p === "/") return false;
  return !p.split("/").includes("..");
}
