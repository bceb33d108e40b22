import type { Pipe } from "../pipe/pipe.js";
import { carryTracker, type Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { RoutingTable } from "../routing/routing-table.js";
import { RawEngine } from "../engine/raw-engine.js";
import { zmqError } from "../errors.js";
import type { SessionOwner } from "../transport/session-owner.js";
import type { AcceptHandler } from "../transport/net-listener.js";
import type { ConnectHandler } from "../transport/net-connecter.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

const EMPTY = Buffer.alloc(0);

/**
 * STREAM: plain TCP peers, no ZMTP. Messages are [routing id, data]; an empty data
 * frame arriving means a peer connected or left (with `notify`, the default), and
 * sending one closes that peer's connection.
 */
export class StreamStrategy implements Strategy {
  private readonly fq = new FairQueue();
  private readonly table = new RoutingTable();
  /** Connect and disconnect notifications, delivered in order with the data. */
  constructor(private readonly host: StrategyHost) {}

  attach(pipe: Pipe): void {
    const id = pipe.routingId ?? this.table.nextGeneratedId();
    pipe.routingId = id;
    this.table.add(id, pipe);
    this.fq.attach(pipe);
  }

  /** A peer connected: with `notify` (the default) the application hears [id, ""]. */
  private connected(pipe: Pipe): void {
    if (this.host.option<boolean>("notify") !== false) pipe.inbound.forcePush([EMPTY]);
  }

  terminated(pipe: Pipe): void {
    this.table.remove(pipe);
    if (this.host.option<boolean>("notify") !== false) {
      // The peer left: one empty message after whatever it sent.
      pipe.inbound.ended = false;
      pipe.inbound.forcePush([EMPTY]);
      pipe.inbound.ended = true;
    }
    this.fq.terminated(pipe);
  }

  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(): void {}

  send(msg: Message): boolean {
    if (msg.length < 2) throw zmqError("EINVAL", "STREAM messages are [routing id, data]");
    const pipe = this.table.get(msg[0]!);
    if (!pipe) throw zmqError("EHOSTUNREACH");
    return pipe.write(carryTracker(msg, [msg[1]!]));
  }

  recv(): Message | null {
    const got = this.fq.recv();
    if (!got) return null;
    return [got.pipe.routingId!, got.msg[0]!];
  }

  hasIn(): boolean { return this.fq.hasIn; }
  hasOut(): boolean { return true; }

  acceptHandler(): AcceptHandler {
    const owner = this.host as unknown as SessionOwner;
    return (stream, listener) => {
      const pipe = owner.createPipe(listener.address);
      let untrack = () => {};
      const engine = new RawEngine(stream, pipe, () => {
        untrack();
        pipe.terminate(false);
      });
      untrack = listener.track(engine);
      owner.attachPipe(pipe);
      this.connected(pipe);
    };
  }

  connectHandler(): ConnectHandler {
    const owner = this.host as unknown as SessionOwner;
    return (stream, connecter) => {
      // The pipe made at connect() (so send([id, ...]) works before the peer is up), or a
      // fresh one after a reconnect.
      let pipe = connecter.pipe;
      if (!pipe || pipe.terminated) {
        pipe = owner.createPipe(connecter.endpoint.address);
        pipe.routingId = connecter.routingId;
        owner.attachPipe(pipe);
        connecter.pipe = pipe;
      }
      const live = pipe;
      const engine = new RawEngine(stream, live, () => {
        live.terminate(false);
        if (connecter.pipe === live) connecter.pipe = null;
        connecter.connectionEnded();
      });
      this.connected(live);
      return engine;
    };
  }
}
