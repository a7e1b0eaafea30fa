import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

/** Boot orders are positive (the schema says so) and unique across disks and interfaces. */
export function checkBootOrder(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const owners = new Map<number, string>();
  const visit = (list: { name: string; bootOrder?: number | undefined }[] | undefined, field: string): void => {
    (list ?? []).forEach((item, i) => {
      if (item.bootOrder === undefined) return;
      const owner = owners.get(item.bootOrder);
      if (owner !== undefined) {
        out.push({ path: joinPath(joinPath(joinPath(at, field), i), "bootOrder"), rule: `boot order ${item.bootOrder} is already used by "${owner}"; boot orders must be unique` });
      } else {
        owners.set(item.bootOrder, item.name);
      }
    });
  };
  visit(spec.domain.devices.disks, "domain.devices.disks");
  visit(spec.domain.devices.interfaces, "domain.devices.interfaces");
  return out;
}
