/**
 * bunvirt's one logger: every role and `bunvirt run` write their lines
 * through it. Plain text by default (`TIME ROLE: message`, the level named
 * when it is not info); with `--log-format=json` one JSON object per line:
 * time, level, role, message, and the object the line concerns (kind,
 * namespace, name, uid) when there is one. `--log-level` drops the lines
 * below it. Callable as `log(message, object?)` for info, so a plain
 * `(line: string) => void` sink accepts it.
 */

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ["text", "json"] as const;
export type LogFormat = (typeof logFormats)[number];

/** The object a line is about: a VMI, a VM, a Pod, a Node. */
export interface LogObject {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
}

export type LogFn = (message: string, object?: LogObject) => void;

export interface Logger extends LogFn {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** Sets the object later lines concern when they name none (a launcher runs one VMI). */
  about(object: LogObject | undefined): void;
}

export interface LoggerOptions {
  role: string;
  format?: LogFormat;
  level?: LogLevel;
  /** Where a finished line goes (without its newline). */
  write: (line: string) => void;
  /** Text lines start with the time, the role and a level other than info (roles), or are the bare message (`bunvirt run`). Default true. */
  stampText?: boolean;
  now?: () => Date;
}

export interface LogEntry {
  time: string;
  level: LogLevel;
  role: string;
  message: string;
  object?: LogObject | undefined;
}

/** One line of log output for an entry (pure). */
export function formatLogLine(entry: LogEntry, format: LogFormat, stampText = true): string {
  if (format === "json") {
    const { time, level, role, message, object } = entry;
    const o = object ?? {};
    const defined = Object.fromEntries(Object.entries({ kind: o.kind, namespace: o.namespace, name: o.name, uid: o.uid }).filter(([, x]) => x !== undefined && x !== ""));
    return JSON.stringify({ time, level, role, message, ...defined });
  }
  if (!stampText) return entry.message;
  return `${entry.time} ${entry.role}: ${entry.level === "info" ? "" : `${entry.level}: `}${entry.message}`;
}

function parseChoice<T extends string>(flag: string, choices: readonly T[], value: string | undefined, dflt: T): T {
  if (value === undefined) return dflt;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`Cannot use --${flag} "${value}": it must be one of ${choices.join(", ")}`);
}

export function parseLogLevel(value: string | undefined): LogLevel {
  return parseChoice("log-level", logLevels, value, "info");
}

export function parseLogFormat(value: string | undefined): LogFormat {
  return parseChoice("log-format", logFormats, value, "text");
}

export function makeLogger(opts: LoggerOptions): Logger {
  const format = opts.format ?? "text";
  const threshold = logLevels.indexOf(opts.level ?? "info");
  const now = opts.now ?? (() => new Date());
  let current: LogObject | undefined;
  const at = (level: LogLevel): LogFn => (message, object) => {
    if (logLevels.indexOf(level) < threshold) return;
    const entry = { time: now().toISOString(), level, role: opts.role, message, object: object ?? current };
    opts.write(formatLogLine(entry, format, opts.stampText ?? true));
  };
  const info = at("info");
  return Object.assign((message: string, object?: LogObject) => info(message, object), {
    debug: at("debug"),
    info,
    warn: at("warn"),
    error: at("error"),
    about: (object: LogObject | undefined) => void (current = object),
  });
}

/** The logger's methods where a caller may hold a plain line sink: `about` when it has one. */
export function logAbout(log: unknown, object: LogObject): void {
  (log as Partial<Logger>).about?.(object);
}

/** The log object of a Kubernetes object's metadata. */
export function objectOf(kind: string, meta: { namespace?: string | undefined; name?: string | undefined; uid?: string | undefined } | undefined): LogObject {
  return { kind, ...(meta?.namespace !== undefined ? { namespace: meta.namespace } : {}), ...(meta?.name !== undefined ? { name: meta.name } : {}), ...(meta?.uid !== undefined ? { uid: meta.uid } : {}) };
}

/** The log object of a cache key "NAMESPACE/NAME" (or "NAME"). */
export function objectOfKey(kind: string, key: string): LogObject {
  const slash = key.indexOf("/");
  return slash < 0 ? { kind, name: key } : { kind, namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
