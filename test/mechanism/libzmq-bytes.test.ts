/**
 * The mechanisms' bytes against real libzmq (4.3.5, through the `zeromq` dev
 * dependency), before any engine integration: a bare TCP socket, our greeting, a
 * FrameDecoder and the mechanism, against a zeromq.js socket with CURVE or PLAIN on.
 * Skipped only on a runtime that cannot run the `zeromq` addon in-process (Bun, Deno: see test/helpers/runtime.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { randomBytes } from "node:crypto";
import { CurveClientMechanism, CurveServerMechanism } from "../../src/mechanism/curve.js";
import { PlainClientMechanism, PlainServerMechanism, parseHandshakeCommand, type ZapReply, type ZapRequest } from "../../src/mechanism/plain.js";
import type { MechanismOptions } from "../../src/mechanism/mechanism.js";
import { curveKeyPair } from "../../src/crypto/keys.js";
import { z85Decode } from "../../src/crypto/z85.js";
import { encodeGreeting, GREETING_SIZE } from "../../src/wire/greeting.js";
import { FrameDecoder, FLAG_MORE } from "../../src/wire/frame-decoder.js";
import { encodeFrame } from "../../src/wire/frame-encoder.js";
import { getProperty, parseCommand } from "../../src/wire/commands.js";
import { loadCrypto } from "../../src/crypto/box.js";
import { zeromqInProcessGap } from "../helpers/runtime.js";

await loadCrypto();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Zmq = any;
// A real libzmq peer is required (a devDependency); interop tests are never skipped, except
// on a runtime that cannot run the addon in-process: zeromqInProcessGap names why (Bun, Deno).
const skip: string | false = zeromqInProcessGap ?? false;
const zmq: Zmq = skip ? null : await import("zeromq" as string);

type Curve = CurveClientMechanism | CurveServerMechanism;
type Ours = CurveClientMechanism | CurveServerMechanism | PlainClientMechanism | PlainServerMechanism;

/** Our side of one connection: greeting, handshake, then frames (through CURVE MESSAGEs when the mechanism has them). */
class Side {
  readonly messages: Buffer[][] = [];
  readonly ready: Promise<void>;
  readonly failed: Promise<Error>;
  private frames: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private greeting: Buffer | null = Buffer.alloc(0);
  private readonly decoder: FrameDecoder;

  constructor(
    readonly stream: net.Socket,
    readonly mech: Ours,
  ) {
    let resolveReady!: () => void;
    let resolveFailed!: (e: Error) => void;
    this.ready = new Promise((r) => (resolveReady = r));
    this.failed = new Promise((r) => (resolveFailed = r));
    const sendHandshake = () => {
      let f: Buffer | null;
      while ((f = mech.nextCommand()) !== null) stream.write(f);
      if (mech.status === "ready") resolveReady();
      if (mech.status === "error") resolveFailed(new Error(`mechanism error: ${mech.peerError}`));
    };
    if ("onReady" in mech) mech.onReady = sendHandshake;
    const curve = "decodeMessage" in mech ? (mech as Curve) : null;
    const deliver = (body: Buffer, more: boolean) => {
      this.frames.push(Buffer.from(body));
      if (!more) {
        this.messages.push(this.frames);
        this.frames = [];
        for (const w of this.waiters.splice(0)) w();
      }
    };
    this.decoder = new FrameDecoder({
      onFrame: (body, more) => {
        if (curve && mech.status === "ready") {
          const f = curve.decodeMessage(body);
          if (!f.command) deliver(f.body, f.more);
        } else deliver(body, more);
      },
      onCommand: (body) => {
        if (mech.status !== "ready") {
          mech.processCommand(parseHandshakeCommand(body));
          sendHandshake();
        } else if (curve && parseCommand(body).name === "MESSAGE") {
          const f = curve.decodeMessage(body);
          if (!f.command) deliver(f.body, f.more);
        }
      },
    });
    stream.on("data", (chunk: Buffer) => {
      try {
        if (this.greeting) {
          const buf = Buffer.concat([this.greeting, chunk]);
          if (buf.length < GREETING_SIZE) {
            this.greeting = buf;
            return;
          }
          this.greeting = null;
          assert.equal(buf.subarray(12, 12 + mech.name.length).toString("latin1"), mech.name);
          sendHandshake();
          chunk = buf.subarray(GREETING_SIZE);
          if (chunk.length === 0) return;
        }
        this.decoder.push(chunk);
      } catch (e) {
        resolveFailed(e as Error);
        stream.destroy();
      }
    });
    stream.on("error", (e) => resolveFailed(e));
    stream.on("close", () => resolveFailed(new Error("closed")));
    stream.write(encodeGreeting(mech.name, mech.asServer));
  }

  send(frames: Buffer[]): void {
    const curve = "encodeFrame" in this.mech ? (this.mech as Curve) : null;
    frames.forEach((f, i) => {
      const flags = i < frames.length - 1 ? FLAG_MORE : 0;
      this.stream.write(curve ? curve.encodeFrame(flags, f) : encodeFrame(f, flags));
    });
  }

  async receive(): Promise<Buffer[]> {
    while (this.messages.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    return this.messages.shift()!;
  }
}

const dealerOpts: MechanismOptions = { socketType: "DEALER", routingId: Buffer.from("ours"), accepted: false };
const routerOpts: MechanismOptions = { socketType: "ROUTER", routingId: null, accepted: true };

function within<T>(p: Promise<T>, ms = 5000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error("timed out")), ms).unref())]);
}

async function connectTo(endpoint: string): Promise<net.Socket> {
  const port = Number(endpoint.split(":").pop());
  return await new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}

/** A listening net server handing out the first accepted socket. */
async function listen(): Promise<{ port: number; accepted: Promise<net.Socket>; close: () => void }> {
  let resolve!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => (resolve = r));
  const server = net.createServer((s) => resolve(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, accepted, close: () => server.close() };
}

/** One ZAP handler (RFC 27) on zeromq.js's side for the whole file: inproc://zeromq.zap.01 in the default context. */
const zapState = { status: "200", userId: "user", requests: [] as Buffer[][] };
let zapSocket: Zmq = null;
async function libzmqZap(status: string, userId = "user"): Promise<{ requests: Buffer[][] }> {
  zapState.status = status;
  zapState.userId = userId;
  zapState.requests = [];
  if (!zapSocket) {
    zapSocket = new zmq.Reply();
    await zapSocket.bind("inproc://zeromq.zap.01");
    void (async () => {
      for await (const req of zapSocket) {
        zapState.requests.push(req as Buffer[]);
        const [version, id] = req as Buffer[];
        const ok = zapState.status === "200";
        await zapSocket.send([version!, id!, zapState.status, ok ? "OK" : "Denied", ok ? zapState.userId : "", Buffer.alloc(0)]);
      }
    })().catch(() => {});
  }
  return zapState;
}

test.after(() => zapSocket?.close());

type HandshakeEvent = { type: string; error?: { status?: number } };
/** The first handshake event zeromq.js reports on an observer. */
async function authEvent(events: Zmq): Promise<HandshakeEvent> {
  for (;;) {
    const e = (await within(events.receive() as Promise<HandshakeEvent>)) as HandshakeEvent;
    if (e.type.startsWith("handshake")) return e;
  }
}

test("CURVE: our client against a libzmq ROUTER server, multipart both ways", { skip, timeout: 20000 }, async () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  const router = new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey, curvePublicKey: server.publicKey });
  await router.bind("tcp://127.0.0.1:*");
  const stream = await connectTo(router.lastEndpoint);
  const mech = new CurveClientMechanism(dealerOpts, { ...client, serverKey: server.publicKey });
  const side = new Side(stream, mech);
  try {
    await within(Promise.race([side.ready, side.failed.then((e) => Promise.reject(e))]));
    assert.equal(getProperty(mech.peerMetadata, "Socket-Type")!.toString(), "ROUTER");
    const big = randomBytes(100_000);
    side.send([Buffer.from("hello"), Buffer.alloc(0), big]);
    const [id, ...frames] = (await within(router.receive())) as Buffer[];
    assert.equal(id!.toString(), "ours");
    assert.deepEqual(frames, [Buffer.from("hello"), Buffer.alloc(0), big]);
    for (let i = 0; i < 3; i++) await router.send([id, `reply ${i}`, Buffer.alloc(300, i)]);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await within(side.receive()), [Buffer.from(`reply ${i}`), Buffer.alloc(300, i)]);
    }
  } finally {
    stream.destroy();
    router.close();
  }
});

test("CURVE: a libzmq DEALER client against our server, multipart both ways", { skip, timeout: 20000 }, async () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  const l = await listen();
  const dealer = new zmq.Dealer({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey, routingId: "theirs" });
  dealer.connect(`tcp://127.0.0.1:${l.port}`);
  const stream = await within(l.accepted);
  const mech = new CurveServerMechanism(routerOpts, { secretKey: server.secretKey });
  const side = new Side(stream, mech);
  try {
    await within(Promise.race([side.ready, side.failed.then((e) => Promise.reject(e))]));
    assert.equal(getProperty(mech.peerMetadata, "Identity")!.toString(), "theirs");
    await dealer.send(["a", Buffer.alloc(0), randomBytes(70_000)]);
    const got = await within(side.receive());
    assert.equal(got.length, 3);
    assert.equal(got[0]!.toString(), "a");
    side.send([Buffer.from("back"), Buffer.from("again")]);
    assert.deepEqual(await within(dealer.receive()), [Buffer.from("back"), Buffer.from("again")]);
  } finally {
    stream.destroy();
    dealer.close();
    l.close();
  }
});

test("CURVE: our server's ZAP 400 reaches libzmq as an auth failure with status 400", { skip, timeout: 20000 }, async () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  const l = await listen();
  const dealer = new zmq.Dealer({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey });
  const events = dealer.events; // observe before connecting
  dealer.connect(`tcp://127.0.0.1:${l.port}`);
  const stream = await within(l.accepted);
  const requests: ZapRequest[] = [];
  const mech = new CurveServerMechanism(routerOpts, { secretKey: server.secretKey }, async (req): Promise<ZapReply> => {
    requests.push(req);
    return { status: "400", statusText: "No", userId: "", metadata: new Map() };
  });
  const side = new Side(stream, mech);
  try {
    await within(side.failed);
    assert.deepEqual(requests[0]!.credentials, [z85Decode(client.publicKey)]);
    assert.equal(mech.zapStatus, 400);
    const event = await authEvent(events);
    assert.equal(event.type, "handshake:error:auth");
    assert.equal(event.error?.status, 400);
  } finally {
    stream.destroy();
    dealer.close();
    l.close();
  }
});

test("PLAIN: our client against a libzmq ROUTER server with a ZAP handler", { skip, timeout: 20000 }, async () => {
  const zap = await libzmqZap("200", "admin-id");
  const router = new zmq.Router({ plainServer: true, zapDomain: "test" });
  await router.bind("tcp://127.0.0.1:*");
  const stream = await connectTo(router.lastEndpoint);
  const mech = new PlainClientMechanism(dealerOpts, "admin", "secret");
  const side = new Side(stream, mech);
  try {
    await within(Promise.race([side.ready, side.failed.then((e) => Promise.reject(e))]));
    side.send([Buffer.from("x"), Buffer.from("y")]);
    const [id, ...frames] = (await within(router.receive())) as Buffer[];
    assert.deepEqual(frames, [Buffer.from("x"), Buffer.from("y")]);
    const req = zap.requests[0]!;
    assert.equal(req[5]!.toString(), "PLAIN");
    assert.equal(req[6]!.toString(), "admin");
    assert.equal(req[7]!.toString(), "secret");
    await router.send([id, "ok"]);
    assert.deepEqual(await within(side.receive()), [Buffer.from("ok")]);
  } finally {
    stream.destroy();
    router.close();
  }
});

test("PLAIN: libzmq's ZAP 400 reaches our client as ERROR '400'", { skip, timeout: 20000 }, async () => {
  const zap = await libzmqZap("400");
  const router = new zmq.Router({ plainServer: true, zapDomain: "test" });
  await router.bind("tcp://127.0.0.1:*");
  const stream = await connectTo(router.lastEndpoint);
  const mech = new PlainClientMechanism(dealerOpts, "admin", "wrong");
  const side = new Side(stream, mech);
  try {
    const why = await within(side.failed);
    assert.equal(mech.status, "error", why.message);
    assert.equal(mech.peerError, "400");
    assert.equal(mech.zapStatus, 400);
  } finally {
    stream.destroy();
    router.close();
  }
});

test("PLAIN: a libzmq DEALER client against our server with a ZAP hook", { skip, timeout: 20000 }, async () => {
  const l = await listen();
  const dealer = new zmq.Dealer({ plainUsername: "bob", plainPassword: "pw" });
  dealer.connect(`tcp://127.0.0.1:${l.port}`);
  const stream = await within(l.accepted);
  const requests: ZapRequest[] = [];
  const mech = new PlainServerMechanism(routerOpts, async (req) => {
    requests.push(req);
    return { status: "200", statusText: "OK", userId: "bob-id", metadata: new Map() };
  });
  const side = new Side(stream, mech);
  try {
    await within(Promise.race([side.ready, side.failed.then((e) => Promise.reject(e))]));
    assert.deepEqual(requests, [{ mechanism: "PLAIN", credentials: [Buffer.from("bob"), Buffer.from("pw")] }]);
    assert.equal(mech.peerMetadata.get("User-Id")!.toString(), "bob-id");
    await dealer.send(["hi", "there"]);
    assert.deepEqual(await within(side.receive()), [Buffer.from("hi"), Buffer.from("there")]);
    side.send([Buffer.from("yo")]);
    assert.deepEqual(await within(dealer.receive()), [Buffer.from("yo")]);
  } finally {
    stream.destroy();
    dealer.close();
    l.close();
  }
});

test("PLAIN: our server's ZAP 400 (libzmq's ERROR form) reaches libzmq as an auth failure with status 400", { skip, timeout: 20000 }, async () => {
  const l = await listen();
  const dealer = new zmq.Dealer({ plainUsername: "bob", plainPassword: "bad" });
  const events = dealer.events;
  dealer.connect(`tcp://127.0.0.1:${l.port}`);
  const stream = await within(l.accepted);
  const mech = new PlainServerMechanism(routerOpts, async () => ({ status: "400", statusText: "No", userId: "", metadata: new Map() }));
  const side = new Side(stream, mech);
  try {
    const event = await authEvent(events);
    assert.equal(event.type, "handshake:error:auth");
    assert.equal(event.error?.status, 400);
    assert.equal(mech.zapStatus, 400);
    void side;
  } finally {
    stream.destroy();
    dealer.close();
    l.close();
  }
});
