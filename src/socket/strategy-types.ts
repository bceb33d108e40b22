import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import type { AcceptHandler } from "../transport/net-listener.js";
import type { ConnectHandler } from "../transport/net-connecter.js";
import type { Event } from "../monitor/events.js";

/**
 * The routing of one socket type, as libzmq's x* hooks: it chooses pipes and keeps
 * per-type state, and never touches I/O or promises. The socket calls it; it calls
 * back through its host when a state change may let a waiting send or receive go.
 */
export interface Strategy {
  attach(pipe: Pipe): void;
  /** A handshake completed on the pipe (first time or after a reconnect). */
  handshake?(pipe: Pipe, peer: PeerInfo): void;
  terminated(pipe: Pipe): void;
  readActivated(pipe: Pipe): void;
  writeActivated(pipe: Pipe): void;
  /** Takes the message; false when it cannot now; throws for errors (EFSM, EHOSTUNREACH ...). */
  send(msg: Message): boolean;
  /** The next message for the application, or null. */
  recv(): Message | null;
  hasIn(): boolean;
  hasOut(): boolean;
  acceptHandler?(): AcceptHandler;
  connectHandler?(): ConnectHandler;
}

/** What a strategy may ask of its socket. */
export interface StrategyHost {
  option<T>(name: string): T;
  routingIdentity(): Buffer | null;
  serveSends(): void;
  serveReceives(): void;
  emit(event: Event): void;
  readonly socketTypeName: string;
}

export type StrategyFactory = (host: StrategyHost) => Strategy;
