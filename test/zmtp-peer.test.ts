/**
 * Our sockets against a hand-driven peer on a raw TCP connection: the cases a real
 * libzmq peer cannot produce on demand (ZMTP 3.0 and 1.0 greetings, PING contexts,
 * silence, oversized frames). Each names the RFC 37 clause it checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket as NetSocket } from "node:net";
import * as zmq from "../src/index.js";
import { encodeGreeting } from "../src/wire/greeting.js";
import { encodeCommandFrame, encodeMetadata, encodePing } from "../src/wire/commands.js";
import { encodeFrame } from "../src/wire/frame-encoder.js";
import { FrameDecoder, FLAG_MORE } from "../src/wire/frame-decoder.js";
import { within } from "./helpers/util.js";

const T = 5000;

/** A raw peer: collects decoded frames and commands after the 64-byte greeting. */
class RawPeer {
  readonly frames: Buffer[] = [];
  readonly commands: Buffer[] = [];
  private buf = Buffer.alloc(0);
  private decoder = new FrameDecoder({
    onFrame: (b) => this.frames.push(Buffer.from(b)),
    onCommand: (b) => this.commands.push(Buffer.from(b)),
  });
  closed: Promise<void>;
  private waiters: (() => void)[] = [];
  constructor(readonly sock: NetSocket) {
    sock.on("data", (chunk: Buffer) => {
      if (this.buf.length < 64) {
        this.buf = Buffer.concat([this.buf, chunk]);
        if (this.buf.length < 64) return;
        chunk = this.buf.subarray(64);
      }
      this.decoder.push(chunk);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((r) => sock.on("close", () => r()));
    sock.on("error", () => {});
  }
  static async open(address: string): Promise<RawPeer> {
    const url = new URL(address.replace("tcp://", "http://"));
    const sock = connect({ host: url.hostname, port: Number(url.port) });
    await within(new Promise((r) => sock.once("connect", r)), T, "raw connect");
    return new RawPeer(sock);
  }
  /** Waits until `pred` holds over what has arrived. */
  async until(pred: () => boolean, what: string): Promise<void> {
    await within((async () => {
      while (!pred()) await new Promise<void>((r) => this.waiters.push(r));
    })(), T, what);
  }
  commandNames(): string[] {
    return this.commands.map((c) => c.subarray(1, 1 + c[0]!).toString("latin1"));
  }
  greetAndReady(type: string, minor = 1): void {
    this.sock.write(encodeGreeting("NULL", false, minor));
    this.sock.write(encodeCommandFrame("READY", encodeMetadata([["Socket-Type", Buffer.from(type)]])));
  }
}

test("RFC 37 / 3.0 compatibility: a ZMTP 3.0 SUB subscribes with a 0x01 message and gets the publication", async () => {
  const pub = new zmq.Publisher();
  try {
    await pub.bind("tcp://127.0.0.1:*");
    const peer = await RawPeer.open(pub.lastEndpoint!);
    peer.greetAndReady("SUB", 0);
    peer.sock.write(encodeFrame(Buffer.from("\x01news"), 0));
    await peer.until(() => peer.commandNames().includes("READY"), "READY from PUB");
    const t = setInterval(() => void pub.send(["news", "today"]), 5);
    await peer.until(() => peer.frames.length >= 2, "publication");
    clearInterval(t);
    assert.deepEqual(peer.frames.slice(0, 2).map(String), ["news", "today"]);
    peer.sock.destroy();
  } finally {
    pub.close();
  }
});

test("RFC 37: to a 3.1 peer a SUB sends SUBSCRIBE/CANCEL commands; to a 3.0 peer 0x01/0x00 messages", async () => {
  for (const minor of [1, 0]) {
    const sub = new zmq.Subscriber();
    const server = (await import("node:net")).createServer();
    try {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as { port: number }).port;
      const accepted = new Promise<NetSocket>((r) => server.once("connection", r));
      sub.connect(`tcp://127.0.0.1:${port}`);
      const peer = new RawPeer(await within(accepted, T, "accept"));
      peer.greetAndReady("PUB", minor);
      sub.subscribe("abc");
      sub.unsubscribe("abc");
      if (minor === 1) {
        await peer.until(() => peer.commandNames().filter((n) => n !== "READY").length >= 2, "commands");
        assert.deepEqual(peer.commandNames().filter((n) => n !== "READY"), ["SUBSCRIBE", "CANCEL"]);
      } else {
        await peer.until(() => peer.frames.length >= 2, "subscription messages");
        assert.deepEqual(peer.frames.map((f) => f.toString("latin1")), ["\x01abc", "\x00abc"]);
      }
      peer.sock.destroy();
    } finally {
      sub.close();
      server.close();
    }
  }
});

test("RFC 37 / security: a ZMTP 1.0 peer is refused with an event and its message never delivered", async () => {
  const pull = new zmq.Pull();
  try {
    await pull.bind("tcp://127.0.0.1:*");
    const event = new Promise<{ error: Error & { code: string } }>((r) => pull.events.on("handshake:error:protocol", r as never));
    const peer = await RawPeer.open(pull.lastEndpoint!);
    // ZMTP 1.0: a length-prefixed anonymous identity, then a frame "sneaky".
    peer.sock.write(Buffer.from([0x01, 0x00, 0x07, 0x00, ...Buffer.from("sneaky")]));
    const ev = await within(event, T, "protocol error event");
    assert.equal(ev.error.code, "ERR_ZMTP_BAD_GREETING");
    await within(peer.closed, T, "connection closed");
    pull.receiveTimeout = 50;
    await assert.rejects(pull.receive(), { code: "EAGAIN" });
  } finally {
    pull.close();
  }
});

test("RFC 37 heartbeats: a PING is answered with a PONG echoing its context", async () => {
  const rep = new zmq.Reply();
  try {
    await rep.bind("tcp://127.0.0.1:*");
    const peer = await RawPeer.open(rep.lastEndpoint!);
    peer.greetAndReady("REQ");
    peer.sock.write(encodePing(0, Buffer.from("ctx-1")));
    await peer.until(() => peer.commandNames().includes("PONG"), "PONG");
    const pong = peer.commands.find((c) => c.subarray(1, 5).toString() === "PONG")!;
    assert.equal(pong.subarray(5).toString(), "ctx-1");
    peer.sock.destroy();
  } finally {
    rep.close();
  }
});

test("RFC 37 heartbeats: a peer that stops answering PINGs is disconnected after heartbeatTimeout", async () => {
  const dealer = new zmq.Dealer({ heartbeatInterval: 50, heartbeatTimeout: 150 });
  try {
    await dealer.bind("tcp://127.0.0.1:*");
    const disconnected = new Promise((r) => dealer.events.on("disconnect", r));
    const peer = await RawPeer.open(dealer.lastEndpoint!);
    peer.greetAndReady("DEALER");
    await peer.until(() => peer.commandNames().includes("PING"), "a PING");
    await within(disconnected, T, "disconnect for silence");
    await within(peer.closed, T, "closed");
  } finally {
    dealer.close();
  }
});

test("maxMessageSize: a frame over the limit costs its sender the connection, nobody else", async () => {
  const pull = new zmq.Pull({ maxMessageSize: 1024 });
  const good = new zmq.Push();
  try {
    await pull.bind("tcp://127.0.0.1:*");
    const peer = await RawPeer.open(pull.lastEndpoint!);
    peer.greetAndReady("PUSH");
    // Announce 2^63-1 bytes: refused after the 9-byte header, nothing allocated.
    peer.sock.write(Buffer.from([0x02, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await within(peer.closed, T, "oversized sender closed");
    good.connect(pull.lastEndpoint!);
    await good.send(["fine", Buffer.alloc(100)]);
    const msg = await within(pull.receive(), T, "good message");
    assert.equal(msg[0]!.toString(), "fine");
  } finally {
    pull.close();
    good.close();
  }
});

test("handshakeInterval: a peer that never greets is closed", async () => {
  const pull = new zmq.Pull({ handshakeInterval: 100 });
  try {
    await pull.bind("tcp://127.0.0.1:*");
    const peer = await RawPeer.open(pull.lastEndpoint!);
    await within(peer.closed, T, "stalled handshake closed");
  } finally {
    pull.close();
  }
});

test("a multipart message is delivered whole or not at all when the sender dies mid-message", async () => {
  const pull = new zmq.Pull();
  try {
    await pull.bind("tcp://127.0.0.1:*");
    const peer = await RawPeer.open(pull.lastEndpoint!);
    peer.greetAndReady("PUSH");
    peer.sock.write(encodeFrame(Buffer.from("whole"), 0));
    peer.sock.write(encodeFrame(Buffer.from("part-1"), FLAG_MORE));
    peer.sock.end();
    assert.deepEqual((await within(pull.receive(), T, "whole message")).map(String), ["whole"]);
    pull.receiveTimeout = 100;
    await assert.rejects(pull.receive(), { code: "EAGAIN" });
  } finally {
    pull.close();
  }
});
