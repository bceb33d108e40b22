import { createServer, type Server, type Socket as NetSocket, type AddressInfo } from "node:net";
import { unlinkSync, statSync } from "node:fs";
import { ZmtpEngine, type EngineEnd, type EngineHost } from "../engine/zmtp-engine.js";
import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import { fromSystemError, zmqError } from "../errors.js";
import { formatTcp, type Endpoint } from "./endpoint.js";
import type { SessionOwner } from "./session-owner.js";
import { engineEndEvent } from "./end-events.js";

/** A connection factory for accepted streams; STREAM sockets swap in a raw engine. */
export type AcceptHandler = (stream: NetSocket, listener: NetListener) => void;

/**
 * A bound tcp or ipc endpoint. Every accepted connection gets its own engine and,
 * once the handshake is done, its own pipe; the pipe dies with the connection
 * (RFC 28-30: a disconnected peer's queue is destroyed).
 */
export class NetListener {
  private server: Server | null = null;
  /** The endpoint as libzmq reports it once bound (port resolved). */
  address = "";
  private readonly engines = new Set<Closable>();

  constructor(
    private readonly owner: SessionOwner,
    readonly endpoint: Endpoint & { protocol: "tcp" | "ipc" },
    private readonly onAccept?: AcceptHandler,
  ) {}

  listen(): Promise<string> {
    const ep = this.endpoint;
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true, pauseOnConnect: false }, (stream) => this.accept(stream));
      const fail = (err: NodeJS.ErrnoException) => {
        const reported = ep.address.replace(/^[a-z]+:\/\//, "");
        const error = fromSystemError(err, ep.address);
        this.owner.emit({ type: "bind:error", address: reported, error } as never);
        reject(error);
      };
      server.once("error", fail);
      const onListening = () => {
        server.off("error", fail);
        server.on("error", () => {});
        server.unref();
        this.server = server;
        if (ep.protocol === "tcp") {
          const info = server.address() as AddressInfo;
          this.address = formatTcp(info.address, info.port);
        } else {
          this.address = ep.address;
        }
        this.owner.emit({ type: "bind", address: this.address });
        resolve(this.address);
      };
      const backlog = this.owner.option<number>("backlog");
      if (ep.protocol === "tcp") {
        const host = ep.anyHost ? (this.owner.option<boolean>("ipv6") ? "::" : "0.0.0.0") : ep.host;
        server.listen({ host, port: ep.port, backlog, ipv6Only: false }, onListening);
      } else {
        removeStaleSocketFile(ep.path);
        server.listen({ path: ep.path, backlog }, onListening);
      }
    });
  }

  private accept(stream: NetSocket): void {
    stream.unref();
    if (this.owner.closed || !this.server) {
      stream.destroy();
      return;
    }
    this.owner.emit({ type: "accept", address: this.address });
    if (this.onAccept) {
      this.onAccept(stream, this);
      return;
    }
    const host: EngineHost & { pipe: Pipe | null } = {
      pipe: null,
      engineReady: (_engine: ZmtpEngine, peer: PeerInfo): Pipe => {
        const pipe = this.owner.createPipe(this.address);
        host.pipe = pipe;
        pipe.peer = peer;
        this.owner.attachPipe(pipe);
        this.owner.pipeHandshaked(pipe, peer);
        this.owner.emit({ type: "handshake", address: this.address });
        return pipe;
      },
      engineClosed: (engine: ZmtpEngine, end: EngineEnd, handshaked: boolean) => {
        this.engines.delete(engine);
        host.pipe?.terminate();
        const ev = engineEndEvent(end, handshaked, this.address);
        if (ev) this.owner.emit(ev);
      },
    };
    const start = () => {
      if (this.owner.closed || stream.destroyed) return stream.destroy();
      const engine = new ZmtpEngine(stream, this.owner.createMechanism(true, stream.remoteAddress ?? ""), this.owner.engineOptions(), host, this.address);
      this.engines.add(engine);
    };
    const wait = this.owner.mechanismReady();
    if (wait) wait.then(start, () => stream.destroy());
    else start();
  }

  /** Tracks a connection made by a custom accept handler, so that close() ends it. */
  track(conn: Closable): () => void {
    this.engines.add(conn);
    return () => this.engines.delete(conn);
  }

  /** Stops listening; with `lingerMs` > 0 (or -1) lets connections flush first. */
  close(lingerMs: number, done?: () => void): void {
    const server = this.server;
    this.server = null;
    if (server) {
      server.close();
      this.owner.emit({ type: "close", address: this.address });
    }
    const engines = [...this.engines];
    this.engines.clear();
    lingerAll(engines, lingerMs, done);
  }
}

/** Lets each connection flush within `lingerMs` (-1: as long as it takes; 0: not at all). */
/** A connection as the endpoints see it. */
export interface Closable {
  /** Closes now; `flushAccepted` writes out what send() had accepted first (linger 0). */
  close(flushAccepted?: boolean): void;
  linger(done: () => void): void;
}

export function lingerAll(conns: Closable[], lingerMs: number, done?: () => void): void {
  if (conns.length === 0 || lingerMs === 0) {
    for (const c of conns) c.close(true);
    done?.();
    return;
  }
  let left = conns.length;
  let timer: NodeJS.Timeout | null = null;
  const finish = () => {
    if (--left === 0) {
      if (timer) clearTimeout(timer);
      done?.();
    }
  };
  if (lingerMs > 0) {
    timer = setTimeout(() => {
      for (const c of conns) c.close();
    }, Math.min(lingerMs, 2 ** 31 - 1));
  }
  for (const c of conns) c.linger(finish);
}

/** libzmq removes an ipc socket file left by a dead process before binding; so do we, but only a socket file. */
function removeStaleSocketFile(path: string): void {
  if (path.startsWith("\0")) return;
  try {
    if (statSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* nothing there */
  }
}

export const bindInUse = (address: string) => zmqError("EADDRINUSE", "Address already in use", address);
