/** A validation problem: where (a field path such as `spec.domain.devices.disks[1].disk.bus`) and which rule. */
import type * as v from "valibot";

export interface Problem {
  path: string;
  rule: string;
}

/** The problems as one line: `path: rule; path: rule`. */
export function problemsText(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path === "" ? p.rule : `${p.path}: ${p.rule}`)).join("; ");
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}

export function problemsAt(base: string, ps: Problem[]): Problem[] {
  return ps.map((p) => ({ path: p.path === "" ? base : base === "" ? p.path : `${base}.${p.path}`, rule: p.rule }));
}

const typeNames: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean (true or false)",
  object: "an object",
  strict_object: "an object",
  loose_object: "an object",
  array: "a list",
  record: "a map of strings",
  literal: "",
};

/** Turns valibot issues into problems with plain-language rules. */
export function issuesToProblems(issues: readonly v.BaseIssue<unknown>[]): Problem[] {
  return issues.map((issue) => {
    let path = "";
    for (const item of issue.path ?? []) {
      const key = (item as { key: unknown }).key;
      path = joinPath(path, typeof key === "number" ? key : String(key));
    }
    return { path, rule: ruleOf(issue) };
  });
}

function ruleOf(issue: v.BaseIssue<unknown>): string {
  const isObject = issue.type === "strict_object" || issue.type === "object" || issue.type === "loose_object";
  if (isObject && issue.kind === "schema" && issue.expected === "never") {
    return "field is not supported by bunvirt (it is not part of the implemented kubevirt.io subset)";
  }
  if (isObject && issue.expected?.startsWith('"') && issue.input === undefined) return "is required";
  if (issue.kind === "schema" && issue.type === "picklist") {
    return `must be one of ${(issue.expected ?? "").replace(/^\(|\)$/g, "").split(" | ").join(", ")}`;
  }
  if (issue.kind === "schema" && issue.type === "literal") return `must be ${issue.expected}`;
  if (issue.kind === "schema" && issue.type in typeNames && !issue.message.startsWith("must")) {
    return `must be ${typeNames[issue.type]}`;
  }
  return issue.message;
}
