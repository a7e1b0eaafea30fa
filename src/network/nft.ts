/**
 * nftables: bunvirt keeps its rules in tables of its own (`table ip bunvirt`,
 * `table ip6 bunvirt`), replaced atomically and deleted whole, so nothing
 * else in the namespace's ruleset is ever touched.
 */
import { must, parseJson, remove, run } from "./exec.ts";

export type NftFamily = "ip" | "ip6" | "inet";

export const TABLE = "bunvirt";

/** Drops what changes on every (re)load but is not content: handles and the metainfo entry. */
export function withoutHandles(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((v) => !(typeof v === "object" && v !== null && "metainfo" in v))
      .map(withoutHandles);
  }
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== "handle") out[k] = withoutHandles(v);
    return out;
  }
  return value;
}

/** The table's content as nft prints it in JSON (handles dropped), or null when it does not exist. */
export async function tableContent(family: NftFamily, name = TABLE): Promise<unknown> {
  const argv = ["nft", "-j", "list", "table", family, name];
  const r = await run(argv);
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return null;
    throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: "${r.stderr.trim()}"`);
  }
  const parsed = parseJson(argv, r.stdout) as Record<string, unknown>;
  return withoutHandles(parsed.nftables ?? []);
}

/**
 * Replaces the table with `body` (the statements inside `table F N { ... }`)
 * in one transaction: either the new table is in place or the old one stays.
 */
export async function replaceTable(family: NftFamily, body: string, name = TABLE): Promise<void> {
  const script = `table ${family} ${name} {}\ndelete table ${family} ${name}\ntable ${family} ${name} {\n${body}}\n`;
  await must(["nft", "-f", "-"], script);
}

export async function deleteTable(family: NftFamily, name = TABLE): Promise<void> {
  await remove(["nft", "delete", "table", family, name]);
}
