/** Running system tools (ip, nft, qemu-img …) with errors that say what failed. */

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export async function exec(cmd: string[], opts: { allowFail?: boolean } = {}): Promise<ExecResult & { code: number }> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0 && opts.allowFail !== true) {
    throw new Error(`Cannot run "${cmd.join(" ")}": exit ${code}: ${stderr.trim() || stdout.trim()}`);
  }
  return { stdout, stderr, code };
}
