/**
 * The message of an API server's refusal as client-go words it (what
 * virtctl prints): the Status body's `message`; for a body that is no
 * Status, client-go's generic sentences. At most 64 KiB of the body is read.
 */
import { readPrefix } from "../../storage/registry/body-reader.ts";

const maxBody = 64 * 1024;

/** `request` (e.g. "put virtualmachines.kubevirt.io vm1") ends a message that is not a Status's, as client-go's does. */
export async function statusMessage(res: Response, request?: string): Promise<string> {
  const bytes = res.body === null ? new Uint8Array() : await readPrefix(res.body.getReader(), maxBody);
  const text = new TextDecoder().decode(bytes);
  return messageOf(res.status, text, request);
}

export function messageOf(code: number, text: string, request?: string): string {
  const generic = genericMessage(code, text);
  return generic.status || request === undefined ? generic.message : `${generic.message} (${request})`;
}

function genericMessage(code: number, text: string): { status: boolean; message: string } {
  try {
    const status = JSON.parse(text) as { kind?: unknown; message?: unknown };
    if (typeof status === "object" && status !== null && typeof status.message === "string" && status.message !== "") return { status: true, message: status.message };
  } catch {
    // not JSON: below
  }
  if (code === 404) return { status: false, message: "the server could not find the requested resource" };
  if (code === 401) return { status: false, message: "Unauthorized" };
  if (code === 403) return { status: false, message: "Forbidden" };
  const body = text.trim().slice(0, 500);
  return { status: false, message: body === "" ? `the server responded with HTTP ${code}` : `an error on the server ("${body}") has prevented the request from succeeding` };
}
