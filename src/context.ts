import { InprocRegistry } from "./transport/inproc.js";

export interface ContextOptions {
  blocky?: boolean;
  ioThreads?: number;
  maxMessageSize?: number;
  maxSockets?: number;
  ipv6?: boolean;
  threadPriority?: number;
  threadSchedulingPolicy?: number;
}

const DEFAULT_MAX_SOCKETS = 1023;
const MAX_SOCKETS_LIMIT = 65535;

/**
 * The scope of inproc endpoints and of the ZAP handler. zmq-ts runs on Node's event
 * loop, so the I/O thread options are kept only for compatibility: they are
 * accepted, stored and reported, and change nothing.
 */
export class Context {
  private static shared: Context | null = null;
  /** @internal */
  readonly inproc = new InprocRegistry();
  private _ioThreads = 1;
  private _maxSockets = DEFAULT_MAX_SOCKETS;
  private _ipv6 = false;
  private _blocky = true;
  private _threadPriority = -1;
  private _threadSchedulingPolicy = -1;
  private _maxMessageSize = 2 ** 31 - 1;

  constructor(options?: ContextOptions, ...rest: unknown[]) {
    if (rest.length > 0) throw new TypeError("Expected 1 argument");
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError("Options must be an object");
    }
    Object.preventExtensions(this);
    if (options) for (const [k, v] of Object.entries(options)) (this as Record<string, unknown>)[k] = v;
  }

  /** pyzmq's Context.instance(): one shared context per process (the default one). */
  static instance(): Context {
    return (Context.shared ??= new Context());
  }

  get ioThreads(): number { return this._ioThreads; }
  set ioThreads(v: number) { this._ioThreads = num(v); }
  get maxSockets(): number { return this._maxSockets; }
  set maxSockets(v: number) { this._maxSockets = num(v); }
  get maxSocketsLimit(): number { return MAX_SOCKETS_LIMIT; }
  get ipv6(): boolean { return this._ipv6; }
  set ipv6(v: boolean) { this._ipv6 = Boolean(v); }
  get blocky(): boolean { return this._blocky; }
  set blocky(v: boolean) { this._blocky = Boolean(v); }
  get threadPriority(): number { return this._threadPriority; }
  set threadPriority(v: number) { this._threadPriority = num(v); }
  get threadSchedulingPolicy(): number { return this._threadSchedulingPolicy; }
  set threadSchedulingPolicy(v: number) { this._threadSchedulingPolicy = num(v); }
  get maxMessageSize(): number { return this._maxMessageSize; }
  set maxMessageSize(v: number) { this._maxMessageSize = num(v); }
}

function num(v: unknown): number {
  if (typeof v !== "number") throw new TypeError("Option value must be a number");
  return v;
}

/** The default context, as zeromq.js's `context` export. */
export const context: Context = Context.instance();
