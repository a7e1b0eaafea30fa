import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

/** KubeVirt's limit on user data and network data, in bytes after base64 decoding. */
export const cloudInitMaxBytes = 2048;

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard, padded base64; null when the text is not that. */
export function decodeBase64(text: string): Uint8Array | null {
  if (!base64.test(text)) return null;
  return Uint8Array.from(Buffer.from(text, "base64"));
}

function checkKind(
  here: string,
  kind: "user" | "network",
  clear: string | undefined,
  encoded: string | undefined,
  secret: { name: string } | undefined,
): Problem[] {
  const fields = kind === "user" ? ["userData", "userDataBase64", "secretRef"] : ["networkData", "networkDataBase64", "networkDataSecretRef"];
  const given = [clear, encoded, secret].map((x, i) => (x === undefined ? null : fields[i])).filter((x) => x !== null);
  const out: Problem[] = [];
  if (given.length > 1) out.push({ path: here, rule: `${given.join(" and ")} are all ${kind} data sources; set only one` });
  if (clear !== undefined && Buffer.byteLength(clear) > cloudInitMaxBytes) {
    out.push({ path: joinPath(here, fields[0]!), rule: `${kind} data is ${Buffer.byteLength(clear)} bytes; at most ${cloudInitMaxBytes} are allowed` });
  }
  if (encoded !== undefined) {
    const bytes = decodeBase64(encoded);
    if (bytes === null) out.push({ path: joinPath(here, fields[1]!), rule: "is not valid base64" });
    else if (bytes.length > cloudInitMaxBytes) {
      out.push({ path: joinPath(here, fields[1]!), rule: `${kind} data is ${bytes.length} bytes after base64 decoding; at most ${cloudInitMaxBytes} are allowed` });
    }
  }
  return out;
}

/** One source per kind of data, sizes within the limit, base64 that decodes. */
export function checkCloudInit(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  (spec.volumes ?? []).forEach((vol, i) => {
    const ci = vol.cloudInitNoCloud;
    if (ci === undefined) return;
    const here = joinPath(joinPath(joinPath(at, "volumes"), i), "cloudInitNoCloud");
    out.push(...checkKind(here, "user", ci.userData, ci.userDataBase64, ci.secretRef));
    out.push(...checkKind(here, "network", ci.networkData, ci.networkDataBase64, ci.networkDataSecretRef));
    const any = [ci.userData, ci.userDataBase64, ci.secretRef, ci.networkData, ci.networkDataBase64, ci.networkDataSecretRef];
    if (any.every((x) => x === undefined)) {
      out.push({ path: here, rule: "needs user data or network data (userData, userDataBase64, secretRef, networkData, networkDataBase64 or networkDataSecretRef)" });
    }
  });
  return out;
}
