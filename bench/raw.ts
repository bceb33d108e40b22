/**
 * The raw-socket ceiling: plain `node:net` streams carrying length-prefixed messages,
 * with the same promise-per-message surface as a ZeroMQ socket (`await send(buf)`,
 * `await receive()`), so the benchmark loops are identical. Nothing here is ZeroMQ: no
 * greeting, no routing, no frames with flags. It is what a careful hand-written framing
 * layer on top of Node's streams achieves — the best our library can hope for.
 *
 * Writer: messages up to SMALL bytes are copied (4-byte big-endian length + body) into
 * a 64 KiB batch that is written when full or on the next tick; larger bodies go to the
 * stream untouched behind a 4-byte header (cork/uncork: one writev). send() resolves at
 * once unless the stream asks for a drain (then on 'drain') — Node's own back-pressure.
 *
 * Reader: a message inside one chunk is a subarray of it; one spanning chunks is
 * allocated at its announced size and filled. Messages wait in a queue for receive();
 * past RCV_HWM queued messages the stream is paused (like a ZeroMQ receive HWM).
 */
import * as net from "node:net";

const SMALL = 8 * 1024;
const BATCH = 64 * 1024;
const RCV_HWM = 1000;
const RESOLVED: Promise<void> = Promise.resolve();

/** Writes length-prefixed messages to one or more streams (several: a lossless fan-out). */
export class FramedWriter {
  private batch = Buffer.allocUnsafe(BATCH);
  private used = 0;
  private scheduled = false;
  private readonly flushTick = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly socks: net.Socket[]) {}

  send(buf: Buffer): Promise<void> {
    const n = buf.length;
    if (n <= SMALL) {
      if (this.used + 4 + n > BATCH) this.flush();
      const b = this.batch;
      const at = this.used;
      b[at] = n >>> 24;
      b[at + 1] = (n >>> 16) & 0xff;
      b[at + 2] = (n >>> 8) & 0xff;
      b[at + 3] = n & 0xff;
      buf.copy(b, at + 4);
      this.used = at + 4 + n;
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flushTick);
      }
    } else {
      this.flush();
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32BE(n, 0);
      for (const s of this.socks) {
        s.cork();
        s.write(header);
        s.write(buf);
        s.uncork();
      }
    }
    return this.backPressure();
  }

  private flush(): void {
    if (this.used === 0) return;
    const out = this.batch.subarray(0, this.used);
    // The written buffer may still be held by libuv: never reuse it, start a new one.
    this.batch = Buffer.allocUnsafe(BATCH);
    this.used = 0;
    for (const s of this.socks) s.write(out);
  }

  private backPressure(): Promise<void> {
    let waits: Promise<void>[] | undefined;
    for (const s of this.socks) {
      if (s.writableNeedDrain) (waits ??= []).push(new Promise<void>((resolve) => s.once("drain", resolve)));
    }
    if (!waits) return RESOLVED;
    return waits.length === 1 ? waits[0]! : Promise.all(waits).then(() => undefined);
  }
}

/** Parses length-prefixed messages from one stream into a queue read by receive(). */
export class FramedReader {
  private readonly queue: Buffer[] = [];
  private head = 0;
  private waiter: ((b: Buffer) => void) | null = null;
  private paused = false;
  /** Partial header bytes (fewer than 4 seen). */
  private hdr = Buffer.alloc(4);
  private hdrUsed = 0;
  /** A body spanning chunks: its buffer and how much is filled. */
  private body: Buffer | null = null;
  private bodyUsed = 0;

  constructor(private readonly sock: net.Socket) {
    sock.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  receive(): Promise<Buffer> {
    if (this.head < this.queue.length) {
      const m = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Buffer;
      const left = this.queue.length - this.head;
      if (left === 0) {
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head >= 4096) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (this.paused && left < RCV_HWM / 2) {
        this.paused = false;
        this.sock.resume();
      }
      return Promise.resolve(m);
    }
    return new Promise<Buffer>((resolve) => {
      this.waiter = resolve;
    });
  }

  private deliver(m: Buffer): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(m);
      return;
    }
    this.queue.push(m);
    if (!this.paused && this.queue.length - this.head >= RCV_HWM) {
      this.paused = true;
      this.sock.pause();
    }
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    const len = chunk.length;
    while (at < len) {
      if (this.body) {
        const want = this.body.length - this.bodyUsed;
        const take = Math.min(want, len - at);
        chunk.copy(this.body, this.bodyUsed, at, at + take);
        this.bodyUsed += take;
        at += take;
        if (this.bodyUsed === this.body.length) {
          const m = this.body;
          this.body = null;
          this.deliver(m);
        }
        continue;
      }
      let n: number;
      if (this.hdrUsed === 0 && len - at >= 4) {
        n = chunk.readUInt32BE(at);
        at += 4;
      } else {
        while (this.hdrUsed < 4 && at < len) this.hdr[this.hdrUsed++] = chunk[at++]!;
        if (this.hdrUsed < 4) return;
        n = this.hdr.readUInt32BE(0);
        this.hdrUsed = 0;
      }
      if (len - at >= n) {
        this.deliver(chunk.subarray(at, at + n));
        at += n;
      } else {
        this.body = Buffer.allocUnsafe(n);
        this.bodyUsed = 0;
      }
    }
  }
}

/** Listens on tcp 127.0.0.1:0 or an ipc path; resolves the address to connect to. */
export async function listen(server: net.Server, transport: "tcp" | "ipc", ipcPath: string): Promise<net.NetConnectOpts> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (transport === "tcp") server.listen(0, "127.0.0.1", () => resolve());
    else server.listen(ipcPath, () => resolve());
  });
  if (transport === "ipc") return { path: ipcPath };
  const a = server.address() as net.AddressInfo;
  return { host: "127.0.0.1", port: a.port };
}

/** Connects `count` clients to a fresh server; resolves both ends of each connection. */
export async function connectPairs(
  transport: "tcp" | "ipc",
  ipcPath: string,
  count: number,
): Promise<{ server: net.Server; serverSide: net.Socket[]; clientSide: net.Socket[] }> {
  const serverSide: net.Socket[] = [];
  let allAccepted!: () => void;
  const accepted = new Promise<void>((r) => (allAccepted = r));
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    serverSide.push(s);
    if (serverSide.length === count) allAccepted();
  });
  const addr = await listen(server, transport, ipcPath);
  const clientSide: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const c = net.connect(addr);
    await new Promise<void>((resolve, reject) => {
      c.once("connect", resolve);
      c.once("error", reject);
    });
    if (transport === "tcp") c.setNoDelay(true);
    clientSide.push(c);
  }
  await accepted;
  return { server, serverSide, clientSide };
}
