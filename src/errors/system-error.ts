/**
 * A system or network error (errno code, Bun's fetch/spawn errors) in the
 * user's terms: what went wrong, never the runtime's own advice ("pass
 * `verbose: true` …", "Is the computer able to access the url?"). The
 * original error stays available as the `cause` of the error that wraps it.
 */
const byCode: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "it is a directory, not a file",
  ENOTDIR: "a part of the path is not a directory",
  ELOOP: "too many symlinks on the way",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "the connection was closed by the other side",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name could not be resolved (temporary DNS failure)",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  UND_ERR_SOCKET: "the connection was closed by the other side",
};

/** Bun's and Node's advice appended to messages: not the user's concern. */
const runtimeHints = [
  /\s*For more information, pass `verbose: true` in the second argument to fetch\(\)\.?/g,
  /\s*Is the computer able to access the url\?/g,
  /\s*pass `?verbose: true`?[^.]*\.?/gi,
];

/** `message` without the runtime's advice. */
export function withoutRuntimeHints(message: string): string {
  let out = message;
  for (const hint of runtimeHints) out = out.replace(hint, "");
  return out;
}

export function describeSystemError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : undefined;
  if (code !== undefined && byCode[code] !== undefined) {
    // getaddrinfo names the host; keep it.
    const host = typeof e?.message === "string" ? /getaddrinfo \w+ (\S+)/.exec(e.message)?.[1] : undefined;
    return host !== undefined ? `${byCode[code]} ("${host}")` : byCode[code];
  }
  const message = withoutRuntimeHints(error instanceof Error ? error.message : String(error));
  return message.replace(/^[A-Z_]+: /, "").trim() || "an unknown error";
}
