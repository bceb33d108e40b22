import { Context, context as defaultContext } from "../context.js";
import { zmqError, type ZmqError } from "../errors.js";
import { Deque } from "../pipe/deque.js";
import { createPipe, updatePipeHwm, type Pipe, type PeerInfo } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { NullMechanism } from "../mechanism/null.js";
import { PlainClientMechanism, PlainServerMechanism, type ZapRequest } from "../mechanism/plain.js";
import { CurveClientMechanism, CurveServerMechanism } from "../mechanism/curve.js";
import { zapClientFor } from "./zap-client.js";
import { cryptoLoaded, loadCrypto } from "../crypto/box.js";
import type { Mechanism } from "../mechanism/mechanism.js";
import { socketTypeNames } from "../mechanism/socket-types.js";
import { strategies, type Strategy } from "./strategy.js";
import type { EngineOptions } from "../engine/zmtp-engine.js";
import { parseEndpoint } from "../transport/endpoint.js";
import { isPgmAddress, PgmTransport } from "../transport/pgm/epgm.js";
import { NetListener, type AcceptHandler } from "../transport/net-listener.js";
import { UdpTransport } from "../transport/udp.js";
import { NetConnecter, type ConnectHandler } from "../transport/net-connecter.js";
import type { SessionOwner } from "../transport/session-owner.js";
import type { InprocSocket } from "../transport/inproc.js";
import { Observer } from "../monitor/observer.js";
import { eventIds, type Event } from "../monitor/events.js";
import { EVENT_ALL, encodeMonitorEvent } from "../monitor/wire-format.js";
import { protocolErrorFor } from "../transport/end-events.js";
import { defaultOptionValues, socketOptions, securityOf, type OptionValues } from "./options.js";
import { toMessage, toFrame } from "../util/to-frame.js";
import { MessageTracker } from "../pipe/tracker.js";
import { Frame, toFrames } from "./frame.js";
import { registerOpenSocket, unregisterOpenSocket, type FlushCandidate } from "./exit-flush.js";
import { holdProcess, releaseProcess } from "../util/keepalive.js";
import { withinLoopBudget, afterLoopTurn } from "../util/loop-budget.js";

interface PendingSend {
  msg: Message;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

/** send()'s options, beyond zeromq.js: pyzmq's copy and track. */
export interface SendOptions {
  /**
   * true: copy every frame now, so the caller may change its buffers at once.
   * false: never copy, not even small frames (pyzmq's copy=False).
   * Default: frames up to 128 bytes are copied, larger ones sent by reference (as zeromq.js).
   */
  copy?: boolean;
  /** Resolve with a MessageTracker that says when zmq-ts no longer holds the buffers. */
  track?: boolean;
}

interface PendingReceive {
  /** receiveFrames(): resolve with Frames carrying the connection's properties. */
  frames: boolean;
  resolve: (msg: Buffer[] | Frame[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

/** epgm:// and udp:// endpoints: no listener or connecter, one transport object that owns its datagram sockets. */
interface DatagramTransport {
  close(lingerMs: number, done?: () => void): void;
}
type Bound = { kind: "net"; listener: NetListener; aliases: string[] } | { kind: "inproc"; name: string }
  | { kind: "datagram"; transport: DatagramTransport; aliases: string[] };
type Connected = { kind: "net"; connecter: NetConnecter } | { kind: "inproc"; name: string }
  | { kind: "datagram"; transport: DatagramTransport };

const RESOLVED = Promise.resolve();
const ZERO_KEY = Buffer.alloc(32);
let monitorCount = 0;

/**
 * What every socket type shares: endpoints, pipes, options, events, and the
 * promise edge (send/receive). Socket types supply the routing through the x*
 * hooks, as libzmq's socket_base_t subclasses do; they never touch I/O.
 */
export class Socket implements SessionOwner, InprocSocket {
  readonly type: number;
  readonly context: Context;
  /** @internal option values by public name */
  protected readonly _options: OptionValues;
  private readonly _events = new Observer();
  private readonly _pipes = new Set<Pipe>();
  private readonly _bound = new Map<string, Bound>();
  private readonly _connected = new Map<string, Connected>();
  private readonly _sendQueue = new Deque<PendingSend>();
  private readonly _recvQueue = new Deque<PendingReceive>();
  private _closed = false;
  private _monitor: ((event: Event) => void) | null = null;
  private _exitRef: WeakRef<FlushCandidate> | null = null;
  private _monitorSocket: Socket | null = null;
  /** @internal the pipe the last received message came from */
  lastSource: Pipe | null = null;
  private _bindBusy = false;
  private _closeDeferred = false;
  private _servingSends = false;
  private _sendsAgain = false;
  private _servingReceives = false;
  private _receivesAgain = false;
  private _warned = false;
  /** @internal the routing of this socket type */
  protected readonly _strategy: Strategy;

  constructor(type: number, options?: Record<string, unknown>, ...rest: unknown[]) {
    if (rest.length > 0) throw new TypeError("Expected 2 arguments");
    if (typeof type !== "number") throw new TypeError("Socket type must be a number");
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError("Options must be an object");
    }
    const makeStrategy = strategies[type];
    if (!makeStrategy) throw zmqError("EINVAL");
    this.type = type;
    let ctx: unknown = defaultContext;
    if (options && "context" in options) {
      ctx = options.context;
      if (!(ctx instanceof Context)) throw zmqError("EINVAL");
    }
    this.context = ctx as Context;
    this._options = defaultOptionValues(type, this.context);
    this._strategy = makeStrategy(this);
    this._exitRef = registerOpenSocket(this);
    Object.preventExtensions(this);
    if (options) {
      for (const [k, v] of Object.entries(options)) {
        if (k !== "context") (this as unknown as Record<string, unknown>)[k] = v;
      }
    }
  }

  // ---- public surface ------------------------------------------------------------

  get events(): Observer {
    return this._events;
  }

  get closed(): boolean {
    return this._closed;
  }

  get readable(): boolean {
    return !this._closed && this._strategy.hasIn();
  }

  get writable(): boolean {
    return !this._closed && this._strategy.hasOut();
  }

  /**
   * Binds, asynchronously as in zeromq.js: while a bind or unbind is in progress a
   * second one fails with EBUSY, and close() waits for it.
   */
  bind(address: string): Promise<void> {
    return this.endpointOperation(async () => {
      if (isPgmAddress(address)) {
        // epgm:// (pgm:// is refused): bind and connect are the same, as in libzmq.
        const transport = new PgmTransport(this, address);
        await transport.ready;
        this._bound.set(address, { kind: "datagram", transport, aliases: [address] });
        this._options.lastEndpoint = address;
        return;
      }
      const ep = parseEndpoint(address, true);
      if (ep.protocol === "udp") {
        const transport = new UdpTransport(this, ep, true);
        const resolved = await transport.ready;
        const entry: Bound = { kind: "datagram", transport, aliases: [resolved, address] };
        for (const a of entry.aliases) this._bound.set(a, entry);
        this._options.lastEndpoint = resolved;
        return;
      }
      if (ep.protocol === "inproc") {
        this.context.inproc.bind(ep.name, this, address);
        this._bound.set(address, { kind: "inproc", name: ep.name });
        this._options.lastEndpoint = address;
        return;
      }
      await this.mechanismReady();
      const listener = new NetListener(this, ep, this.acceptHandler());
      const resolved = await listener.listen();
      const entry: Bound = { kind: "net", listener, aliases: [resolved, address, ep.address] };
      for (const a of entry.aliases) this._bound.set(a, entry);
      this._options.lastEndpoint = resolved;
    });
  }

  unbind(address: string): Promise<void> {
    return this.endpointOperation(async () => {
      if (!isPgmAddress(address)) parseEndpoint(address, true);
      const entry = this._bound.get(address);
      if (!entry) throw zmqError("ENOENT", "No such endpoint", address);
      if (entry.kind === "datagram") {
        for (const a of entry.aliases) this._bound.delete(a);
        entry.transport.close(0);
        return;
      }
      if (entry.kind === "inproc") {
        this._bound.delete(address);
        this.context.inproc.unbind(entry.name, this);
        return;
      }
      for (const a of entry.aliases) this._bound.delete(a);
      entry.listener.close(0);
    });
  }

  /** Runs a bind/unbind holding the socket busy for at least one turn of the loop. */
  private async endpointOperation(work: () => Promise<void>): Promise<void> {
    this.assertOpen();
    if (this._bindBusy) throw zmqError("EBUSY", "Socket is blocked by a bind or unbind operation");
    this._bindBusy = true;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await work();
    } finally {
      this._bindBusy = false;
      if (this._closeDeferred) this.close();
    }
  }

  connect(address: string, options: { routingId?: string | Buffer } = {}): void {
    this.assertOpen();
    if (isPgmAddress(address)) {
      const transport = new PgmTransport(this, address);
      transport.ready.catch((e: Error) => process.emitWarning(`zmq-ts: ${address}: ${e.message}`));
      this._connected.set(address, { kind: "datagram", transport });
      return;
    }
    const ep = parseEndpoint(address, false);
    if (ep.protocol === "udp") {
      this._connected.set(address, { kind: "datagram", transport: new UdpTransport(this, ep, false) });
      return;
    }
    if (ep.protocol === "inproc") {
      const routingId = options.routingId !== undefined ? toFrame(options.routingId) : null;
      this.context.inproc.connect(ep.name, this, address, routingId);
      this._connected.set(address, { kind: "inproc", name: ep.name });
      return;
    }
    void this.mechanismReady()?.catch(() => {}); // start loading CURVE's crypto while we dial
    const connecter = new NetConnecter(this, ep, this.connectHandler());
    if (options.routingId !== undefined) connecter.routingId = toFrame(options.routingId);
    this._connected.set(address, { kind: "net", connecter });
    connecter.start();
  }

  disconnect(address: string): void {
    this.assertOpen();
    if (!isPgmAddress(address)) parseEndpoint(address, false);
    const entry = this._connected.get(address);
    if (!entry) throw zmqError("ENOENT", "No such endpoint", address);
    this._connected.delete(address);
    if (entry.kind === "inproc") this.context.inproc.disconnect(entry.name, this, address);
    else if (entry.kind === "datagram") entry.transport.close(0);
    else entry.connecter.stop(0);
  }

  /**
   * Queues a whole message. Resolves once the routing strategy has taken it (within
   * the high-water mark). Concurrent calls queue in order (zeromq.js would throw EBUSY).
   */
  send(message: unknown): Promise<void>;
  send(message: unknown, options: SendOptions & { track: true }): Promise<MessageTracker>;
  send(message: unknown, options?: SendOptions): Promise<void | MessageTracker>;
  send(message: unknown, options?: SendOptions): Promise<void | MessageTracker> {
    if (this._closed) return Promise.reject(zmqError("EBADF"));
    let msg: Message;
    try {
      msg = this.prepareSend(message, options?.copy !== false);
    } catch (e) {
      return Promise.reject(e);
    }
    if (options === undefined) return this.sendMessage(msg);
    if (options.copy) for (let i = 0; i < msg.length; i++) msg[i] = Buffer.from(msg[i]!);
    if (!options.track) return this.sendMessage(msg);
    const tracker = new MessageTracker();
    msg.tracker = tracker;
    return this.sendMessage(msg).then(
      () => {
        tracker.release(); // the sender's own reference: routing is done
        return tracker;
      },
      (e: unknown) => {
        tracker.release();
        throw e;
      },
    );
  }

  private sendMessage(msg: Message): Promise<void> {
    if (this._sendQueue.length === 0) {
      try {
        if (this._strategy.send(msg)) return withinLoopBudget() ? RESOLVED : afterLoopTurn(undefined);
      } catch (e) {
        return Promise.reject(e);
      }
      if (this.option<number>("sendTimeout") === 0) return Promise.reject(zmqError("EAGAIN"));
    }
    return new Promise<void>((resolve, reject) => {
      const pending: PendingSend = { msg, resolve, reject, timer: null };
      const timeout = this.option<number>("sendTimeout");
      if (timeout > 0) {
        pending.timer = setTimeout(() => this.expire(this._sendQueue, pending), Math.min(timeout, 2 ** 31 - 1));
      }
      holdProcess();
      this._sendQueue.push(pending);
    });
  }

  /** @internal Turns send()'s argument into a message. */
  protected prepareSend(message: unknown, copySmall = true): Message {
    return toMessage(message, copySmall);
  }

  /** Resolves with the next whole message. Concurrent calls are served in order. */
  receive(): Promise<Buffer[]> {
    return this.receiveAs(false) as Promise<Buffer[]>;
  }

  /**
   * Like receive(), with each frame as a Frame: a view of the bytes plus the MORE
   * flag and the sending connection's properties (pyzmq's `recv(copy=False)`).
   */
  receiveFrames(): Promise<Frame[]> {
    return this.receiveAs(true) as Promise<Frame[]>;
  }

  private receiveAs(frames: boolean): Promise<Buffer[] | Frame[]> {
    if (this._closed) return Promise.reject(zmqError("EBADF"));
    if (this._recvQueue.length === 0) {
      try {
        const got = this._strategy.recv();
        const msg = got && frames ? toFrames(got, this.lastSource) : got;
        if (msg) return withinLoopBudget() ? Promise.resolve(msg) : afterLoopTurn(msg);
      } catch (e) {
        return Promise.reject(e);
      }
      if (this.option<number>("receiveTimeout") === 0) return Promise.reject(zmqError("EAGAIN"));
    }
    return new Promise<Buffer[] | Frame[]>((resolve, reject) => {
      const pending: PendingReceive = { frames, resolve, reject, timer: null };
      const timeout = this.option<number>("receiveTimeout");
      if (timeout > 0) {
        pending.timer = setTimeout(() => this.expire(this._recvQueue, pending), Math.min(timeout, 2 ** 31 - 1));
      }
      holdProcess();
      this._recvQueue.push(pending);
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer[], undefined, undefined> {
    while (!this._closed) {
      try {
        yield await this.receive();
      } catch (e) {
        if (this._closed && ((e as ZmqError).code === "EAGAIN" || (e as ZmqError).code === "EBADF")) return;
        throw e;
      }
    }
    return undefined;
  }

  /**
   * Closes the socket: pending sends and receives fail with EAGAIN, endpoints close,
   * connections flush what they hold within `linger` ms, then the events end.
   */
  close(): void {
    if (this._closed) return;
    if (this._bindBusy) {
      this._closeDeferred = true;
      return;
    }
    this._closed = true;
    if (this._exitRef) unregisterOpenSocket(this._exitRef);
    const linger = this.option<number>("linger");
    for (const q of [this._sendQueue, this._recvQueue] as Deque<PendingSend | PendingReceive>[]) {
      let p: PendingSend | PendingReceive | undefined;
      while ((p = q.shift()) !== undefined) {
        if (p.timer) clearTimeout(p.timer);
        releaseProcess();
        p.reject(zmqError("EAGAIN"));
      }
    }
    this.context.inproc.closeSocket(this);
    let waiting = 1;
    const lingerKeepsAlive = linger !== 0;
    if (lingerKeepsAlive) holdProcess();
    const finished = () => {
      if (--waiting > 0) return;
      for (const pipe of [...this._pipes]) pipe.terminate();
      if (lingerKeepsAlive) releaseProcess();
      this._monitor?.({ type: "end" });
      this._events.end();
    };
    const seen = new Set<Bound>();
    for (const entry of this._bound.values()) {
      if (entry.kind === "inproc" || seen.has(entry)) continue;
      seen.add(entry);
      waiting++;
      if (entry.kind === "net") entry.listener.close(linger, finished);
      else entry.transport.close(linger, finished);
    }
    for (const entry of this._connected.values()) {
      if (entry.kind === "inproc") continue;
      waiting++;
      if (entry.kind === "net") entry.connecter.stop(linger, finished);
      else entry.transport.close(linger, finished);
    }
    this._bound.clear();
    this._connected.clear();
    finished();
  }

  // ---- SessionOwner / PipeOwner ----------------------------------------------------

  /** @internal */
  get socketTypeName(): string {
    return socketTypeNames[this.type]!;
  }

  /** @internal */
  option<T>(name: string): T {
    return this._options[name] as T;
  }

  /** @internal */
  engineOptions(): EngineOptions {
    return {
      maxMessageSize: this.option<number>("maxMessageSize"),
      handshakeInterval: this.option<number>("handshakeInterval"),
      heartbeatInterval: this.option<number>("heartbeatInterval"),
      heartbeatTimeout: this.option<number>("heartbeatTimeout"),
      heartbeatTimeToLive: this.option<number>("heartbeatTimeToLive"),
    };
  }

  /**
   * NULL, PLAIN or CURVE, client or server, from the security options (as libzmq picks
   * them). Servers ask the ZAP handler of this socket's Context, if one is bound.
   */
  /** @internal */
  createMechanism(accepted: boolean, peerAddress = ""): Mechanism {
    const o = this._options;
    const base = { socketType: this.socketTypeName, routingId: this.routingIdentity(), accepted };
    const { mechanism, asServer } = securityOf(o);
    const zap = (request: ZapRequest) =>
      zapClientFor(this.context).request({
        domain: o.zapDomain ? toFrame(o.zapDomain).toString() : "",
        address: peerAddress,
        identity: this.routingIdentity() ?? Buffer.alloc(0),
        mechanism: request.mechanism,
        credentials: request.credentials,
      });
    if (mechanism === "curve") {
      // An unset key is 32 zero bytes, as in libzmq: the handshake then fails on the wire, not here.
      const key = (k: unknown) => (k as Buffer | null) ?? ZERO_KEY;
      if (asServer) return new CurveServerMechanism(base, { secretKey: key(o.curveSecretKey) }, zap);
      return new CurveClientMechanism(base, {
        publicKey: key(o.curvePublicKey), secretKey: key(o.curveSecretKey), serverKey: key(o.curveServerKey),
      });
    }
    if (mechanism === "plain") {
      if (asServer) return new PlainServerMechanism(base, zap);
      return new PlainClientMechanism(base, (o.plainUsername as Buffer | null) ?? "", (o.plainPassword as Buffer | null) ?? "");
    }
    // NULL asks ZAP only when the socket names a ZAP domain (libzmq 4.3).
    const domain = o.zapDomain;
    return new NullMechanism(base, domain !== null && domain !== undefined && toFrame(domain).length > 0 ? zap : undefined);
  }

  /** @internal */
  mechanismReady(): Promise<void> | null {
    return securityOf(this._options).mechanism === "curve" && !cryptoLoaded() ? loadCrypto() : null;
  }

  /** @internal */
  createPipe(endpoint: string): Pipe {
    return createPipe(
      this, hwm(this.option("sendHighWaterMark")), hwm(this.option("receiveHighWaterMark")), endpoint,
      this.option<boolean>("conflate") === true,
    );
  }

  /** @internal */
  attachPipe(pipe: Pipe): void {
    this._pipes.add(pipe);
    this._strategy.attach(pipe);
    this.serveSends();
    this.serveReceives();
    this._activity?.("writable");
  }

  /** @internal */
  pipeHandshaked(pipe: Pipe, peer: PeerInfo): void {
    if (pipe.terminated) return;
    this._strategy.handshake?.(pipe, peer);
    this.serveSends();
    this.serveReceives();
    // A ROUTER makes a pipe routable only now.
    this._activity?.("writable");
  }

  /** @internal */
  pipeReadable(pipe: Pipe): void {
    this._strategy.readActivated(pipe);
    this.serveReceives();
    this._activity?.("readable");
  }

  /** @internal */
  pipeWritable(pipe: Pipe): void {
    this._strategy.writeActivated(pipe);
    this.serveSends();
    this._activity?.("writable");
  }

  // ---- the synchronous edge, for devices (proxy, queue, MonitoredQueue) ------------

  /**
   * @internal One listener told when the socket may have become readable or writable.
   * Devices move messages in batches through _receiveNow/_sendNow instead of one
   * promise per message.
   */
  _activity: ((kind: "readable" | "writable") => void) | null = null;

  /** @internal The next whole message if one is here now (and no receive() waits), else null. */
  _receiveNow(): Buffer[] | null {
    if (this._closed || this._recvQueue.length > 0) return null;
    return this._strategy.recv();
  }

  /** @internal Hands a whole message to the routing now; false when it cannot take it yet. Throws EFSM/EHOSTUNREACH as send() rejects. */
  _sendNow(msg: Buffer[]): boolean {
    if (this._closed || this._sendQueue.length > 0) return false;
    return this._strategy.send(msg);
  }

  /** @internal True once bound or connected (devices refuse sockets that are neither). */
  get _hasEndpoints(): boolean {
    return this._bound.size > 0 || this._connected.size > 0;
  }

  /** @internal */
  pipeTerminated(pipe: Pipe): void {
    this._pipes.delete(pipe);
    this._strategy.terminated(pipe);
    this.serveSends();
    this.serveReceives();
    // e.g. an XPUB now holds the departed subscriber's cancellations for a forwarder.
    this._activity?.("readable");
    this._activity?.("writable");
  }

  /** @internal */
  emit(event: Event): void {
    this._events.emit(event);
    if (this._monitor) this._monitor(event);
  }

  /**
   * libzmq's zmq_socket_monitor: events in libzmq's two-frame format, sent by a PAIR
   * bound at `endpoint` (inproc, as libzmq requires) to whoever connects there. `events`
   * is a bit mask of ZMQ_EVENT_* numbers (default all). Pass null to stop. This runs
   * beside `socket.events`, which keeps working.
   */
  monitor(endpoint: string | null, events = EVENT_ALL): void {
    this.assertOpen();
    this._monitorSocket?.close();
    this._monitorSocket = null;
    this._monitor = null;
    if (endpoint === null) return;
    if (!endpoint.startsWith("inproc://")) throw zmqError("EPROTONOSUPPORT", "Protocol not supported", endpoint);
    const pair = new Socket(0, { context: this.context, linger: 0 });
    // Bound at once (not through the asynchronous bind()), so that no early event is lost.
    this.context.inproc.bind(endpoint.slice("inproc://".length), pair, endpoint);
    this._monitorSocket = pair;
    this._monitor = (event) => {
      const mask = eventIds[event.type] ?? 0;
      if ((mask & events) === 0) return;
      const msg = encodeMonitorEvent(event);
      if (msg) void pair._sendNow(msg);
      if (event.type === "end") pair.close();
    };
  }

  /** pyzmq's get_monitor_socket(): a PAIR already connected to this socket's monitor. */
  getMonitorSocket(events = EVENT_ALL): Socket {
    const endpoint = `inproc://monitor.s-${++monitorCount}`;
    this.monitor(endpoint, events);
    const reader = new Socket(0, { context: this.context, linger: 0 });
    reader.connect(endpoint);
    return reader;
  }

  /** @internal */
  hwm(): { sndhwm: number; rcvhwm: number } {
    return { sndhwm: hwm(this.option("sendHighWaterMark")), rcvhwm: hwm(this.option("receiveHighWaterMark")) };
  }

  /** @internal */
  conflates(): boolean {
    return this.option<boolean>("conflate") === true;
  }

  /** @internal messages waiting on pipes for a connection to take them (for the exit wait). */
  queuedOutbound(): number {
    let n = 0;
    for (const pipe of this._pipes) if (!pipe.inproc) n += pipe.outbound.length;
    return n;
  }

  /** @internal */
  lingerMs(): number {
    return this.option<number>("linger");
  }

  /** @internal */
  routingIdentity(): Buffer | null {
    const id = this._options.routingId;
    return id === null || id === undefined ? null : toFrame(id);
  }

  /** @internal */
  inprocRefused(address: string, reason: string): void {
    this.emit({ type: "handshake:error:protocol", address, error: protocolErrorFor("ERR_ZMTP_INVALID_METADATA", reason) } as Event);
  }

  /** @internal Stream sockets replace the ZMTP engine with a raw one. */
  protected acceptHandler(): AcceptHandler | undefined {
    return this._strategy.acceptHandler?.();
  }

  /** @internal */
  protected connectHandler(): ConnectHandler | undefined {
    return this._strategy.connectHandler?.();
  }

  /** @internal strategies call this when their state changes so that waiting sends may go. */
  serveSends(): void {
    if (this._servingSends) {
      this._sendsAgain = true;
      return;
    }
    this._servingSends = true;
    try {
      do {
        this._sendsAgain = false;
        let head: PendingSend | undefined;
        while ((head = this._sendQueue.peek()) !== undefined) {
          let taken: boolean;
          try {
            taken = this._strategy.send(head.msg);
          } catch (e) {
            this._sendQueue.shift();
            this.settle(head);
            head.reject(e as Error);
            continue;
          }
          if (!taken) break;
          this._sendQueue.shift();
          this.settle(head);
          head.resolve();
        }
      } while (this._sendsAgain);
    } finally {
      this._servingSends = false;
    }
  }

  /** @internal */
  serveReceives(): void {
    if (this._servingReceives) {
      this._receivesAgain = true;
      return;
    }
    this._servingReceives = true;
    try {
      do {
        this._receivesAgain = false;
        let head: PendingReceive | undefined;
        while ((head = this._recvQueue.peek()) !== undefined) {
          let msg: Message | null;
          try {
            msg = this._strategy.recv();
          } catch (e) {
            this._recvQueue.shift();
            this.settle(head);
            head.reject(e as Error);
            continue;
          }
          if (!msg) break;
          this._recvQueue.shift();
          this.settle(head);
          head.resolve(head.frames ? toFrames(msg, this.lastSource) : msg);
        }
      } while (this._receivesAgain);
    } finally {
      this._servingReceives = false;
    }
  }

  private settle(p: PendingSend | PendingReceive): void {
    if (p.timer) clearTimeout(p.timer);
    releaseProcess();
  }

  private expire<T extends PendingSend | PendingReceive>(queue: Deque<T>, pending: T): void {
    // Remove this one entry, keeping the order of the others.
    const rest: T[] = [];
    let item: T | undefined;
    while ((item = queue.shift()) !== undefined) if (item !== pending) rest.push(item);
    for (const r of rest) queue.push(r);
    releaseProcess();
    pending.reject(zmqError("EAGAIN"));
  }

  private assertOpen(): void {
    if (this._closed) throw zmqError("EBADF");
  }

  /** @internal called by option accessors after a value changes. */
  protected _optionChanged(name: string): void {
    if (name === "sendHighWaterMark" || name === "receiveHighWaterMark") {
      const { sndhwm, rcvhwm } = this.hwm();
      for (const pipe of this._pipes) updatePipeHwm(pipe, sndhwm, rcvhwm);
      this.serveSends();
    }
    // zeromq.js warns for every option that is only read at connect/bind time.
    if (this._warned || socketOptions[name]?.immediate) return;
    if (this._bound.size === 0 && this._connected.size === 0 && !this._bindBusy) return;
    this._warned = true;
    process.nextTick(() => {
      this._warned = false;
      process.emitWarning("Socket option will not take effect until next connect/bind.");
    });
  }
}

/** libzmq counts 0 as "no limit"; so do our queues. */
function hwm(v: unknown): number {
  return typeof v === "number" && v > 0 ? v : 0;
}
