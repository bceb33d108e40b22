/**
 * The cluster's errors: each an Error with a `code`, as the library's own are.
 *
 * - EPROTO: a message that is not a well-formed, correctly signed cluster message.
 * - EENGINEDIED: the engine running a task (or a peer in a collective) left the cluster.
 * - ETASK: the task itself threw on the engine (`ename`, `evalue`, `traceback` carry it).
 * - ETIMEDOUT: a wait the caller bounded ran out.
 * - ECLOSED: the client, engine or controller was stopped while the call waited.
 */
export type ClusterErrorCode = "EPROTO" | "EENGINEDIED" | "ETASK" | "ETIMEDOUT" | "ECLOSED" | "EINVAL" | "EABORTED";

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;
  /** The engine concerned, when there is one. */
  engineId?: number;
  /** For ETASK: the remote error's name, message and stack as text. */
  ename?: string;
  evalue?: string;
  traceback?: string[];

  constructor(code: ClusterErrorCode, message: string, fields: Partial<Pick<ClusterError, "engineId" | "ename" | "evalue" | "traceback">> = {}) {
    super(message);
    this.name = "ClusterError";
    this.code = code;
    Object.assign(this, fields);
  }
}
