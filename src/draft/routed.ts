import { Socket, type SendOptions } from "../socket/socket-base.js";
import type { RoutedMessage } from "../socket/server.js";
import type { PeerStrategy } from "../socket/peer.js";
import type { Message } from "../pipe/msg-queue.js";
import { zmqError } from "../errors.js";
import type * as O from "../socket/option-types.js";

type Options = Record<string, unknown>;

/** What SERVER and PEER messages carry beside their one frame, as zeromq.js names it. */
export interface ServerRoutingOptions {
  routingId: number;
}

/**
 * send() hands the message to prepareSend() synchronously; the routing id rides along
 * in this slot for that one call (a socket instance cannot hold extra fields: it is
 * sealed, as zeromq.js's are).
 */
let routingIdOfSend: number | undefined;

function sendRouted(
  socket: Socket, send: (message: unknown, options?: SendOptions) => Promise<unknown>,
  message: unknown, options: Partial<ServerRoutingOptions> & SendOptions | undefined,
): Promise<unknown> {
  const id = options?.routingId;
  if (typeof id !== "number") return Promise.reject(zmqError("EINVAL", "Invalid argument: send() needs {routingId}"));
  routingIdOfSend = id >>> 0;
  try {
    return send.call(socket, message, options);
  } finally {
    routingIdOfSend = undefined;
  }
}

function withRoutingId(msg: Buffer[]): [Buffer, ServerRoutingOptions] {
  return [msg[0]!, { routingId: (msg as RoutedMessage).routingId ?? 0 }];
}

class RoutedSocket extends Socket {
  override send(message: unknown, options?: SendOptions & Partial<ServerRoutingOptions>): Promise<never> {
    return sendRouted(this, super.send, message, options) as Promise<never>;
  }

  protected override prepareSend(message: unknown, copySmall?: boolean): Message {
    const msg: RoutedMessage = super.prepareSend(message, copySmall);
    msg.routingId = routingIdOfSend;
    return msg;
  }

  override receive(): Promise<Buffer[]> {
    return super.receive().then(withRoutingId) as unknown as Promise<Buffer[]>;
  }
}

class ServerSocket extends RoutedSocket {
  constructor(options?: Options) { super(12, options); }
}

class PeerSocket extends RoutedSocket {
  constructor(options?: Options) { super(19, options); }

  /** libzmq's zmq_connect_peer: connects and returns the routing id of that peer. */
  connectPeer(address: string): number {
    if (this.option<boolean>("immediate")) {
      throw zmqError("EINVAL", "Invalid argument: connectPeer() needs immediate off (the peer gets its id at connect)");
    }
    this.connect(address);
    return (this._strategy as PeerStrategy).lastAttachedId;
  }
}

/** The routed sockets' public shape: one frame plus its routing id, both ways. */
interface Routed {
  send(message: unknown, options: ServerRoutingOptions & SendOptions): Promise<void>;
  receive(): Promise<[Buffer, ServerRoutingOptions]>;
  [Symbol.asyncIterator](): AsyncGenerator<[Buffer, ServerRoutingOptions], undefined, undefined>;
}

type RoutedKeys = "send" | "receive" | typeof Symbol.asyncIterator;

/** SERVER: talks to CLIENTs, each known by a numeric routing id. */
export interface Server extends Omit<ServerSocket, RoutedKeys>, Routed, O.ServerOptions {}
export const Server = ServerSocket as unknown as new (options?: Options) => Server;

/** PEER: a SERVER that also connects to other PEERs (connectPeer returns the new peer's id). */
export interface Peer extends Omit<PeerSocket, RoutedKeys>, Routed, O.PeerOptions {}
export const Peer = PeerSocket as unknown as new (options?: Options) => Peer;
