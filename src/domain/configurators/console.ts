/**
 * Serial console (autoattachSerialConsole, default on) on the unix socket the
 * launcher gives, optionally logged to a file; a pty when there is no socket.
 */
import type { Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const serialConsole: Configurator = ({ spec, facts }) => {
  if (spec.domain.devices.autoattachSerialConsole === false) return {};
  const log = facts.serialLog === undefined ? null : el("log", { file: facts.serialLog, append: "on" });
  const source = facts.serialSocket === undefined ? null : el("source", { mode: "bind", path: facts.serialSocket });
  const type = facts.serialSocket === undefined ? "pty" : "unix";
  return {
    serials: [el("serial", { type }, source, el("target", { type: "isa-serial", port: 0 }, el("model", { name: "isa-serial" })), log)],
    consoles: [el("console", { type }, source, el("target", { type: "serial", port: 0 }))],
  };
};
