/**
 * Socket events, typed exactly as zeromq.js v6 exports them (`Event`, `EventType`,
 * `EventOfType`, `EventFor`), plus small factories for the error objects events carry.
 *
 * Event objects have no keys beyond these (users compare them with deepEqual):
 *   { type, address }                 accept, bind, connect, connect:delay, close, disconnect, handshake
 *   { type, address, interval }       connect:retry
 *   { type, address, error }          accept:error, bind:error, close:error, handshake:error:*
 *   { type }                          end, unknown
 * zeromq.js omits `address` when libzmq reports an empty one.
 */

import { zmqError } from "../errors.js";

/** An error with a libzmq errno and its code (accept:error, bind:error, close:error, handshake:error:other). */
export interface ErrnoError extends Error {
  code: string;
  errno: number;
}

/** The error of handshake:error:auth: the ZAP status code, message "Temporary error" / "Authentication failure" / "Internal error". */
export interface AuthError extends Error {
  status: 300 | 400 | 500;
}

export type ProtoErrorCode =
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
  | "ERR_ZAP_UNSPECIFIED"
  | "ERR_ZAP_MALFORMED_REPLY"
  | "ERR_ZAP_BAD_REQUEST_ID"
  | "ERR_ZAP_BAD_VERSION"
  | "ERR_ZAP_INVALID_STATUS_CODE"
  | "ERR_ZAP_INVALID_METADATA";

/** The error of handshake:error:protocol: message "ZMTP protocol error" or "ZAP protocol error". */
export interface ProtoError extends Error {
  code: ProtoErrorCode;
}

export interface EventAddress {
  address: string;
}

export interface EventInterval {
  interval: number;
}

export interface EventError<E = ErrnoError> {
  error: E;
}

export type Expand<T> = T extends infer O ? { [K in keyof O]: O[K] } : never;

/** `EventFor<"bind", {address: string}>` is `{type: "bind", address: string}`. */
// eslint-disable-next-line @typescript-eslint/ban-types
export type EventFor<T extends string, D = {}> = Expand<{ type: T } & D>;

export type Event =
  | EventFor<"accept", EventAddress>
  | EventFor<"accept:error", EventAddress & EventError>
  | EventFor<"bind", EventAddress>
  | EventFor<"bind:error", EventAddress & EventError>
  | EventFor<"connect", EventAddress>
  | EventFor<"connect:delay", EventAddress>
  | EventFor<"connect:retry", EventAddress & EventInterval>
  | EventFor<"close", EventAddress>
  | EventFor<"close:error", EventAddress & EventError>
  | EventFor<"disconnect", EventAddress>
  | EventFor<"end">
  | EventFor<"handshake", EventAddress>
  | EventFor<"handshake:error:protocol", EventAddress & EventError<ProtoError>>
  | EventFor<"handshake:error:auth", EventAddress & EventError<AuthError>>
  | EventFor<"handshake:error:other", EventAddress & EventError>
  | EventFor<"unknown">
  /** zmq-ts: a PGM (epgm://) receiver gave up on `lost` packets of `source` (its TSI); the stream resumed at the next message. */
  | EventFor<"pgm:loss", EventAddress & { source: string; lost: number }>;

export type EventType = Event["type"];

/** The event object for one type, e.g. `EventOfType<"connect:retry">`. */
export type EventOfType<E extends EventType = EventType> = Expand<Extract<Event, Event & EventFor<E>>>;

/**
 * libzmq's ZMQ_EVENT_* number for each event type (v5-compat's monitor reports these).
 * "unknown" has none.
 */
const ids = {
  connect: 0x0001,
  "connect:delay": 0x0002,
  "connect:retry": 0x0004,
  bind: 0x0008,
  "bind:error": 0x0010,
  accept: 0x0020,
  "accept:error": 0x0040,
  close: 0x0080,
  "close:error": 0x0100,
  disconnect: 0x0200,
  end: 0x0400,
  "handshake:error:other": 0x0800,
  handshake: 0x1000,
  "handshake:error:protocol": 0x2000,
  "handshake:error:auth": 0x4000,
  unknown: 0,
} as Record<EventType, number>;
// zmq-ts's own events have no libzmq number: not enumerable, so eventTypes lists libzmq's events only.
Object.defineProperty(ids, "pgm:loss", { value: 0, enumerable: false });
export const eventIds: Readonly<Record<EventType, number>> = Object.freeze(ids);

/** Every event type, in libzmq event-number order. */
export const eventTypes: readonly EventType[] = Object.freeze(
  (Object.keys(eventIds) as EventType[]).sort((a, b) => (eventIds[a] || Infinity) - (eventIds[b] || Infinity)),
);

// ---------------------------------------------------------------------------
// Error factories: the same own properties zeromq.js gives each kind.

/** For accept:error, bind:error, close:error, handshake:error:other: message, code and errno. */
export function errnoError(code: string, message?: string): ErrnoError {
  const err = zmqError(code, message);
  delete (err as { address?: string }).address;
  return err;
}

/** For handshake:error:protocol: message "ZMTP protocol error" / "ZAP protocol error" and `code`, no errno. */
export function protocolError(code: ProtoErrorCode): ProtoError {
  const err = zmqError(code, code.startsWith("ERR_ZAP_") ? "ZAP protocol error" : "ZMTP protocol error");
  delete (err as { errno?: number }).errno;
  return err as unknown as ProtoError;
}

const authMessages: Record<number, string> = {
  300: "Temporary error",
  400: "Authentication failure",
  500: "Internal error",
};

/** For handshake:error:auth: the ZAP status code (300, 400, 500) as `status`; no code, no errno. */
export function authError(status: number): AuthError {
  const err = zmqError("EACCES", authMessages[status] ?? "Unknown error") as unknown as AuthError & {
    code?: string;
    errno?: number;
  };
  delete err.code;
  delete err.errno;
  err.status = status as AuthError["status"];
  return err;
}
