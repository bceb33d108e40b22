// Driver for peers/draftpeer.mjs: one zeromq.js (libzmq 4.3.5, drafts on) socket in a
// child Node process, commanded by line-delimited JSON. Every command has a timeout;
// close() ends the child (and, as a last resort, the exit hook kills it).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { nodeForPeers } from "../helpers/runtime.js";
import { endChild } from "../helpers/child.js";

export type DraftType = "SERVER" | "CLIENT" | "RADIO" | "DISH" | "GATHER" | "SCATTER" | "DGRAM" | "PEER" | "CHANNEL";

export interface DraftPeerSpec {
  type: DraftType;
  mode: "bind" | "connect";
  endpoint: string;
  options?: Record<string, unknown>;
}

export interface Received {
  frames: Buffer[];
  routingId?: number;
  group?: Buffer;
}

interface Reply {
  id?: number;
  ok: boolean;
  error?: string;
  code?: string;
  frames?: string[];
  routingId?: number;
  group?: string;
  event?: string;
  endpoint?: string;
}

const SCRIPT = fileURLToPath(new URL("./peers/draftpeer.mjs", import.meta.url));
const GRACE_MS = 5000;
const live = new Set<DraftPeer>();
let hooked = false;

export class DraftPeer {
  endpoint = "";
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private ready: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private nextId = 1;
  private buf = "";
  private stderr = "";
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(readonly spec: DraftPeerSpec) {
    this.child = spawn(nodeForPeers, [SCRIPT, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "pipe"] });
    live.add(this);
    if (!hooked) {
      hooked = true;
      process.on("exit", () => { for (const p of live) p.kill(); });
    }
    this.child.stdout.setEncoding("utf8");
    this.child.stderr.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.onData(chunk));
    this.child.stderr.on("data", (chunk: string) => { this.stderr = (this.stderr + chunk).slice(-4000); });
    this.child.stdin.on("error", () => {});
    this.exit = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exited = true;
        live.delete(this);
        this.failAll(new Error(`draft peer ${spec.type} exited (code ${code}, signal ${signal}) ${this.stderr}`));
        resolve();
      });
    });
  }

  /** Starts a peer and waits (at most 10 s) until it is bound or connected. */
  static async start(spec: DraftPeerSpec): Promise<DraftPeer> {
    const peer = new DraftPeer(spec);
    try {
      const reply = await new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`draft peer ${spec.type} not ready in 10 s`)), 10_000);
        peer.ready = {
          resolve: (r) => { clearTimeout(timer); resolve(r); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        };
      });
      peer.endpoint = String(reply.endpoint);
    } catch (e) {
      await peer.close();
      throw e;
    }
    return peer;
  }

  async send(frames: Array<Buffer | string>, meta: { routingId?: number; group?: Buffer | string } = {}, timeoutMs = 5000): Promise<void> {
    const reply = await this.command({
      cmd: "send", timeout: timeoutMs, frames: frames.map((f) => Buffer.from(f).toString("hex")),
      routingId: meta.routingId, group: meta.group === undefined ? undefined : Buffer.from(meta.group).toString("hex"),
    }, timeoutMs);
    if (!reply.ok) throw Object.assign(new Error(`draft peer send: ${reply.error}`), { code: reply.code });
  }

  /** The next message, or null when none comes within timeoutMs. */
  async receive(timeoutMs = 5000): Promise<Received | null> {
    const reply = await this.command({ cmd: "recv", timeout: timeoutMs }, timeoutMs);
    if (!reply.ok) {
      if (reply.code === "EAGAIN") return null;
      throw new Error(`draft peer receive: ${reply.error}`);
    }
    const got: Received = { frames: (reply.frames ?? []).map((h) => Buffer.from(h, "hex")) };
    if (reply.routingId !== undefined) got.routingId = reply.routingId;
    if (reply.group !== undefined) got.group = Buffer.from(reply.group, "hex");
    return got;
  }

  async join(group: Buffer | string): Promise<void> {
    const reply = await this.command({ cmd: "join", group: Buffer.from(group).toString("hex") }, 5000);
    if (!reply.ok) throw Object.assign(new Error(`draft peer join: ${reply.error}`), { code: reply.code });
  }

  async leave(group: Buffer | string): Promise<void> {
    const reply = await this.command({ cmd: "leave", group: Buffer.from(group).toString("hex") }, 5000);
    if (!reply.ok) throw Object.assign(new Error(`draft peer leave: ${reply.error}`), { code: reply.code });
  }

  async close(): Promise<void> {
    if (!this.exited) {
      await endChild(this.child, this.exit, () => this.child.stdin.end(JSON.stringify({ id: this.nextId++, cmd: "exit" }) + "\n"));
    }
    this.child.stdout.destroy();
    this.child.stderr.destroy();
  }

  kill(): void {
    if (!this.exited) try { this.child.kill("SIGKILL"); } catch { /* gone */ }
  }

  private command(msg: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error("draft peer already exited"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`draft peer ${this.spec.type}: no reply to ${String(msg.cmd)} in ${timeoutMs + GRACE_MS} ms`));
      }, timeoutMs + GRACE_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(JSON.stringify({ ...msg, id }) + "\n");
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let reply: Reply;
      try { reply = JSON.parse(line) as Reply; } catch { continue; }
      if (reply.event !== undefined) {
        const w = this.ready;
        this.ready = null;
        if (reply.event === "ready") w?.resolve(reply);
        else w?.reject(Object.assign(new Error(`draft peer failed to start: ${reply.error}`), { code: reply.code }));
        continue;
      }
      const p = reply.id === undefined ? undefined : this.pending.get(reply.id);
      if (!p) continue;
      this.pending.delete(reply.id!);
      clearTimeout(p.timer);
      p.resolve(reply);
    }
  }

  private failAll(err: Error): void {
    this.ready?.reject(err);
    this.ready = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }
}
