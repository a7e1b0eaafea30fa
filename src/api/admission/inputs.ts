/** Input names: DNS-1123 labels (they become libvirt aliases), unique among the inputs. */
import { dns1123LabelRule, isDns1123Label } from "../names.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

export function checkInputs(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  (spec.domain.devices.inputs ?? []).forEach((input, i) => {
    const here = joinPath(joinPath(joinPath(at, "domain.devices.inputs"), i), "name");
    if (!isDns1123Label(input.name)) out.push({ path: here, rule: `"${input.name}" ${dns1123LabelRule}` });
    else if (seen.has(input.name)) out.push({ path: here, rule: `input name "${input.name}" is used more than once; input names must be unique` });
    seen.add(input.name);
  });
  return out;
}
