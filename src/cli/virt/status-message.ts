/**
 * The message of an API server's refusal as client-go words it (what
 * virtctl prints): the Status body's `message`; for a body that is no
 * Status, client-go's generic sentences. At most 64 KiB of the body is read.
 */
import { readPrefix } from "../../storage/registry/body-reader.ts";

const maxBody = 64 * 1024;

export async function statusMessage(res: Response): Promise<string> {
  const bytes = res.body === null ? new Uint8Array() : await readPrefix(res.body.getReader(), maxBody);
  const text = new TextDecoder().decode(bytes);
  return messageOf(res.status, text);
}

export function messageOf(code: number, text: string): string {
  try {
    const status = JSON.parse(text) as { kind?: unknown; message?: unknown };
    if (typeof status === "object" && status !== null && typeof status.message === "string" && status.message !== "") return status.message;
  } catch {
    // not JSON: below
  }
  if (code === 404) return "the server could not find the requested resource";
  if (code === 401) return "Unauthorized";
  if (code === 403) return "Forbidden";
  const body = text.trim().slice(0, 500);
  return body === "" ? `the server responded with HTTP ${code}` : `an error on the server ("${body}") has prevented the request from succeeding`;
}
