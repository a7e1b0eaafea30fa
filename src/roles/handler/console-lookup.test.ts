import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Vmi } from "../controller/model.ts";
import type { PodView } from "../controller/reconcile-vmi.ts";
import { consoleLookupOf } from "./console-lookup.ts";
import { realKubeletRoot } from "./launcher-socket.ts";

const kubeletRoot = realKubeletRoot(mkdtempSync(join(tmpdir(), "bunvirt-kubelet-")));
afterAll(() => rmSync(kubeletRoot, { recursive: true, force: true }));
const where = { nodeName: "node-a", kubeletRoot };
const request = { namespace: "ns1", name: "vm1", uid: "aaaa-1" };
const vmi = (phase: string, extra: Partial<Vmi["metadata"]> = {}): Vmi => ({ metadata: { name: "vm1", namespace: "ns1", uid: "aaaa-1", ...extra }, spec: { domain: { devices: {} } }, status: { phase } }) as unknown as Vmi;
const podUid = "0f0f0f0f-1111-2222-3333-444455556666";
const pod = (running: boolean): PodView => ({ metadata: { uid: podUid }, status: { phase: "Running", containerStatuses: [{ name: "compute", state: running ? { running: {} } : { waiting: {} } }] } });

describe("console lookup", () => {
  test("no such VMI, or another uid: 404", () => {
    expect(consoleLookupOf(request, undefined, null, where)).toEqual({ ok: false, code: 404, message: 'VMI "ns1/vm1" with uid "aaaa-1" is not on node "node-a"' });
    expect(consoleLookupOf({ ...request, uid: "bbbb-2" }, vmi("Running"), pod(true), where)).toMatchObject({ ok: false, code: 404 });
  });

  test("not Running, no running launcher, or being deleted: 409 VMI is not running", () => {
    const notRunning = { ok: false, code: 409, message: "VMI is not running" } as const;
    expect(consoleLookupOf(request, vmi("Scheduled"), pod(true), where)).toEqual(notRunning);
    expect(consoleLookupOf(request, vmi("Running"), pod(false), where)).toEqual(notRunning);
    expect(consoleLookupOf(request, vmi("Running"), null, where)).toEqual(notRunning);
    expect(consoleLookupOf(request, vmi("Running", { deletionTimestamp: "2026-01-01T00:00:00Z" }), pod(true), where)).toEqual(notRunning);
  });

  test("Running: the slot is the VMI's uid, and a symlinked console directory fails the connect", async () => {
    const found = consoleLookupOf(request, vmi("Running"), pod(true), where);
    expect(found.ok).toBe(true);
    if (!found.ok) return;
    expect(found.uid).toBe("aaaa-1");
    const state = join(kubeletRoot, "pods", podUid, "volumes", "kubernetes.io~empty-dir", "bunvirt-state");
    mkdirSync(state, { recursive: true });
    symlinkSync("/etc", join(state, "console"));
    await expect(found.connect()).rejects.toThrow("is a symlink");
  });
});
