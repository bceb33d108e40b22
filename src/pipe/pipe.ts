import { MsgQueue, type Message } from "./msg-queue.js";

/** What the socket learns about the peer at the other end of a pipe. */
export interface PeerInfo {
  /** The peer's Socket-Type from its READY, e.g. "DEALER". */
  socketType: string;
  /** Every property of the peer's READY (Identity, Socket-Type and any others). */
  metadata: Map<string, Buffer>;
  /** ZMTP minor version the peer greeted with (0 for 3.0, 1 for 3.1); inproc counts as 1. */
  zmtpMinor: number;
  /** The peer's IP address (tcp), as libzmq's Peer-Address property; absent for ipc and inproc. */
  address?: string;
}

/** The socket's side of the contract: the pipe tells it about traffic and endings. */
export interface PipeOwner {
  /** The pipe the socket read its last message from (for the properties of received Frames). */
  lastSource: Pipe | null;
  pipeReadable(pipe: Pipe): void;
  pipeWritable(pipe: Pipe): void;
  pipeTerminated(pipe: Pipe): void;
}

let nextPipeId = 1;

/**
 * The socket's view of one peer: an inbound and an outbound message queue, each
 * bounded by a high-water mark. Routing strategies only ever see pipes; whether a
 * pipe is fed by a tcp engine or joined to another socket's pipe (inproc) is not
 * their business.
 */
export class Pipe {
  readonly id = nextPipeId++;
  /** The id a ROUTER uses for this peer; assigned by the router. */
  routingId: Buffer | null = null;
  /** Set by the transport after each successful handshake. */
  peer: PeerInfo | null = null;
  /** For an inproc pipe: reads the other socket's current marks, since each queue's bound is a sum of two. */
  peerHwm: (() => { sndhwm: number; rcvhwm: number }) | null = null;
  /** True for an in-process pipe: its outbound queue is the peer's inbound queue (already delivered). */
  inproc = false;
  /** True once the pipe has ended; it may still hold inbound messages to drain. */
  terminated = false;

  constructor(
    readonly owner: PipeOwner,
    /** Messages from the peer, read by the socket. */
    readonly inbound: MsgQueue,
    /** Messages to the peer, written by the socket. */
    readonly outbound: MsgQueue,
    /** The endpoint this pipe belongs to, as the user wrote it (for events and disconnect). */
    readonly endpoint: string,
  ) {
    inbound.onReadable = () => {
      if (!this.terminated) owner.pipeReadable(this);
    };
    outbound.onWritable = () => {
      if (!this.terminated) owner.pipeWritable(this);
    };
  }

  /** Queues a whole message for the peer; false when the high-water mark is reached. */
  write(msg: Message): boolean {
    if (this.terminated) return false;
    return this.outbound.push(msg);
  }

  /** True when a write would be taken now. */
  get writable(): boolean {
    return !this.terminated && !this.outbound.full && !this.outbound.ended;
  }

  /** Takes the next whole message from the peer, if any. */
  read(): Message | undefined {
    const msg = this.inbound.shift();
    if (msg !== undefined) {
      this.owner.lastSource = this;
      // In-process delivery: the receiving socket has it now.
      if (msg.tracker) msg.tracker.release();
    }
    return msg;
  }

  get readable(): boolean {
    return this.inbound.length > 0;
  }

  /**
   * Ends the pipe: what the socket had queued for the peer is dropped (RFC 28-30:
   * a disconnected peer's queue is destroyed); what the peer had sent stays readable
   * until drained. The owner is told once.
   */
  terminate(dropOutbound = true): void {
    if (this.terminated) return;
    this.terminated = true;
    this.outbound.ended = true;
    // inproc passes false: its outbound queue is the peer's inbound queue, already delivered.
    if (dropOutbound) this.outbound.clear();
    this.inbound.ended = true;
    this.owner.pipeTerminated(this);
  }
}

/** libzmq's inproc bound: the sum of two marks, where 0 on either side means no bound. */
export const sumHwm = (x: number, y: number): number => (x === 0 || y === 0 ? 0 : x + y);

/** Applies new marks to a live pipe. */
export function updatePipeHwm(pipe: Pipe, sndhwm: number, rcvhwm: number): void {
  const peer = pipe.peerHwm?.();
  pipe.outbound.setCapacity(peer ? sumHwm(sndhwm, peer.rcvhwm) : sndhwm);
  pipe.inbound.setCapacity(peer ? sumHwm(peer.sndhwm, rcvhwm) : rcvhwm);
}

/** Makes a pipe with its own two queues (the tcp/ipc case: an engine feeds and drains it). */
export function createPipe(owner: PipeOwner, sndhwm: number, rcvhwm: number, endpoint: string, conflate = false): Pipe {
  return new Pipe(owner, new MsgQueue(rcvhwm, conflate), new MsgQueue(sndhwm, conflate), endpoint);
}
