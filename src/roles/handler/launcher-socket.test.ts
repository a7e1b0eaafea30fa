import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realKubeletRoot, safeConsoleSocket, safeLauncherSocket, safeStateDir } from "./launcher-socket.ts";

const root = realKubeletRoot(mkdtempSync(join(tmpdir(), "bunvirt-kubelet-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const emptyDirs = (uid: string): string => join(root, "pods", uid, "volumes", "kubernetes.io~empty-dir");

describe("the launcher's paths on the node", () => {
  test("a real socket in the pod's socket volume is used", () => {
    const uid = "11111111-2222-3333-4444-555555555555";
    mkdirSync(join(emptyDirs(uid), "bunvirt-sockets"), { recursive: true });
    const path = join(emptyDirs(uid), "bunvirt-sockets", "launcher.sock");
    const server = Bun.listen({ unix: path, socket: { data() {} } });
    try {
      expect(safeLauncherSocket(root, uid)).toBe(path);
    } finally {
      server.stop(true);
    }
  });

  test("a socket volume that is a symlink out of the pod is refused", () => {
    const uid = "22222222-2222-3333-4444-555555555555";
    const elsewhere = mkdtempSync(join(tmpdir(), "bunvirt-elsewhere-"));
    mkdirSync(emptyDirs(uid), { recursive: true });
    symlinkSync(elsewhere, join(emptyDirs(uid), "bunvirt-sockets"));
    try {
      expect(() => safeLauncherSocket(root, uid)).toThrow("is a symlink");
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test("a socket that is a symlink is refused", () => {
    const uid = "33333333-2222-3333-4444-555555555555";
    mkdirSync(join(emptyDirs(uid), "bunvirt-sockets"), { recursive: true });
    symlinkSync("/run/containerd/containerd.sock", join(emptyDirs(uid), "bunvirt-sockets", "launcher.sock"));
    expect(() => safeLauncherSocket(root, uid)).toThrow("is a symlink");
  });

  test("a pod uid that is not a UID is refused before any file is looked at", () => {
    expect(() => safeLauncherSocket(root, "../../etc")).toThrow('Cannot locate the launcher socket: pod uid "../../etc" is not a UID');
  });

  test("a state directory reached through a symlink is refused", () => {
    const uid = "44444444-2222-3333-4444-555555555555";
    mkdirSync(join(emptyDirs(uid), "bunvirt-state"), { recursive: true });
    expect(safeStateDir(root, uid, "container-disks")).toBe(join(emptyDirs(uid), "bunvirt-state", "container-disks"));
    symlinkSync("/etc", join(emptyDirs(uid), "bunvirt-state", "container-disks"));
    expect(() => safeStateDir(root, uid, "container-disks")).toThrow("is a symlink");
  });

  test("the serial console socket: its path, and a console directory or socket that is a symlink refused", () => {
    const uid = "55555555-2222-3333-4444-555555555555";
    const state = join(emptyDirs(uid), "bunvirt-state");
    mkdirSync(state, { recursive: true });
    symlinkSync("/etc", join(state, "console"));
    expect(() => safeConsoleSocket(root, uid)).toThrow("is a symlink");
    rmSync(join(state, "console"));
    mkdirSync(join(state, "console"));
    expect(safeConsoleSocket(root, uid)).toBe(join(state, "console", "serial0"));
    symlinkSync("/run/containerd/containerd.sock", join(state, "console", "serial0"));
    expect(() => safeConsoleSocket(root, uid)).toThrow("is a symlink");
  });
});
