/**
 * @module zmq-ts/v5-compat
 * zmq-ts/v5-compat: the callback-style API of the old `zmq` package (up to 5.x), as
 * zeromq.js keeps it under `zeromq/v5-compat`, built on zmq-ts's own promise API.
 *
 *   const zmq = require("zmq-ts/v5-compat")
 *   const sock = zmq.socket("pull")
 *   sock.on("message", (...frames) => ...)
 *   sock.bind("tcp://127.0.0.1:5555", (err) => ...)
 *
 * A compat socket is an EventEmitter wrapping one of our sockets. It reads in the
 * background while it has "message" listeners and is not paused, emitting each
 * message as ("message", ...frames). send() queues messages (ZMQ_SNDMORE accumulates
 * parts into one multipart message) and a background loop sends them in order,
 * calling each send's callback (or emitting "error").
 */
import { EventEmitter } from "node:events";
import {
  context as defaultContext, curveKeyPair, version as zmqVersion,
  Pair, Publisher, Subscriber, Request, Reply, Dealer, Router, Pull, Push, XPublisher, XSubscriber, Stream,
  type Socket as NativeSocket,
} from "../index.js";
import * as c from "./constants.js";

export * from "./constants.js";

/** The socket types of the compatibility layer ("xreq"/"xrep" are the old names of dealer/router). */
export type SocketType =
  | "pair" | "req" | "rep" | "pub" | "sub" | "dealer" | "xreq" | "router" | "xrep"
  | "pull" | "push" | "xpub" | "xsub" | "stream";

export type Callback = (err?: Error) => void;

type NativeClass = new () => NativeSocket;

const classes: Record<SocketType, NativeClass> = {
  pair: Pair, req: Request, rep: Reply, pub: Publisher, sub: Subscriber,
  dealer: Dealer, xreq: Dealer, router: Router, xrep: Router,
  pull: Pull, push: Push, xpub: XPublisher, xsub: XSubscriber, stream: Stream,
};

const namesByNumber: Record<number, SocketType> = {
  0: "pair", 1: "pub", 2: "sub", 3: "req", 4: "rep", 5: "dealer", 6: "router",
  7: "pull", 8: "push", 9: "xpub", 10: "xsub", 11: "stream",
};

const sendOnly = new Set<SocketType>(["push", "pub"]);
const receiveOnly = new Set<SocketType>(["pull", "sub"]);

/** The old API's short option names (`sock.backlog = 50`, `setsockopt("backlog", 50)`). */
export const options = {
  _fd: c.ZMQ_FD,
  _ioevents: c.ZMQ_EVENTS,
  _receiveMore: c.ZMQ_RCVMORE,
  _subscribe: c.ZMQ_SUBSCRIBE,
  _unsubscribe: c.ZMQ_UNSUBSCRIBE,
  affinity: c.ZMQ_AFFINITY,
  backlog: c.ZMQ_BACKLOG,
  identity: c.ZMQ_IDENTITY,
  linger: c.ZMQ_LINGER,
  rate: c.ZMQ_RATE,
  rcvbuf: c.ZMQ_RCVBUF,
  last_endpoint: c.ZMQ_LAST_ENDPOINT,
  reconnect_ivl: c.ZMQ_RECONNECT_IVL,
  recovery_ivl: c.ZMQ_RECOVERY_IVL,
  sndbuf: c.ZMQ_SNDBUF,
  mechanism: c.ZMQ_MECHANISM,
  plain_server: c.ZMQ_PLAIN_SERVER,
  plain_username: c.ZMQ_PLAIN_USERNAME,
  plain_password: c.ZMQ_PLAIN_PASSWORD,
  curve_server: c.ZMQ_CURVE_SERVER,
  curve_publickey: c.ZMQ_CURVE_PUBLICKEY,
  curve_secretkey: c.ZMQ_CURVE_SECRETKEY,
  curve_serverkey: c.ZMQ_CURVE_SERVERKEY,
  zap_domain: c.ZMQ_ZAP_DOMAIN,
  heartbeat_ivl: c.ZMQ_HEARTBEAT_IVL,
  heartbeat_ttl: c.ZMQ_HEARTBEAT_TTL,
  heartbeat_timeout: c.ZMQ_HEARTBEAT_TIMEOUT,
  connect_timeout: c.ZMQ_CONNECT_TIMEOUT,
} as const;

export type OptionName = keyof typeof options;

/**
 * Option id -> our property. "value" options read and write as they are; "flag" options
 * are written as booleans and read as 1/0, as libzmq's int options were.
 */
const plainOptions: ReadonlyMap<number, readonly [string, "value" | "flag"]> = new Map([
  [c.ZMQ_AFFINITY, ["affinity", "value"]],
  [c.ZMQ_IDENTITY, ["routingId", "value"]],
  [c.ZMQ_RATE, ["rate", "value"]],
  [c.ZMQ_RECOVERY_IVL, ["recoveryInterval", "value"]],
  [c.ZMQ_SNDBUF, ["sendBufferSize", "value"]],
  [c.ZMQ_RCVBUF, ["receiveBufferSize", "value"]],
  [c.ZMQ_LINGER, ["linger", "value"]],
  [c.ZMQ_RECONNECT_IVL, ["reconnectInterval", "value"]],
  [c.ZMQ_BACKLOG, ["backlog", "value"]],
  [c.ZMQ_RECONNECT_IVL_MAX, ["reconnectMaxInterval", "value"]],
  [c.ZMQ_MAXMSGSIZE, ["maxMessageSize", "value"]],
  [c.ZMQ_SNDHWM, ["sendHighWaterMark", "value"]],
  [c.ZMQ_RCVHWM, ["receiveHighWaterMark", "value"]],
  [c.ZMQ_MULTICAST_HOPS, ["multicastHops", "value"]],
  [c.ZMQ_RCVTIMEO, ["receiveTimeout", "value"]],
  [c.ZMQ_SNDTIMEO, ["sendTimeout", "value"]],
  [c.ZMQ_LAST_ENDPOINT, ["lastEndpoint", "value"]],
  [c.ZMQ_ROUTER_MANDATORY, ["mandatory", "flag"]],
  [c.ZMQ_TCP_KEEPALIVE, ["tcpKeepalive", "value"]],
  [c.ZMQ_TCP_KEEPALIVE_CNT, ["tcpKeepaliveCount", "value"]],
  [c.ZMQ_TCP_KEEPALIVE_IDLE, ["tcpKeepaliveIdle", "value"]],
  [c.ZMQ_TCP_KEEPALIVE_INTVL, ["tcpKeepaliveInterval", "value"]],
  [c.ZMQ_TCP_ACCEPT_FILTER, ["tcpAcceptFilter", "value"]],
  [c.ZMQ_DELAY_ATTACH_ON_CONNECT, ["immediate", "flag"]],
  [c.ZMQ_IPV6, ["ipv6", "flag"]],
  [c.ZMQ_PLAIN_SERVER, ["plainServer", "flag"]],
  [c.ZMQ_PLAIN_USERNAME, ["plainUsername", "value"]],
  [c.ZMQ_PLAIN_PASSWORD, ["plainPassword", "value"]],
  [c.ZMQ_CURVE_SERVER, ["curveServer", "flag"]],
  [c.ZMQ_CURVE_PUBLICKEY, ["curvePublicKey", "value"]],
  [c.ZMQ_CURVE_SECRETKEY, ["curveSecretKey", "value"]],
  [c.ZMQ_CURVE_SERVERKEY, ["curveServerKey", "value"]],
  [c.ZMQ_ZAP_DOMAIN, ["zapDomain", "value"]],
  [c.ZMQ_ROUTER_HANDOVER, ["handover", "flag"]],
  [c.ZMQ_HEARTBEAT_IVL, ["heartbeatInterval", "value"]],
  [c.ZMQ_HEARTBEAT_TTL, ["heartbeatTimeToLive", "value"]],
  [c.ZMQ_HEARTBEAT_TIMEOUT, ["heartbeatTimeout", "value"]],
  [c.ZMQ_CONNECT_TIMEOUT, ["connectTimeout", "value"]],
]);

const readOnlyOptions = new Set<number>([c.ZMQ_LAST_ENDPOINT]);

/** The max threads/sockets of the default context; it cannot be instantiated. */
export class Context {
  static setMaxThreads(value: number): void {
    defaultContext.ioThreads = value;
  }

  static getMaxThreads(): number {
    return defaultContext.ioThreads;
  }

  static setMaxSockets(value: number): void {
    defaultContext.maxSockets = value;
  }

  static getMaxSockets(): number {
    return defaultContext.maxSockets;
  }

  constructor() {
    throw new Error("Context cannot be instantiated in compatibility mode");
  }
}

/** Throws `err` outside of the current call stack (an uncaught exception), as the old API's handlers did. */
function rethrowLater(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}

export class Socket extends EventEmitter {
  [key: string]: any;

  /** The socket type's name, e.g. "req". */
  readonly type: SocketType;
  private readonly _socket: NativeSocket;
  private _parts: unknown[] = [];
  private readonly _recvQueue: Buffer[][] = [];
  private readonly _sendQueue: Array<[unknown[], Callback | undefined]> = [];
  private _paused = false;
  private _closed = false;
  private _reading = false;
  private _sending = false;
  private _endpointChain: Promise<unknown> = Promise.resolve();
  /** Options libzmq would accept but this socket type has no property for. */
  private readonly _otherOptions = new Map<number, unknown>();

  constructor(type: SocketType | number) {
    super();
    const name = typeof type === "number" ? namesByNumber[type] : type;
    const cls = name !== undefined ? classes[name] : undefined;
    if (name === undefined || cls === undefined) throw new Error(`Invalid socket type: ${String(type)}`);
    this.type = name;
    this._socket = new cls();
    // Start/stop reading as "message" listeners come and go.
    this.on("newListener", (event: string | symbol) => {
      if (event === "message") process.nextTick(() => this._startReading());
    });
  }

  /** The underlying zmq-ts socket. */
  get socket(): NativeSocket {
    return this._socket;
  }

  get closed(): boolean {
    return this._closed || this._socket.closed;
  }

  // ---- receiving ------------------------------------------------------------

  private _wantsMessages(): boolean {
    return !this.closed && !this._paused && !sendOnly.has(this.type) && this.listenerCount("message") > 0;
  }

  private _deliver(msg: Buffer[]): void {
    try {
      this.emit("message", ...msg);
    } catch (err) {
      rethrowLater(err); // a throwing handler does not stop delivery
    }
  }

  /** Emits "error" on a later tick: without an "error" listener it is an uncaught exception. */
  private _emitError(err: unknown): void {
    process.nextTick(() => this.emit("error", err));
  }

  private _startReading(): void {
    if (this._reading || !this._wantsMessages()) return;
    this._reading = true;
    void this._readLoop();
  }

  private async _readLoop(): Promise<void> {
    try {
      while (this._wantsMessages()) {
        const queued = this._recvQueue.shift();
        if (queued !== undefined) {
          this._deliver(queued);
          continue;
        }
        let msg: Buffer[];
        try {
          msg = await this._socket.receive();
        } catch (err) {
          if (this.closed) return;
          // A REQ socket with no request outstanding: read again after the next send.
          if (this.type === "req" && (err as { code?: string }).code === "EFSM") return;
          this._emitError(err);
          continue;
        }
        if (this._wantsMessages()) this._deliver(msg);
        else this._recvQueue.push(msg); // paused (or no listener) meanwhile: keep it for resume()
      }
    } finally {
      this._reading = false;
    }
  }

  /** Removed from the compatibility layer: use on("message", ...). */
  read(): never {
    throw new Error("read() has been removed from compatibility mode; use on('message', ...) instead.");
  }

  // ---- sending --------------------------------------------------------------

  /**
   * Sends a message (a frame or an array of frames). With ZMQ_SNDMORE in `flags` the
   * parts are kept and sent together with the next send() without it. `cb` is called
   * once the message was queued for sending, or with the error.
   */
  send(message: unknown, flags: number | null | undefined = 0, cb?: Callback): this {
    if (receiveOnly.has(this.type)) throw new Error("Cannot send on this socket type.");
    this._parts = this._parts.concat(message);
    if (((flags ?? 0) & c.ZMQ_SNDMORE) === 0) {
      this._sendQueue.push([this._parts, cb]);
      this._parts = [];
      this._startSending();
    }
    return this;
  }

  private _startSending(): void {
    if (this._sending || this._paused || this.closed || this._sendQueue.length === 0) return;
    this._sending = true;
    void this._sendLoop();
  }

  private async _sendLoop(): Promise<void> {
    try {
      while (!this._paused && !this.closed && this._sendQueue.length > 0) {
        const [msg, cb] = this._sendQueue.shift()!;
        try {
          await this._socket.send(msg);
        } catch (err) {
          if (cb) process.nextTick(() => cb(err as Error));
          else this._emitError(err);
          continue;
        }
        if (cb) process.nextTick(() => cb());
        if (this.type === "req") this._startReading();
      }
    } finally {
      this._sending = false;
    }
  }

  // ---- endpoints ------------------------------------------------------------

  /** Runs bind/unbind one after another (our sockets refuse overlapping ones with EBUSY). */
  private _endpointOp(op: "bind" | "unbind", address: string, cb?: Callback): this {
    const run = this._endpointChain.then(() => this._socket[op](address));
    this._endpointChain = run.catch(() => {});
    run.then(
      () => process.nextTick(() => {
        this.emit(op, address);
        if (cb) cb();
      }),
      (err: unknown) => process.nextTick(() => {
        if (cb) cb(err as Error);
        else this.emit("error", err);
      }),
    );
    return this;
  }

  bind(address: string, cb?: Callback): this {
    return this._endpointOp("bind", address, cb);
  }

  unbind(address: string, cb?: Callback): this {
    return this._endpointOp("unbind", address, cb);
  }

  /**
   * Starts binding and returns. Binding a network address cannot complete synchronously
   * in Node.js: a failure is emitted as "error" (connect() may be called right away; it
   * retries until the endpoint is up).
   */
  bindSync(address: string): this {
    return this._endpointOp("bind", address);
  }

  /** Starts unbinding and returns; a failure is emitted as "error". */
  unbindSync(address: string): this {
    return this._endpointOp("unbind", address);
  }

  connect(address: string): this {
    this._socket.connect(address);
    return this;
  }

  disconnect(address: string): this {
    this._socket.disconnect(address);
    return this;
  }

  // ---- subscriptions, flow, lifetime ---------------------------------------

  subscribe(filter: string | Buffer): this {
    if (!(this._socket instanceof Subscriber)) throw new Error("Subscriber socket required");
    this._socket.subscribe(filter);
    return this;
  }

  unsubscribe(filter: string | Buffer): this {
    if (!(this._socket instanceof Subscriber)) throw new Error("Subscriber socket required");
    this._socket.unsubscribe(filter);
    return this;
  }

  /** Stops emitting messages (they queue up) and sending queued messages until resume(). */
  pause(): this {
    this._paused = true;
    return this;
  }

  resume(): this {
    this._paused = false;
    this._startReading();
    this._startSending();
    return this;
  }

  close(): this {
    this._closed = true;
    this._socket.close();
    return this;
  }

  // ---- monitoring -----------------------------------------------------------

  /**
   * Emits the socket's events: "connect", "connect_delay", "connect_retry" (value: the
   * retry interval), "listen" (a bind), "bind_error", "accept", "accept_error", "close",
   * "close_error" (value: errno, third argument: the Error) and "disconnect", each as
   * (value, endpoint, error?). The arguments are ignored: events are read as they come.
   */
  monitor(interval?: number, numEvents?: number): this {
    if (interval || numEvents) {
      process.emitWarning("Arguments to monitor() are ignored in compatibility mode; all events are read automatically");
    }
    const events = this._socket.events;
    const read = async (): Promise<void> => {
      while (!events.closed) {
        let event: Record<string, unknown> & { type: string };
        try {
          event = (await events.receive()) as unknown as Record<string, unknown> & { type: string };
        } catch (err) {
          if (!this.closed && !events.closed) this._emitError(err);
          return;
        }
        let type: string;
        let value: unknown;
        let error: Error | undefined;
        const failed = () => {
          error = event.error as Error | undefined;
          value = error ? (error as Error & { errno?: number }).errno : 0;
        };
        switch (event.type) {
          case "connect": case "accept": case "close": case "disconnect":
            type = event.type;
            break;
          case "connect:delay":
            type = "connect_delay";
            break;
          case "connect:retry":
            type = "connect_retry";
            value = event.interval;
            break;
          case "bind":
            type = "listen";
            break;
          case "bind:error":
            type = "bind_error";
            failed();
            break;
          case "accept:error":
            type = "accept_error";
            failed();
            break;
          case "close:error":
            type = "close_error";
            failed();
            break;
          case "end":
            return;
          default:
            continue;
        }
        try {
          this.emit(type, value, event.address, error);
        } catch (err) {
          rethrowLater(err);
        }
      }
    };
    void read();
    return this;
  }

  unmonitor(): this {
    this._socket.events.close();
    return this;
  }

  // ---- options --------------------------------------------------------------

  private _optionId(option: number | OptionName): number {
    if (typeof option === "number") return option;
    const id = (options as Record<string, number>)[option];
    if (id === undefined) throw new Error("Unknown option");
    return id;
  }

  /** Sets an option by ZMQ_* id or short name; returns the socket. */
  setsockopt(option: number | OptionName, value: any): this {
    const id = this._optionId(option);
    const sock = this._socket as unknown as Record<string, unknown>;
    switch (id) {
      case c.ZMQ_SUBSCRIBE:
      case c.ZMQ_UNSUBSCRIBE: {
        const s = this._socket as unknown as { subscribe?: (f: unknown) => void; unsubscribe?: (f: unknown) => void };
        const fn = id === c.ZMQ_SUBSCRIBE ? s.subscribe : s.unsubscribe;
        if (typeof fn !== "function") throw new Error("Subscriber socket required");
        fn.call(this._socket, value);
        return this;
      }
      case c.ZMQ_IPV4ONLY:
        sock.ipv6 = !value;
        return this;
      case c.ZMQ_XPUB_VERBOSE:
        if (!("verbosity" in sock)) throw new Error("XPUB socket required");
        sock.verbosity = value ? "allSubs" : null;
        return this;
      case c.ZMQ_ROUTER_RAW:
        throw new Error("ZMQ_ROUTER_RAW is not supported in compatibility mode");
    }
    const row = plainOptions.get(id);
    if (row === undefined || readOnlyOptions.has(id)) throw new Error("Unknown option");
    const [prop, kind] = row;
    const v = kind === "flag" ? Boolean(value) : value;
    if (prop in sock) sock[prop] = v;
    else this._otherOptions.set(id, v); // libzmq accepts it on any socket type; it has no effect here
    return this;
  }

  /** Reads an option by ZMQ_* id or short name. */
  getsockopt(option: number | OptionName): any {
    const id = this._optionId(option);
    const sock = this._socket as unknown as Record<string, unknown>;
    switch (id) {
      case c.ZMQ_RCVMORE:
        throw new Error("ZMQ_RCVMORE is not supported in compatibility mode");
      case c.ZMQ_FD:
        throw new Error("ZMQ_FD is not supported in compatibility mode");
      case c.ZMQ_EVENTS:
        return (this._socket.readable ? c.ZMQ_POLLIN : 0) | (this._socket.writable ? c.ZMQ_POLLOUT : 0);
      case c.ZMQ_TYPE:
        return this._socket.type;
      case c.ZMQ_IPV4ONLY:
        return sock.ipv6 ? 0 : 1;
      case c.ZMQ_XPUB_VERBOSE:
        throw new Error("Reading ZMQ_XPUB_VERBOSE is not supported");
      case c.ZMQ_ROUTER_RAW:
        throw new Error("ZMQ_ROUTER_RAW is not supported in compatibility mode");
      case c.ZMQ_SUBSCRIBE:
      case c.ZMQ_UNSUBSCRIBE:
        throw new Error("Unknown option");
      case c.ZMQ_MECHANISM:
        switch (sock.securityMechanism) {
          case "plain": return 1;
          case "curve": return 2;
          case "gssapi": return 3;
          default: return 0;
        }
    }
    const row = plainOptions.get(id);
    if (row === undefined) throw new Error("Unknown option");
    const [prop, kind] = row;
    const v = prop in sock ? sock[prop] : this._otherOptions.get(id);
    return kind === "flag" ? (v ? 1 : 0) : v;
  }
}

// Short option names as properties: `sock.backlog = 50`, `sock.identity`.
for (const [name, id] of Object.entries(options)) {
  if (Object.prototype.hasOwnProperty.call(Socket.prototype, name)) continue;
  Object.defineProperty(Socket.prototype, name, {
    configurable: true,
    get(this: Socket) {
      return this.getsockopt(id);
    },
    set(this: Socket, value: unknown) {
      this.setsockopt(id, typeof value === "string" ? Buffer.from(value, "utf8") : value);
    },
  });
}

/**
 * Creates a socket of `type` ("req", "pub", ... or a ZMQ_* number), applying `opts`
 * (short option names such as `{backlog: 30, identity: "a"}`).
 */
export function createSocket(type: SocketType | number, opts: Record<string, unknown> = {}): Socket {
  const sock = new Socket(type);
  for (const key of Object.keys(opts)) sock[key] = opts[key];
  return sock;
}

export { createSocket as socket };

/** A new CURVE key pair, both Z85 strings of 40 characters. */
export function curveKeypair(): { public: string; secret: string } {
  const { publicKey, secretKey } = curveKeyPair();
  return { public: publicKey, secret: secretKey };
}

/**
 * Forwards messages between `frontend` and `backend` (push/pull, pull/push, xpub/xsub,
 * router/dealer) until they are closed, copying the backend's messages to `capture`.
 */
export function proxy(frontend: Socket, backend: Socket, capture?: Socket): void {
  switch (`${frontend.type}/${backend.type}`) {
    case "push/pull":
    case "pull/push":
    case "xpub/xsub":
      frontend.on("message", (...msg: Buffer[]) => backend.send(msg));
      backend.on("message", (...msg: Buffer[]) => {
        frontend.send(msg);
        if (capture) capture.send(msg);
      });
      return;
    case "router/dealer":
    case "xrep/xreq":
    case "router/xreq":
    case "xrep/dealer":
      frontend.on("message", (...msg: Buffer[]) => backend.send(msg));
      backend.on("message", (...msg: Buffer[]) => {
        frontend.send(msg);
        if (capture) capture.send(msg.slice(2));
      });
      return;
    default:
      throw new Error("This socket type order is not supported in compatibility mode");
  }
}

/** The libzmq version whose behaviour zmq-ts matches (semver). */
export const version: string = zmqVersion;
