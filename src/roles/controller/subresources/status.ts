/**
 * Kubernetes Status answers (kind Status, apiVersion v1) in the API server's
 * and KubeVirt's wording: `Operation cannot be fulfilled on
 * virtualmachine.kubevirt.io "NAME": VM is not running`, `... not found`,
 * `... is forbidden: User "U" cannot update resource ...`. Content-Type is
 * exactly `application/json`: virtctl shows a Status message only then.
 */

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { message: string }[] };
  code: number;
}

/** An error that becomes a Status answer. */
export class StatusError extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message);
  }
}

/** A group-qualified resource as KubeVirt names it in messages (v1.Resource("virtualmachine")). */
export interface GroupResource {
  group: string;
  resource: string;
}

export const vmResource: GroupResource = { group: "kubevirt.io", resource: "virtualmachine" };
export const vmiResource: GroupResource = { group: "kubevirt.io", resource: "virtualmachineinstance" };

const qualified = (r: GroupResource): string => (r.group === "" ? r.resource : `${r.resource}.${r.group}`);

function failure(code: number, reason: string, message: string, details?: StatusBody["details"]): StatusError {
  return new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details !== undefined ? { details } : {}), code });
}

export function conflict(r: GroupResource, name: string, why: string): StatusError {
  return failure(409, "Conflict", `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, { name, group: r.group, kind: r.resource });
}

export function notFound(r: GroupResource, name: string): StatusError {
  return failure(404, "NotFound", `${qualified(r)} "${name}" not found`, { name, group: r.group, kind: r.resource });
}

export function badRequest(message: string): StatusError {
  return failure(400, "BadRequest", message);
}

export function internalError(message: string): StatusError {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function methodNotAllowed(method: string): StatusError {
  return failure(405, "MethodNotAllowed", `the server does not allow this method on the requested resource: ${method}`);
}

export function pathNotFound(): StatusError {
  return failure(404, "NotFound", "the server could not find the requested resource");
}

export function unauthorized(): StatusError {
  return failure(401, "Unauthorized", "Unauthorized");
}

/** The API server's RBAC wording for a denied subresource request. */
export function forbidden(a: { user: string; verb: string; group: string; resource: string; subresource: string; namespace: string; name: string; reason?: string }): StatusError {
  const message = `${a.resource}.${a.group} "${a.name}" is forbidden: User "${a.user}" cannot ${a.verb} resource "${a.resource}/${a.subresource}" `
    + `in API group "${a.group}" in the namespace "${a.namespace}"${a.reason !== undefined && a.reason !== "" ? `: ${a.reason}` : ""}`;
  return failure(403, "Forbidden", message, { name: a.name, group: a.group, kind: a.resource });
}

/** The answer for a thrown value: its Status, or a 500 with its message. */
export function statusResponse(e: unknown): Response {
  const body = e instanceof StatusError ? e.body : internalError(e instanceof Error ? e.message : String(e)).body;
  return jsonResponse(body, body.code);
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
