import { UsageError } from "./usage.ts";

/** A flag given in seconds: undefined when absent, else a positive number (an integer when `integer`). */
export function secondsFlag(flag: string, value: unknown, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : NaN;
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} "${String(value)}" is not a positive ${integer ? "whole " : ""}number of seconds`);
  }
  return n;
}
