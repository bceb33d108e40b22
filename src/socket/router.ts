import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import { carryTracker, type Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { RoutingTable } from "../routing/routing-table.js";
import { getProperty } from "../wire/commands.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

const PROBE: Message = [Buffer.alloc(0)];

/**
 * ROUTER (RFC 28): every received message is prefixed with the sender's routing id;
 * a sent message's first frame picks the peer. Unknown peers and full peers drop the
 * message silently, or fail with EHOSTUNREACH / wait under `mandatory`, as libzmq.
 * A peer is known by the Identity it announced, the id given to connect(), or an id
 * we generate.
 */
export class RouterStrategy implements Strategy {
  protected readonly fq = new FairQueue();
  protected readonly table = new RoutingTable();
  private readonly identified = new Set<Pipe>();

  constructor(protected readonly host: StrategyHost) {}

  attach(pipe: Pipe): void {
    if (this.host.option<boolean>("probeRouter")) pipe.write(PROBE);
    // A connect-side pipe with a routing id chosen by the user is routable at once.
    if (pipe.routingId) this.identify(pipe, pipe.routingId);
  }

  handshake(pipe: Pipe, peer: PeerInfo): void {
    if (this.identified.has(pipe)) return;
    const announced = getProperty(peer.metadata, "Identity");
    let id: Buffer;
    if (announced && announced.length > 0) {
      id = Buffer.from(announced);
      const holder = this.table.get(id);
      if (holder && holder !== pipe) {
        if (!this.host.option<boolean>("handover")) {
          // libzmq refuses the newcomer; the peer that holds the id keeps it.
          pipe.terminate();
          return;
        }
        // handover: the newcomer takes the id; the old peer is disconnected.
        this.table.remove(holder);
        this.identified.delete(holder);
        holder.terminate();
      }
    } else {
      id = this.table.nextGeneratedId();
    }
    this.identify(pipe, id);
  }

  private identify(pipe: Pipe, id: Buffer): void {
    pipe.routingId = id;
    this.table.add(id, pipe);
    this.identified.add(pipe);
    this.fq.attach(pipe);
  }

  terminated(pipe: Pipe): void {
    if (this.identified.delete(pipe)) this.table.remove(pipe);
    this.fq.terminated(pipe);
  }

  readActivated(pipe: Pipe): void {
    if (this.identified.has(pipe)) this.fq.activated(pipe);
  }

  writeActivated(): void {}

  send(msg: Message): boolean {
    if (msg.length === 0) return true;
    const pipe = this.table.get(msg[0]!);
    const mandatory = this.host.option<boolean>("mandatory");
    if (!pipe || pipe.terminated) {
      if (mandatory) throw zmqError("EHOSTUNREACH");
      return true; // RFC 28: unroutable messages are dropped silently
    }
    const body = carryTracker(msg, msg.slice(1));
    if (body.length === 0) return true;
    if (pipe.write(body)) return true;
    // At the mark: wait (and EAGAIN at sendTimeout) under mandatory, otherwise drop.
    return !mandatory;
  }

  recv(): Message | null {
    const got = this.fq.recv();
    if (!got) return null;
    // A new array: over inproc the received one may be shared with other receivers.
    const msg: Message = new Array(got.msg.length + 1);
    msg[0] = got.pipe.routingId!;
    for (let i = 0; i < got.msg.length; i++) msg[i + 1] = got.msg[i]!;
    return msg;
  }

  hasIn(): boolean {
    return this.fq.hasIn;
  }

  hasOut(): boolean {
    return true;
  }
}
