/** DNS-1123 label: lower-case alphanumerics and '-', starts and ends alphanumeric, at most 63 characters. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** An absolute path inside an image: starts with '/', is not '/', has no '..' segment. */
export function isSafeImagePath(p: string): boolean {
  if (!p.startsWith("/") || p === "/") return false;
  return !p.split("/").includes("..");
}
