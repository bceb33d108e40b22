import type { EngineEnd } from "../engine/zmtp-engine.js";
import { authError, errnoError, protocolError, type Event, type ProtoErrorCode } from "../monitor/events.js";

/**
 * The protocol error of an event. libzmq's codes get zeromq.js's exact error; our own
 * finer reasons (a ZMTP 1.0 greeting, an oversized frame ...) keep their code and
 * say what happened after the same prefix.
 */
export function protocolErrorFor(reason: string, detail: string): Error {
  const err = protocolError(reason as ProtoErrorCode);
  if (!LIBZMQ_CODES.has(reason)) err.message = `ZMTP protocol error: ${detail}`;
  return err;
}

const LIBZMQ_CODES = new Set<string>([
  "ERR_ZAP_UNSPECIFIED", "ERR_ZAP_MALFORMED_REPLY", "ERR_ZAP_BAD_REQUEST_ID", "ERR_ZAP_BAD_VERSION",
  "ERR_ZAP_INVALID_STATUS_CODE", "ERR_ZAP_INVALID_METADATA",
  "ERR_ZMTP_UNSPECIFIED", "ERR_ZMTP_UNEXPECTED_COMMAND", "ERR_ZMTP_INVALID_SEQUENCE", "ERR_ZMTP_KEY_EXCHANGE",
  "ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", "ERR_ZMTP_MALFORMED_COMMAND_MESSAGE", "ERR_ZMTP_MALFORMED_COMMAND_HELLO",
  "ERR_ZMTP_MALFORMED_COMMAND_INITIATE", "ERR_ZMTP_MALFORMED_COMMAND_ERROR", "ERR_ZMTP_MALFORMED_COMMAND_READY",
  "ERR_ZMTP_MALFORMED_COMMAND_WELCOME", "ERR_ZMTP_INVALID_METADATA", "ERR_ZMTP_CRYPTOGRAPHIC",
  "ERR_ZMTP_MECHANISM_MISMATCH",
]);

/** The event a connection's end produces: disconnect after a handshake, a typed handshake error before. */
export function engineEndEvent(end: EngineEnd, handshaked: boolean, address: string): Event | null {
  if (handshaked) return { type: "disconnect", address };
  if (end.kind === "protocol") {
    return { type: "handshake:error:protocol", address, error: protocolErrorFor(end.reason, end.message) } as Event;
  }
  if (end.kind === "auth") {
    return { type: "handshake:error:auth", address, error: authError(end.status) } as Event;
  }
  if (end.kind === "timeout") {
    return { type: "handshake:error:other", address, error: errnoError("ETIMEDOUT", end.message) } as Event;
  }
  return null;
}
