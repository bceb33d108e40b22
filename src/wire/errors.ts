/**
 * The one error type the wire layer raises for anything a peer sent us. `reason` is
 * libzmq's protocol-error name (ZMQ_PROTOCOL_ERROR_ZMTP_*, without the ZMQ_PROTOCOL_
 * prefix) where one exists, so the engine can report it through the monitor unchanged.
 */

/** Reasons used by the wire layer and the mechanisms. Documentation only: `reason` is typed `string`. */
export type WireErrorReason =
  | "ERR_ZMTP_UNSPECIFIED"
  | "ERR_ZMTP_UNEXPECTED_COMMAND"
  | "ERR_ZMTP_INVALID_SEQUENCE"
  | "ERR_ZMTP_KEY_EXCHANGE"
  | "ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED"
  | "ERR_ZMTP_MALFORMED_COMMAND_MESSAGE"
  | "ERR_ZMTP_MALFORMED_COMMAND_HELLO"
  | "ERR_ZMTP_MALFORMED_COMMAND_INITIATE"
  | "ERR_ZMTP_MALFORMED_COMMAND_ERROR"
  | "ERR_ZMTP_MALFORMED_COMMAND_READY"
  | "ERR_ZMTP_MALFORMED_COMMAND_WELCOME"
  | "ERR_ZMTP_INVALID_METADATA"
  | "ERR_ZMTP_CRYPTOGRAPHIC"
  | "ERR_ZMTP_MECHANISM_MISMATCH"
  // Ours (libzmq reports these as plain EPROTO / EMSGSIZE or not at all):
  | "ERR_ZMTP_MALFORMED_FRAME"
  | "ERR_ZMTP_MESSAGE_TOO_LARGE"
  | "ERR_ZMTP_UNSUPPORTED_VERSION"
  | "ERR_ZMTP_BAD_GREETING";

export class WireError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "WireError";
  }
}

export const isWireError = (e: unknown, reason?: string): e is WireError =>
  e instanceof WireError && (reason === undefined || e.reason === reason);
