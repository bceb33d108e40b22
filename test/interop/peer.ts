// Driver for the out-of-process interop peers (peers/pypeer.py, peers/jspeer.mjs).
//
// Each peer is a child process owning exactly one real libzmq socket. It is
// driven with line-delimited JSON over stdin/stdout; every command here is
// bounded by a timeout, and the child is killed on close() (and, as a last
// resort, when this process exits).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { nodeForPeers } from "../helpers/runtime.js";
import { endChild } from "../helpers/child.js";

export type PeerKind = "python" | "zeromq.js";

export type SocketType =
  | "PAIR"
  | "PUB"
  | "SUB"
  | "XPUB"
  | "XSUB"
  | "REQ"
  | "REP"
  | "DEALER"
  | "ROUTER"
  | "PUSH"
  | "PULL";

export interface PeerSpec {
  type: SocketType;
  mode: "bind" | "connect";
  endpoint: string;
  /** ZMQ_ROUTING_ID, raw bytes. */
  routingId?: Buffer;
  /** Initial subscriptions (SUB: socket option; XSUB: `\x01topic` messages). */
  subscribe?: Array<Buffer | string>;
  linger?: number;
  reconnectIvl?: number;
  sndhwm?: number;
  rcvhwm?: number;
  /** ZMQ_ROUTER_MANDATORY on a ROUTER peer. */
  mandatory?: boolean;
}

export class PeerTimeoutError extends Error {
  override name = "PeerTimeoutError";
}

const PYTHON = "/usr/bin/python3";
const PY_PEER = fileURLToPath(new URL("./peers/pypeer.py", import.meta.url));
const JS_PEER = fileURLToPath(new URL("./peers/jspeer.mjs", import.meta.url));

/** Slack added to a command's own timeout before the driver gives up on the child. */
const GRACE_MS = 5000;
const START_TIMEOUT_MS = 10000;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Reply {
  id?: number;
  ok: boolean;
  error?: string;
  timeout?: boolean;
  frames?: string[];
  endpoint?: string;
  [key: string]: unknown;
}

const live = new Set<Peer>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const p of live) p.kill();
  });
}

const toBuf = (b: Buffer | string): Buffer => (typeof b === "string" ? Buffer.from(b) : b);

export class Peer {
  readonly kind: PeerKind;
  readonly spec: PeerSpec;
  /** Endpoint the peer reported when ready (resolved for `tcp://…:*`). */
  endpoint = "";
  /** libzmq version the peer runs on. */
  libzmq = "";

  private child: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private buf = "";
  private stderr = "";
  private exited = false;
  private readyWaiter: Pending | null = null;
  private exitPromise: Promise<void>;

  private constructor(kind: PeerKind, spec: PeerSpec) {
    this.kind = kind;
    this.spec = spec;
    const json = JSON.stringify({
      ...spec,
      routingId: spec.routingId?.toString("hex"),
      subscribe: spec.subscribe?.map((t) => toBuf(t).toString("hex")),
    });
    const [cmd, args] =
      kind === "python" ? [PYTHON, ["-u", PY_PEER, json]] : [nodeForPeers, [JS_PEER, json]];
    this.child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    installExitHook();
    live.add(this);
    this.child.stdout.setEncoding("utf8");
    this.child.stderr.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.onData(chunk));
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    // Writes to a dead child's stdin surface here; the exit handler reports it.
    this.child.stdin.on("error", () => {});
    this.exitPromise = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exited = true;
        live.delete(this);
        const err = new Error(
          `${this.kind} peer (${this.spec.type}) exited (code ${code}, signal ${signal})` +
            (this.stderr ? `; stderr:\n${this.stderr}` : ""),
        );
        this.failAll(err);
        resolve();
      });
      this.child.on("error", (err) => {
        this.failAll(err);
      });
    });
  }

  /** Spawn a peer and wait for it to be bound/connected. */
  static async start(kind: PeerKind, spec: PeerSpec): Promise<Peer> {
    const peer = new Peer(kind, spec);
    try {
      const ready = await new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new PeerTimeoutError(`${kind} peer did not become ready in ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
        peer.readyWaiter = { resolve, reject, timer };
      });
      peer.endpoint = String(ready.endpoint);
      peer.libzmq = String(ready.libzmq ?? "");
    } catch (err) {
      await peer.close();
      throw err;
    }
    return peer;
  }

  /** Send one multipart message; resolves once the peer's libzmq accepted it. */
  async send(frames: Array<Buffer | string>, timeoutMs = 5000): Promise<void> {
    const reply = await this.command(
      { cmd: "send", frames: frames.map((f) => toBuf(f).toString("hex")), timeout: timeoutMs },
      timeoutMs,
    );
    if (!reply.ok) throw this.failure("send", reply);
  }

  /** Receive one multipart message or reject after timeoutMs. */
  async receive(timeoutMs = 5000): Promise<Buffer[]> {
    const msg = await this.tryReceive(timeoutMs);
    if (msg === null) throw new PeerTimeoutError(`${this.kind} ${this.spec.type} peer: receive timed out after ${timeoutMs} ms`);
    return msg;
  }

  /** Receive one multipart message, or null when none arrives within timeoutMs. */
  async tryReceive(timeoutMs: number): Promise<Buffer[] | null> {
    const reply = await this.command({ cmd: "recv", timeout: timeoutMs }, timeoutMs);
    if (!reply.ok) {
      if (reply.timeout) return null;
      throw this.failure("receive", reply);
    }
    return (reply.frames ?? []).map((h) => Buffer.from(h, "hex"));
  }

  /** SUB: ZMQ_SUBSCRIBE; XSUB: sends `\x01topic`. */
  async subscribe(topic: Buffer | string = ""): Promise<void> {
    const reply = await this.command({ cmd: "subscribe", topic: toBuf(topic).toString("hex") }, 5000);
    if (!reply.ok) throw this.failure("subscribe", reply);
  }

  /** SUB: ZMQ_UNSUBSCRIBE; XSUB: sends `\x00topic`. */
  async unsubscribe(topic: Buffer | string = ""): Promise<void> {
    const reply = await this.command({ cmd: "unsubscribe", topic: toBuf(topic).toString("hex") }, 5000);
    if (!reply.ok) throw this.failure("unsubscribe", reply);
  }

  /**
   * Close the peer's socket and open a fresh one on the same endpoint (bind
   * again at the resolved address, or connect again). Resolves with the
   * endpoint once the new socket is bound/connected.
   */
  async restart(): Promise<string> {
    const reply = await this.command({ cmd: "restart" }, 10000);
    if (!reply.ok) throw this.failure("restart", reply);
    this.endpoint = String(reply.endpoint);
    return this.endpoint;
  }

  /** The peer's last endpoint as reported by the peer. */
  async lastEndpoint(): Promise<string> {
    const reply = await this.command({ cmd: "endpoint" }, 5000);
    if (!reply.ok) throw this.failure("endpoint", reply);
    return String(reply.endpoint);
  }

  /** Ask the peer to exit, then make sure it is gone. Idempotent. */
  async close(): Promise<void> {
    if (!this.exited) {
      await endChild(this.child, this.exitPromise, () => this.child.stdin.end(JSON.stringify({ id: this.nextId++, cmd: "exit" }) + "\n"));
    }
    this.child.stdout.destroy();
    this.child.stderr.destroy();
  }

  /** Hard kill (SIGKILL). */
  kill(): void {
    if (!this.exited) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // ignore
      }
    }
  }

  /** Kill every peer still running in this process. */
  static killAll(): void {
    for (const p of live) p.kill();
  }

  private failure(what: string, reply: Reply): Error {
    const msg = `${this.kind} ${this.spec.type} peer: ${what} failed: ${reply.error ?? "unknown error"}`;
    return reply.timeout ? new PeerTimeoutError(msg) : new Error(msg);
  }

  private command(msg: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error(`${this.kind} peer already exited`));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new PeerTimeoutError(`${this.kind} ${this.spec.type} peer: no reply to ${String(msg.cmd)} within ${timeoutMs + GRACE_MS} ms`));
      }, timeoutMs + GRACE_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(JSON.stringify({ ...msg, id }) + "\n");
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim()) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let obj: Reply & { event?: string };
    try {
      obj = JSON.parse(line) as Reply & { event?: string };
    } catch {
      this.stderr = (this.stderr + "\n[stdout] " + line).slice(-4000);
      return;
    }
    if (obj.event !== undefined) {
      const w = this.readyWaiter;
      if (!w) return;
      this.readyWaiter = null;
      clearTimeout(w.timer);
      if (obj.event === "ready") w.resolve(obj);
      else w.reject(new Error(`${this.kind} peer failed to start: ${String(obj.error)}`));
      return;
    }
    const p = obj.id === undefined ? undefined : this.pending.get(obj.id);
    if (!p || obj.id === undefined) return;
    this.pending.delete(obj.id);
    clearTimeout(p.timer);
    p.resolve(obj);
  }

  private failAll(err: Error): void {
    if (this.readyWaiter) {
      clearTimeout(this.readyWaiter.timer);
      this.readyWaiter.reject(err);
      this.readyWaiter = null;
    }
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }
}
