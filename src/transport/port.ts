import type { MessagePort } from "node:worker_threads";
import { MsgQueue } from "../pipe/msg-queue.js";
import type { Pipe, PeerInfo, PipeOwner } from "../pipe/pipe.js";
import { isCompatible } from "../mechanism/socket-types.js";
import { protocolErrorFor } from "./end-events.js";
import { zmqError } from "../errors.js";
import type { Event } from "../monitor/events.js";
import { CreditQueue, PortEngine, PortPipe, type PortHello } from "../engine/port-engine.js";

/** What attachPort needs from a socket: every zmq-ts Socket is one. */
export interface PortSocket extends PipeOwner {
  readonly socketTypeName: string;
  readonly closed: boolean;
  hwm(): { sndhwm: number; rcvhwm: number };
  conflates(): boolean;
  lingerMs(): number;
  routingIdentity(): Buffer | null;
  attachPipe(pipe: Pipe): void;
  pipeHandshaked(pipe: Pipe, peer: PeerInfo): void;
  emit(event: Event): void;
}

export interface AttachPortOptions {
  /**
   * Move, instead of copy, the ArrayBuffer of every frame that alone owns its buffer
   * (byteOffset 0, byteLength the whole buffer, not a SharedArrayBuffer, not from
   * Node's small-Buffer pool). Zero copy, but the SENDER'S BUFFER IS DETACHED once the
   * message leaves: its views read as empty (byteLength 0) from then on, so do not
   * touch or resend it. Ignored by PUB and XPUB, which hand one message to several
   * peers (use a SharedArrayBuffer there). Default false: such frames are copied once.
   */
  transfer?: boolean;
  /** The address in this connection's events; default "port". */
  address?: string;
}

/**
 * Joins `socket` to one peer socket on the other end of a MessagePort: two threads
 * of one process (worker_threads), each with its own Context, then talk as over
 * inproc. Both sides call attachPort with their end of one `new MessageChannel()`.
 *
 *   // main thread
 *   const { port1, port2 } = new MessageChannel();
 *   const worker = new Worker(file, { workerData: { port: port2 }, transferList: [port2] });
 *   const pull = new zmq.Pull();
 *   attachPort(pull, port1);
 *   // worker
 *   const push = new zmq.Push();
 *   attachPort(push, workerData.port, { transfer: true });
 *   await push.send(new Float64Array(1 << 23));   // moved, not copied
 *
 * Like an inproc connection: the socket types are checked (an incompatible pair is
 * refused with a `handshake:error:protocol` event on both sides, and the port is
 * closed), a ROUTER sees the peer's routing id, messages arrive whole and in order.
 * The pipe joins the socket at once (sends may queue on it); traffic starts when
 * the peer's hello arrives, and then the socket emits `handshake`. When the peer goes
 * (its socket closes, it detaches, its thread ends) the port closes and this side
 * emits `disconnect`; what had arrived stays readable.
 *
 * Memory: frames on a SharedArrayBuffer arrive as views of the same shared memory;
 * with `transfer` a frame that owns its ArrayBuffer moves with it; anything else is
 * copied exactly once (only its own bytes). Received frames are Buffers over the
 * memory that arrived.
 *
 * Back-pressure: a MessagePort cannot be paused, so the receiver grants credit: the
 * sender posts at most the receiver's receiveHighWaterMark (as it was at attach time)
 * of messages not yet taken by the receiving socket, and keeps the rest in its own
 * queue (sendHighWaterMark, then send() waits or fails with EAGAIN as usual). With
 * a receiveHighWaterMark of 0, or conflate, there is no limit.
 *
 * Closing the socket closes the port; with a non-zero linger, messages still queued
 * are posted first (the port delivers them). The returned function detaches (the
 * same, without closing the socket). The port is unref'd: an idle connection does
 * not keep the thread alive. A peer that never attaches leaves the pipe waiting.
 */
export function attachPort(socket: PortSocket, port: MessagePort, options: AttachPortOptions = {}): () => void {
  if (socket.closed) throw zmqError("EBADF");
  if (!port || typeof port.postMessage !== "function" || typeof port.on !== "function") {
    throw new TypeError("attachPort needs a MessagePort");
  }
  const ours = socket.socketTypeName;
  if (ours === "STREAM") throw zmqError("ENOCOMPATPROTO");
  const address = options.address ?? "port";
  const fanOut = ours === "PUB" || ours === "XPUB";
  const transfer = options.transfer === true && !fanOut;

  const { sndhwm, rcvhwm } = socket.hwm();
  const conflate = socket.conflates();
  const inbound = new CreditQueue(rcvhwm, conflate);
  const pipe = new PortPipe(socket, inbound, new MsgQueue(sndhwm, conflate), address);
  const id = socket.routingIdentity();
  const hello: PortHello = {
    zmtsHello: 1,
    socketType: ours,
    // A copy: a pooled Buffer would clone its whole 8 KiB slab.
    identity: id ? new Uint8Array(id) : null,
    window: conflate ? 0 : rcvhwm,
  };

  let detaching = false;
  const engine: PortEngine = new PortEngine(port, pipe, inbound, { transfer, hello }, {
    hello(peer: PortHello): boolean {
      if (pipe.terminated) return false;
      if (!isCompatible(ours, peer.socketType)) {
        const reason = `socket type ${ours} cannot talk to ${peer.socketType}`;
        socket.emit({ type: "handshake:error:protocol", address, error: protocolErrorFor("ERR_ZMTP_INVALID_METADATA", reason) } as Event);
        pipe.terminate();
        return false;
      }
      const metadata = new Map<string, Buffer>([["Socket-Type", Buffer.from(peer.socketType)]]);
      const pid = peer.identity;
      if (pid && pid.byteLength > 0) metadata.set("Identity", Buffer.from(pid.buffer, pid.byteOffset, pid.byteLength));
      const info: PeerInfo = { socketType: peer.socketType, metadata, zmtpMinor: 1 };
      pipe.peer = info;
      socket.pipeHandshaked(pipe, info);
      if (pipe.terminated) return false; // e.g. a ROUTER refused a routing id already taken
      socket.emit({ type: "handshake", address });
      return true;
    },
    closed(): void {
      const was = engine.handshaked;
      pipe.terminate();
      if (was) socket.emit({ type: "disconnect", address });
    },
  });
  // Ends the connection when the pipe ends, whoever ends it (close(), detach, the routing).
  pipe.onTerminate = () => {
    const lingering = (socket.closed || detaching) && socket.lingerMs() !== 0;
    engine.pipeTerminating(lingering);
  };
  socket.attachPipe(pipe);

  return () => {
    if (pipe.terminated) return;
    detaching = true;
    pipe.terminate();
  };
}
