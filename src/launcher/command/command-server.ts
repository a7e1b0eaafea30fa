/**
 * The launcher's side of the command API: a Hono app on a unix socket.
 * Requests are validated with the shared schema; a bad one gets a 400 that
 * names the field. The work is done by a `DomainManager`.
 */
import { rmSync } from "node:fs";
import { Hono } from "hono";
import * as v from "valibot";
import { issuesToProblems } from "../../api/problem.ts";
import { assertSocketPathSafe } from "./safe-socket.ts";
import { killRequest, shutdownRequest, syncProblems, syncRequest, type StatsReply, type StatusReply, type SyncRequest } from "./schema.ts";

export interface DomainManager {
  sync(vmi: SyncRequest["vmi"]): Promise<StatusReply>;
  shutdown(graceSeconds: number): Promise<StatusReply>;
  kill(): Promise<StatusReply>;
  status(): Promise<StatusReply>;
  /** libvirt's figures of the running domain; a CommandError(409) when none runs. */
  stats(): Promise<StatsReply>;
}

/** An error the caller caused: becomes a 4xx with its message. */
export class CommandError extends Error {
  constructor(readonly status: 400 | 404 | 409 | 422, message: string, readonly field?: string) {
    super(message);
  }
}

async function body<T extends v.GenericSchema>(schema: T, req: Request): Promise<v.InferOutput<T>> {
  let json: unknown;
  try {
    json = await req.json();
  } catch {
    throw new CommandError(400, "request body is not JSON");
  }
  const r = v.safeParse(schema, json);
  if (!r.success) {
    const p = issuesToProblems(r.issues)[0]!;
    throw new CommandError(400, `${p.path}: ${p.rule}`, p.path);
  }
  return r.output;
}

/** `logError` gets the failures that are not the caller's fault (500s). */
export function commandApp(manager: DomainManager, extra?: Hono, logError: (line: string) => void = (l) => console.error(l)): Hono {
  const app = extra ?? new Hono();
  app.onError((err, c) => {
    if (err instanceof CommandError) return c.json({ error: err.message, ...(err.field !== undefined ? { field: err.field } : {}) }, err.status);
    logError(`launcher command ${c.req.method} ${c.req.path} failed: ${err.message}`);
    return c.json({ error: err.message }, 500);
  });
  app.post("/v1/sync", async (c) => {
    const { vmi } = await body(syncRequest, c.req.raw);
    const problems = syncProblems({ vmi });
    if (problems.length > 0) throw new CommandError(422, `${problems[0]!.path}: ${problems[0]!.rule}`, problems[0]!.path);
    return c.json(await manager.sync(vmi));
  });
  app.post("/v1/shutdown", async (c) => c.json(await manager.shutdown((await body(shutdownRequest, c.req.raw)).graceSeconds)));
  app.post("/v1/kill", async (c) => {
    await body(killRequest, c.req.raw);
    return c.json(await manager.kill());
  });
  app.get("/v1/status", async (c) => c.json(await manager.status()));
  app.get("/v1/stats", async (c) => c.json(await manager.stats()));
  return app;
}

export interface CommandServer {
  path: string;
  stop(): Promise<void>;
}

/** How long stop() lets requests in flight finish (a shutdown's reply once the guest is off) before closing them. */
export const inFlightGraceMs = 2000;

export function serveCommands(app: Hono, path: string): CommandServer {
  assertSocketPathSafe(path);
  rmSync(path, { force: true });
  const server = Bun.serve({ unix: path, fetch: app.fetch });
  return {
    path,
    stop: async () => {
      // New connections are refused at once; a reply being written (e.g. the shutdown that ended the VM) still goes out.
      await Promise.race([server.stop(false), Bun.sleep(inFlightGraceMs)]);
      await server.stop(true);
      rmSync(path, { force: true });
    },
  };
}
