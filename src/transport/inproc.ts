import { MsgQueue } from "../pipe/msg-queue.js";
import { Pipe, sumHwm as sum, type PeerInfo } from "../pipe/pipe.js";
import { isCompatible } from "../mechanism/socket-types.js";
import { zmqError } from "../errors.js";
import type { PipeOwner } from "../pipe/pipe.js";

/** What the inproc registry needs from a socket. */
export interface InprocSocket extends PipeOwner {
  readonly socketTypeName: string;
  readonly closed: boolean;
  hwm(): { sndhwm: number; rcvhwm: number };
  /** ZMQ_CONFLATE: keep only the newest message in the socket's queues. */
  conflates(): boolean;
  /** The socket's linger (ms, -1 forever): a closed connecter's queued messages wait for a bind that long. */
  lingerMs(): number;
  routingIdentity(): Buffer | null;
  attachPipe(pipe: Pipe): void;
  pipeHandshaked(pipe: Pipe, peer: PeerInfo): void;
  inprocRefused(address: string, reason: string): void;
}

interface PendingConnect {
  socket: InprocSocket;
  pipe: Pipe;
  address: string;
}


/**
 * inproc endpoints of one Context. Two sockets are joined by a pair of message
 * queues: one side's outbound queue is the other's inbound queue, so messages are
 * handed over by reference and never encoded. A connect before the bind gets its
 * pipe at once (sends queue on it) and is joined when the bind comes, as libzmq does.
 */
export class InprocRegistry {
  private readonly bound = new Map<string, InprocSocket>();
  private readonly pending = new Map<string, PendingConnect[]>();
  /** Pipes by socket and address, so unbind/disconnect/close can end them. */
  private readonly links = new Map<InprocSocket, Set<{ address: string; mine: Pipe; theirs: Pipe | null }>>();

  bind(name: string, socket: InprocSocket, address: string): void {
    if (this.bound.has(name)) throw zmqError("EADDRINUSE", "Address already in use", address);
    this.bound.set(name, socket);
    const waiting = this.pending.get(name);
    this.pending.delete(name);
    for (const p of waiting ?? []) {
      if (!p.socket.closed) this.join(p.socket, p.pipe, socket, p.address);
      else this.adoptOrphan(p, socket);
    }
  }

  unbind(name: string, socket: InprocSocket): boolean {
    if (this.bound.get(name) !== socket) return false;
    this.bound.delete(name);
    this.endLinks(socket, (l) => l.address === `inproc://${name}`);
    return true;
  }

  boundTo(name: string): InprocSocket | undefined {
    return this.bound.get(name);
  }

  connect(name: string, socket: InprocSocket, address: string, routingId: Buffer | null = null): void {
    const { sndhwm, rcvhwm } = socket.hwm();
    // Capacities are completed with the binder's marks when it arrives.
    const conflate = socket.conflates();
    const pipe = new Pipe(socket, new MsgQueue(rcvhwm, conflate), new MsgQueue(sndhwm, conflate), address);
    pipe.routingId = routingId;
    pipe.inproc = true;
    const binder = this.bound.get(name);
    if (binder) {
      this.join(socket, pipe, binder, address);
      return;
    }
    socket.attachPipe(pipe);
    this.link(socket, { address, mine: pipe, theirs: null });
    const list = this.pending.get(name) ?? [];
    list.push({ socket, pipe, address });
    this.pending.set(name, list);
  }

  disconnect(name: string, socket: InprocSocket, address: string): boolean {
    const list = this.pending.get(name);
    if (list) this.pending.set(name, list.filter((p) => p.socket !== socket));
    return this.endLinks(socket, (l) => l.address === address) > 0;
  }

  /**
   * Ends everything a closing socket has. A connect still waiting for its bind keeps
   * the messages queued on it for `linger` ms (forever with -1), as libzmq does: the
   * binder gets them when it comes.
   */
  closeSocket(socket: InprocSocket): void {
    for (const [name, s] of this.bound) if (s === socket) this.bound.delete(name);
    const linger = socket.lingerMs();
    for (const [name, list] of this.pending) {
      const kept = list.filter((p) => p.socket !== socket || (linger !== 0 && p.pipe.outbound.length > 0));
      for (const p of kept) {
        if (p.socket !== socket || linger <= 0) continue;
        setTimeout(() => {
          const now = this.pending.get(name);
          if (now) this.pending.set(name, now.filter((q) => q !== p));
        }, Math.min(linger, 2 ** 31 - 1)).unref();
      }
      this.pending.set(name, kept);
    }
    this.endLinks(socket, () => true);
  }

  /** A bind meets the queue of a socket that connected, sent and closed before it: deliver, then end. */
  private adoptOrphan(p: PendingConnect, binder: InprocSocket): void {
    const other = new Pipe(binder, p.pipe.outbound, p.pipe.inbound, p.address);
    other.inproc = true;
    other.peer = peerInfo(p.socket);
    binder.attachPipe(other);
    binder.pipeHandshaked(other, other.peer);
    if (other.readable) binder.pipeReadable(other);
    other.terminate(false);
  }

  private join(connecter: InprocSocket, pipe: Pipe, binder: InprocSocket, address: string): void {
    const ours = connecter.socketTypeName;
    const theirs = binder.socketTypeName;
    const alreadyAttached = this.links.get(connecter)?.has(this.findLink(connecter, pipe)!) ?? false;
    if (!isCompatible(ours, theirs)) {
      const reason = `socket type ${ours} cannot talk to ${theirs}`;
      connecter.inprocRefused(address, reason);
      binder.inprocRefused(address, reason);
      if (alreadyAttached) this.endLinks(connecter, (l) => l.mine === pipe);
      return;
    }
    const c = connecter.hwm();
    const b = binder.hwm();
    // Connecter's outbound is binder's inbound, and the reverse.
    pipe.outbound.capacity = sum(c.sndhwm, b.rcvhwm);
    pipe.inbound.capacity = sum(b.sndhwm, c.rcvhwm);
    // Either side's conflate keeps only the newest message on the queues it reads or writes.
    const conflate = connecter.conflates() || binder.conflates();
    pipe.outbound.conflate = conflate;
    pipe.inbound.conflate = conflate;
    const other = new Pipe(binder, pipe.outbound, pipe.inbound, address);
    other.inproc = true;
    pipe.peerHwm = () => binder.hwm();
    other.peerHwm = () => connecter.hwm();
    if (!alreadyAttached) {
      connecter.attachPipe(pipe);
      this.link(connecter, { address, mine: pipe, theirs: other });
    } else {
      this.findLink(connecter, pipe)!.theirs = other;
    }
    this.link(binder, { address, mine: other, theirs: pipe });
    binder.attachPipe(other);
    other.peer = peerInfo(connecter);
    pipe.peer = peerInfo(binder);
    binder.pipeHandshaked(other, other.peer);
    connecter.pipeHandshaked(pipe, pipe.peer);
    // Anything queued before the bind is now readable by the binder.
    if (pipe.outbound.length > 0) binder.pipeReadable(other);
  }

  private findLink(socket: InprocSocket, pipe: Pipe) {
    for (const l of this.links.get(socket) ?? []) if (l.mine === pipe) return l;
    return undefined;
  }

  private link(socket: InprocSocket, l: { address: string; mine: Pipe; theirs: Pipe | null }): void {
    let set = this.links.get(socket);
    if (!set) this.links.set(socket, (set = new Set()));
    set.add(l);
  }

  private endLinks(socket: InprocSocket, which: (l: { address: string; mine: Pipe; theirs: Pipe | null }) => boolean): number {
    const set = this.links.get(socket);
    if (!set) return 0;
    let n = 0;
    for (const l of [...set]) {
      if (!which(l)) continue;
      set.delete(l);
      n++;
      // Our outbound queue is the peer's inbound: already delivered, so it stays readable.
      l.mine.terminate(false);
      if (l.theirs) {
        l.theirs.terminate(false);
        const peerSet = this.links.get(l.theirs.owner as InprocSocket);
        if (peerSet) for (const pl of peerSet) if (pl.mine === l.theirs) peerSet.delete(pl);
      }
    }
    return n;
  }
}

function peerInfo(socket: InprocSocket): PeerInfo {
  const metadata = new Map<string, Buffer>([["Socket-Type", Buffer.from(socket.socketTypeName)]]);
  const id = socket.routingIdentity();
  if (id) metadata.set("Identity", id);
  return { socketType: socket.socketTypeName, metadata, zmtpMinor: 1 };
}
