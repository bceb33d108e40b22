import { Socket } from "../socket/socket-base.js";
import type * as O from "../socket/option-types.js";

type Options = Record<string, unknown>;

/** CLIENT: talks to SERVERs; round-robin out, fair-queue in, one frame per message. */
export interface Client extends O.ClientOptions {}
export class Client extends Socket {
  constructor(options?: Options) { super(13, options); }
}

/** GATHER: fair-queues single-frame messages from SCATTERs. */
export interface Gather extends O.GatherOptions {}
export class Gather extends Socket {
  constructor(options?: Options) { super(16, options); }
}

/** SCATTER: load-balances single-frame messages over GATHERs. */
export interface Scatter extends O.ScatterOptions {}
export class Scatter extends Socket {
  constructor(options?: Options) { super(17, options); }
}

/** DGRAM: raw udp datagrams as [address "ip:port", body] messages. */
export interface Datagram extends O.DatagramOptions {}
export class Datagram extends Socket {
  constructor(options?: Options) { super(18, options); }
}

/** CHANNEL: a PAIR of single-frame messages (libzmq's thread-safe PAIR). */
export interface Channel extends O.ChannelOptions {}
export class Channel extends Socket {
  constructor(options?: Options) { super(20, options); }
}
