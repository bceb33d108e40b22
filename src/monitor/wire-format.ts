import { eventIds, type Event } from "./events.js";

/** libzmq's ZMQ_EVENT_ALL. */
export const EVENT_ALL = 0xffff;

/** libzmq's ZMQ_PROTOCOL_ERROR_* numbers, the value of a HANDSHAKE_FAILED_PROTOCOL event. */
const protocolErrorValues: Readonly<Record<string, number>> = {
  ERR_ZMTP_UNSPECIFIED: 0x10000000,
  ERR_ZMTP_UNEXPECTED_COMMAND: 0x10000001,
  ERR_ZMTP_INVALID_SEQUENCE: 0x10000002,
  ERR_ZMTP_KEY_EXCHANGE: 0x10000003,
  ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED: 0x10000011,
  ERR_ZMTP_MALFORMED_COMMAND_MESSAGE: 0x10000012,
  ERR_ZMTP_MALFORMED_COMMAND_HELLO: 0x10000013,
  ERR_ZMTP_MALFORMED_COMMAND_INITIATE: 0x10000014,
  ERR_ZMTP_MALFORMED_COMMAND_ERROR: 0x10000015,
  ERR_ZMTP_MALFORMED_COMMAND_READY: 0x10000016,
  ERR_ZMTP_MALFORMED_COMMAND_WELCOME: 0x10000017,
  ERR_ZMTP_INVALID_METADATA: 0x10000018,
  ERR_ZMTP_CRYPTOGRAPHIC: 0x11000001,
  ERR_ZMTP_MECHANISM_MISMATCH: 0x11000002,
  ERR_ZAP_UNSPECIFIED: 0x20000000,
  ERR_ZAP_MALFORMED_REPLY: 0x20000001,
  ERR_ZAP_BAD_REQUEST_ID: 0x20000002,
  ERR_ZAP_BAD_VERSION: 0x20000003,
  ERR_ZAP_INVALID_STATUS_CODE: 0x20000004,
  ERR_ZAP_INVALID_METADATA: 0x20000005,
};

/** The 32-bit value libzmq puts in an event: the retry interval, the ZAP status, the protocol error, an errno; 0 where it would be a file descriptor. */
function valueOf(event: Event): number {
  const e = event as { interval?: number; error?: { status?: number; code?: string; errno?: number } };
  if (event.type === "connect:retry") return e.interval ?? 0;
  if (event.type === "handshake:error:auth") return e.error?.status ?? 0;
  if (event.type === "handshake:error:protocol") return protocolErrorValues[e.error?.code ?? ""] ?? 0x10000000;
  if (e.error && typeof e.error.errno === "number") return e.error.errno;
  return 0;
}

/**
 * An event in libzmq's monitor format (zmq_socket_monitor, version 1), as pyzmq's
 * get_monitor_socket() and parse_monitor_message() read it: frame 1 is the event
 * number (u16, little-endian) then the value (u32, little-endian), frame 2 the endpoint.
 */
export function encodeMonitorEvent(event: Event): Buffer[] | null {
  const id = eventIds[event.type];
  if (!id) return null;
  const head = Buffer.allocUnsafe(6);
  head.writeUInt16LE(id, 0);
  head.writeUInt32LE(valueOf(event) >>> 0, 2);
  const address = (event as { address?: string }).address ?? "";
  return [head, Buffer.from(address)];
}

/** Reads a monitor message back: {event, value, endpoint} (pyzmq's parse_monitor_message). */
export function parseMonitorMessage(frames: Buffer[]): { event: number; value: number; endpoint: string } {
  const head = frames[0];
  if (!head || head.length !== 6 || frames.length !== 2) throw new TypeError("not a monitor message: want [6-byte event, endpoint]");
  return { event: head.readUInt16LE(0), value: head.readUInt32LE(2), endpoint: frames[1]!.toString() };
}
