import { expect, test } from "bun:test";
import { stackPaths } from "./paths.ts";
import { SWTPM_CONFIG_HOME, SWTPM_LOCALCA_DIR, swtpmConfigFiles, swtpmDirs } from "./swtpm.ts";

test("swtpm's configuration and local CA sit in directories the stack binds (etc/, lib/)", () => {
  expect(SWTPM_CONFIG_HOME).toBe("/etc/libvirt/swtpm");
  expect(SWTPM_LOCALCA_DIR).toBe("/var/lib/libvirt/swtpm-localca");
  expect(swtpmDirs(stackPaths("/s"))).toEqual({ configHome: "/s/etc/swtpm", localca: "/s/lib/swtpm-localca" });
});

test("swtpm_setup's configuration sends swtpm_localca to the stack's CA, never /var/lib/swtpm-localca", () => {
  const files = swtpmConfigFiles();
  expect(Object.keys(files).sort()).toEqual(["swtpm-localca.conf", "swtpm-localca.options", "swtpm_setup.conf"]);
  expect(files["swtpm_setup.conf"]).toContain("create_certs_tool_config = /etc/libvirt/swtpm/swtpm-localca.conf\n");
  expect(files["swtpm-localca.conf"]).toContain("statedir = /var/lib/libvirt/swtpm-localca\n");
  for (const text of Object.values(files)) expect(text).not.toMatch(/\/var\/lib\/swtpm-localca|\/etc\/swtpm/);
});
