import type { Command } from "../wire/commands.js";

/** What a mechanism needs to know about the socket it speaks for. */
export interface MechanismOptions {
  /** Our ZMTP Socket-Type name, e.g. "DEALER". */
  socketType: string;
  /** Our routing id, sent as the Identity property by REQ, DEALER and ROUTER. */
  routingId: Buffer | null;
  /** True on the side that accepted the connection. */
  accepted: boolean;
}

export type MechanismStatus = "handshaking" | "ready" | "error";

/**
 * A security handshake as a state machine: no sockets, no timers. The engine asks
 * it for the next command to send and feeds it the commands that arrive, until it
 * says "ready" (the peer's metadata is then known) or throws a WireError.
 */
export interface Mechanism {
  readonly name: string;
  readonly status: MechanismStatus;
  /** The next handshake command frame to send (whole frame), or null if none now. */
  nextCommand(): Buffer | null;
  /** Handles one handshake command from the peer; throws WireError on a protocol fault. */
  processCommand(cmd: Command): void;
  /** The peer's properties (from READY, or INITIATE for CURVE). */
  readonly peerMetadata: Map<string, Buffer>;
  /** The reason text of an ERROR command the peer sent, if any. */
  readonly peerError: string | null;
}
