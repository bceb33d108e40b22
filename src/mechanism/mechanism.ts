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
  /** True on the side that sends as-server in the greeting (PLAIN and CURVE servers). */
  readonly asServer?: boolean;
  /** Set by the engine: an asynchronous step (a ZAP answer) may have moved the handshake on. */
  onReady?: (() => void) | undefined;
  /** 300, 400 or 500 when authentication refused the peer (server: ZAP said so; client: the server's ERROR said so). */
  readonly zapStatus?: number | null;
  /** A protocol fault found asynchronously (a malformed ZAP reply ...). */
  readonly failure?: { reason: string; message: string } | null;
  /** Forget the connection: a late asynchronous answer is ignored. */
  close?(): void;
  /** CURVE: the MESSAGE frame that carries one frame (flags: FLAG_MORE, FLAG_COMMAND). */
  encodeFrame?(flags: number, body: Uint8Array): Buffer;
  /** CURVE: opens a MESSAGE (whole frame body, name included). */
  decodeMessage?(body: Buffer): { more: boolean; command: boolean; body: Buffer };
}
