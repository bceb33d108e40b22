/**
 * @module zmq-ts
 * zmq-ts: ZeroMQ in TypeScript. The public surface is zeromq.js v6's, plus pyzmq's
 * conveniences (Context.instance(), context.socket(type), the type constants,
 * bindToRandomPort).
 */
import { Context, context } from "./context.js";
import { Socket } from "./socket/socket-base.js";
import {
  Pair, Publisher, Subscriber, Request, Reply, Dealer, Router, Pull, Push, XPublisher, XSubscriber, Stream,
} from "./socket/classes.js";
import { bindToRandomPort, type RandomPortOptions } from "./socket/random-port.js";
import { zmqError } from "./errors.js";
import { abstractIpcInteroperable } from "./util/runtime.js";

export { Context, context, Socket, Pair, Publisher, Subscriber, Request, Reply, Dealer, Router, Pull, Push, XPublisher, XSubscriber, Stream };
export { Observer } from "./monitor/observer.js";
export type { Event, EventType, EventOfType } from "./monitor/events.js";
export { curveKeyPair, publicKeyFromSecret } from "./crypto/keys.js";
export { z85Encode, z85Decode } from "./crypto/z85.js";
export * from "./constants.js";
export * from "./devices/index.js";
export { Authenticator, CURVE_ALLOW_ANY, createCertificates, loadCertificate, loadCertificates } from "./auth/index.js";
export type { AuthenticatorOptions, AuthLogger, CurveCallback, Certificate, CreatedCertificates, LoadCertificatesOptions } from "./auth/index.js";
export {
  sendArray, receiveArray, encodeArray, decodeArray, parseDType, dtypeOf, arrayTypeFor, isTypedArray, dtypeNames, hostByteOrder,
} from "./arrays/index.js";
export type {
  ArrayWritable, ArrayReadable, ShapedArray, SendArrayOptions, ReceiveArrayOptions, ArrayMetadata, ReceivedArray,
  ArrayProtocolError, DType, DTypeName, ByteOrder, TypedArray, TypedArrayConstructor,
} from "./arrays/index.js";
export type { ZmqError } from "./errors.js";
export { Frame } from "./socket/frame.js";
export { attachPort } from "./transport/port.js";
export type { AttachPortOptions, PortSocket } from "./transport/port.js";
export { parseMonitorMessage, EVENT_ALL } from "./monitor/wire-format.js";
export { eventIds } from "./monitor/events.js";
export { MessageTracker } from "./pipe/tracker.js";
export type { SendOptions } from "./socket/socket-base.js";
export type { RandomPortOptions };

/** The libzmq version whose behaviour we match. */
export const version = "4.3.5";

/** What this build can do, truthfully: NULL, PLAIN and CURVE; epgm:// multicast; the draft types (zmq-ts/draft) with udp://. */
export const capability: Readonly<Record<string, boolean>> = Object.freeze({
  ipc: true,
  /** ipc://@name reaches libzmq peers (false on Node < 22, whose libuv pads the name). */
  ipcAbstract: abstractIpcInteroperable,
  /** epgm:// (PGM over UDP) for PUB/XPUB/SUB/XSUB, as libzmq with OpenPGM; pgm:// (raw IP) is refused: Node has no raw sockets. */
  pgm: true,
  tipc: false,
  norm: false,
  curve: true,
  gssapi: false,
  /** zmq-ts/draft: SERVER/CLIENT, RADIO/DISH (tcp, ipc, inproc, udp), GATHER/SCATTER, DGRAM (udp), PEER, CHANNEL. */
  draft: true,
});

const byType: Record<number, new (options?: Record<string, unknown>) => Socket> = {
  0: Pair, 1: Publisher, 2: Subscriber, 3: Request, 4: Reply, 5: Dealer, 6: Router,
  7: Pull, 8: Push, 9: XPublisher, 10: XSubscriber, 11: Stream,
};

declare module "./context.js" {
  interface Context {
    /** pyzmq's ctx.socket(zmq.PUSH): a socket of that type in this context. */
    socket(type: number, options?: Record<string, unknown>): Socket;
  }
}

Context.prototype.socket = function socket(this: Context, type: number, options: Record<string, unknown> = {}): Socket {
  const cls = byType[type];
  if (!cls) throw zmqError("EINVAL", `Unknown socket type ${String(type)}`);
  return new cls({ ...options, context: this });
};

declare module "./socket/socket-base.js" {
  interface Socket {
    /** pyzmq's bind_to_random_port: binds `address` (e.g. "tcp://127.0.0.1") to a random port and returns it. */
    bindToRandomPort(address: string, options?: RandomPortOptions): Promise<number>;
  }
}

Socket.prototype.bindToRandomPort = function (this: Socket, address: string, options?: RandomPortOptions) {
  return bindToRandomPort(this, address, options);
};
