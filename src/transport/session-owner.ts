import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import type { Mechanism } from "../mechanism/mechanism.js";
import type { EngineOptions } from "../engine/zmtp-engine.js";
import type { Event } from "../monitor/events.js";

/**
 * What a transport needs from the socket it serves. Transports create connections
 * and pipes; the socket decides routing. Keeping this narrow keeps transport/ free
 * of socket types.
 */
export interface SessionOwner {
  /** The ZMTP name of our socket type, e.g. "DEALER". */
  readonly socketTypeName: string;
  readonly closed: boolean;
  /** Reads an option by its public name. */
  option<T>(name: string): T;
  engineOptions(): EngineOptions;
  /** The security mechanism for a new connection; `peerAddress` is what ZAP is told. */
  createMechanism(accepted: boolean, peerAddress?: string): Mechanism;
  /** A promise when the mechanism needs something loaded first (CURVE's crypto), else null. */
  mechanismReady(): Promise<void> | null;
  /** A new pipe owned by the socket, with its high-water marks. */
  createPipe(endpoint: string): Pipe;
  /** The pipe joins the socket's routing. */
  attachPipe(pipe: Pipe): void;
  /** A handshake completed on the pipe (each time, also after reconnects). */
  pipeHandshaked(pipe: Pipe, peer: PeerInfo): void;
  emit(event: Event): void;
}
