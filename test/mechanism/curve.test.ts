import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CurveClientMechanism, CurveServerMechanism } from "../../src/mechanism/curve.js";
import type { ZapReply, ZapRequest } from "../../src/mechanism/plain.js";
import { box, boxAfternm, boxBeforenm, boxKeyPair, boxOpen, boxOpenAfternm } from "../../src/crypto/box.js";
import { curveKeyPair } from "../../src/crypto/keys.js";
import { z85Decode } from "../../src/crypto/z85.js";
import { encodeCommandFrame, encodeError, encodeMetadata, getProperty, parseCommand, parseMetadata } from "../../src/wire/commands.js";
import { FLAG_COMMAND, FLAG_MORE } from "../../src/wire/frame-decoder.js";
import { isZmqError } from "../../src/errors.js";
import { assertWire, commandOf, dealer, deferred, drain, pump, router, splitFrame, tick } from "./helpers.js";

const ascii = (s: string) => Buffer.from(s, "latin1");
const serverKeys = curveKeyPair();
const clientKeys = curveKeyPair();

function newClient(serverKey: string | Buffer = serverKeys.publicKey, opts = dealer): CurveClientMechanism {
  return new CurveClientMechanism(opts, { ...clientKeys, serverKey });
}

function newServer(zap?: (r: ZapRequest) => Promise<ZapReply | null>, opts = router): CurveServerMechanism {
  return new CurveServerMechanism(opts, { secretKey: serverKeys.secretKey }, zap);
}

function connected(): { client: CurveClientMechanism; server: CurveServerMechanism } {
  const client = newClient();
  const server = newServer();
  pump(client, server);
  assert.equal(client.status, "ready");
  assert.equal(server.status, "ready");
  return { client, server };
}

/** Runs the handshake up to the client's INITIATE and returns it (not yet given to the server). */
function upToInitiate(): { client: CurveClientMechanism; server: CurveServerMechanism; initiate: Buffer } {
  const client = newClient();
  const server = newServer();
  server.processCommand(commandOf(client.nextCommand()!));
  client.processCommand(commandOf(server.nextCommand()!));
  return { client, server, initiate: client.nextCommand()! };
}

test("CURVE handshake: HELLO 200 bytes, WELCOME 168, INITIATE, READY; metadata and keys known", () => {
  const client = newClient(serverKeys.publicKey, { ...dealer, routingId: ascii("id-1") });
  const server = newServer();
  assert.equal(client.name, "CURVE");
  assert.equal(server.name, "CURVE");
  assert.equal(client.asServer, false);
  assert.equal(server.asServer, true);
  const log = pump(client, server);
  assert.deepEqual(
    log.map((l) => `${l.from}:${commandOf(l.frame).name}`),
    ["client:HELLO", "server:WELCOME", "client:INITIATE", "server:READY"],
  );
  const bodies = log.map((l) => splitFrame(l.frame).body);
  assert.equal(bodies[0]!.length, 200);
  assert.equal(bodies[1]!.length, 168);
  assert.ok(bodies[2]!.length >= 257);
  assert.ok(bodies[3]!.length >= 30);
  assert.equal(client.status, "ready");
  assert.equal(server.status, "ready");
  assert.equal(getProperty(client.peerMetadata, "Socket-Type")!.toString(), "ROUTER");
  assert.equal(getProperty(server.peerMetadata, "Socket-Type")!.toString(), "DEALER");
  assert.equal(getProperty(server.peerMetadata, "Identity")!.toString(), "id-1");
  assert.deepEqual(server.clientKey, z85Decode(clientKeys.publicKey));
  assert.equal(drain(client).length + drain(server).length, 0);
});

test("golden layout: HELLO fields at libzmq's offsets, nonces 1 (HELLO) and 2 (INITIATE), READY nonce 1", () => {
  const client = newClient();
  const server = newServer();
  const hello = splitFrame(client.nextCommand()!).body;
  assert.deepEqual(hello.subarray(0, 6), ascii("\x05HELLO"));
  assert.deepEqual(hello.subarray(6, 8), Buffer.from([1, 0]), "version 1.0");
  assert.deepEqual(hello.subarray(8, 80), Buffer.alloc(72), "72 bytes of anti-amplification padding");
  assert.equal(hello.readBigUInt64BE(112), 1n, "HELLO short nonce");
  // The signature box opens with C' (from the HELLO) and the server's secret key.
  const cn = hello.subarray(80, 112);
  const nonce = Buffer.concat([ascii("CurveZMQHELLO---"), hello.subarray(112, 120)]);
  assert.deepEqual(boxOpen(hello.subarray(120, 200), nonce, cn, z85Decode(serverKeys.secretKey)), Buffer.alloc(64));
  server.processCommand(parseCommand(hello));
  const welcome = splitFrame(server.nextCommand()!).body;
  assert.deepEqual(welcome.subarray(0, 8), ascii("\x07WELCOME"));
  client.processCommand(parseCommand(welcome));
  const initiate = splitFrame(client.nextCommand()!).body;
  assert.deepEqual(initiate.subarray(0, 9), ascii("\x08INITIATE"));
  assert.equal(initiate.readBigUInt64BE(105), 2n, "INITIATE short nonce");
  server.processCommand(parseCommand(initiate));
  const ready = splitFrame(server.nextCommand()!).body;
  assert.deepEqual(ready.subarray(0, 6), ascii("\x05READY"));
  assert.equal(ready.readBigUInt64BE(6), 1n, "READY short nonce");
});

test("MESSAGE round trips both ways: empty, small, 64 KiB+, MORE and COMMAND flags", () => {
  const { client, server } = connected();
  const bodies = [Buffer.alloc(0), ascii("hello"), randomBytes(255), randomBytes(70_000)];
  for (const [from, to] of [
    [client, server],
    [server, client],
  ] as const) {
    for (const body of bodies) {
      for (const flags of [0, FLAG_MORE, FLAG_COMMAND]) {
        const frame = from.encodeFrame(flags, body);
        const { flags: wireFlags, body: msg } = splitFrame(frame);
        assert.equal(wireFlags & ~0x02, 0, "MESSAGE goes out as a final data frame (flags 0), as libzmq sends it");
        assert.deepEqual(msg.subarray(0, 8), ascii("\x07MESSAGE"));
        assert.equal(msg.length, 8 + 8 + 16 + 1 + body.length);
        const out = to.decodeMessage(msg);
        assert.deepEqual(out.body, body);
        assert.equal(out.more, flags === FLAG_MORE);
        assert.equal(out.command, flags === FLAG_COMMAND);
      }
    }
  }
});

test("MESSAGE nonces: the client's first is 3, the server's first is 2; prefixes C and S", () => {
  const { client, server } = connected();
  const c = splitFrame(client.encodeFrame(0, ascii("x"))).body;
  const s = splitFrame(server.encodeFrame(0, ascii("y"))).body;
  assert.equal(c.readBigUInt64BE(8), 3n);
  assert.equal(s.readBigUInt64BE(8), 2n);
  assert.equal(splitFrame(client.encodeFrame(0, ascii("x"))).body.readBigUInt64BE(8), 4n);
  // A client box opens under "CurveZMQMESSAGEC" and our flags byte comes first.
  const { server: s2, client: c2 } = connected();
  const frame = splitFrame(c2.encodeFrame(FLAG_MORE | FLAG_COMMAND, ascii("\x04PING\x00\x00"))).body;
  const decoded = s2.decodeMessage(frame);
  assert.deepEqual(decoded, { more: true, command: true, body: ascii("\x04PING\x00\x00") });
});

test("the inner flags byte is libzmq's: MORE 0x01, COMMAND 0x02", () => {
  // Build a MESSAGE by hand with a manual client (see below) and check the server's reading of bit 0x02.
  const m = manualHandshake();
  for (const [inner, more, command] of [
    [0x00, false, false],
    [0x01, true, false],
    [0x02, false, true],
    [0x03, true, true],
  ] as const) {
    const n = m.nextNonce();
    const nonce = Buffer.concat([ascii("CurveZMQMESSAGEC"), u64(n)]);
    const sealed = boxAfternm(Buffer.concat([Buffer.from([inner]), ascii("abc")]), nonce, m.key);
    const out = m.server.decodeMessage(Buffer.concat([ascii("\x07MESSAGE"), u64(n), sealed]));
    assert.deepEqual(out, { more, command, body: ascii("abc") });
  }
  // And the server's own MESSAGE opens under "CurveZMQMESSAGES" with flags 0x03.
  const frame = splitFrame(m.server.encodeFrame(FLAG_MORE | FLAG_COMMAND, ascii("zz"))).body;
  const plain = boxOpenAfternm(frame.subarray(16), Buffer.concat([ascii("CurveZMQMESSAGES"), frame.subarray(8, 16)]), m.key);
  assert.deepEqual(plain, Buffer.concat([Buffer.from([0x03]), ascii("zz")]));
});

test("a replayed or decreasing MESSAGE nonce is INVALID_SEQUENCE", () => {
  const { client, server } = connected();
  const first = splitFrame(client.encodeFrame(0, ascii("one"))).body;
  const second = splitFrame(client.encodeFrame(0, ascii("two"))).body;
  server.decodeMessage(first);
  assertWire(() => server.decodeMessage(first), "ERR_ZMTP_INVALID_SEQUENCE");
  server.decodeMessage(second);
  assertWire(() => server.decodeMessage(first), "ERR_ZMTP_INVALID_SEQUENCE");
  assertWire(() => server.decodeMessage(second), "ERR_ZMTP_INVALID_SEQUENCE");
  // Skipping ahead is fine (only "greater than the last" is required).
  client.encodeFrame(0, ascii("lost"));
  assert.deepEqual(server.decodeMessage(splitFrame(client.encodeFrame(0, ascii("four"))).body).body, ascii("four"));
  // The first MESSAGE may not reuse the INITIATE's nonce (2).
  const m = manualHandshake();
  const sealed = boxAfternm(Buffer.from([0]), Buffer.concat([ascii("CurveZMQMESSAGEC"), u64(2n)]), m.key);
  assertWire(() => m.server.decodeMessage(Buffer.concat([ascii("\x07MESSAGE"), u64(2n), sealed])), "ERR_ZMTP_INVALID_SEQUENCE");
});

test("a tampered MESSAGE box (or nonce) is CRYPTOGRAPHIC and does not advance the nonce", () => {
  const { client, server } = connected();
  const good = splitFrame(client.encodeFrame(0, ascii("payload"))).body;
  for (const at of [16, 20, 31, 32, good.length - 1]) {
    const bad = Buffer.from(good);
    bad[at] ^= 0x80;
    assertWire(() => server.decodeMessage(bad), "ERR_ZMTP_CRYPTOGRAPHIC");
  }
  const badNonce = Buffer.from(good);
  badNonce[15] ^= 0x10; // a larger nonce the sender never used
  assertWire(() => server.decodeMessage(badNonce), "ERR_ZMTP_CRYPTOGRAPHIC");
  assert.deepEqual(server.decodeMessage(good).body, ascii("payload"));
  // The server cannot open the client's box in its own direction either.
  server.encodeFrame(0, ascii("x")); // nonce 2, not above the client's last (3)
  server.encodeFrame(0, ascii("x"));
  server.encodeFrame(0, ascii("x"));
  const own = splitFrame(server.encodeFrame(0, ascii("x"))).body; // nonce 5
  assertWire(() => server.decodeMessage(own), "ERR_ZMTP_CRYPTOGRAPHIC");
});

test("MESSAGE shape checks: not a MESSAGE is UNEXPECTED_COMMAND, under 33 bytes is MALFORMED_COMMAND_MESSAGE", () => {
  const { server } = connected();
  assertWire(() => server.decodeMessage(ascii("\x04PING\x00\x00")), "ERR_ZMTP_UNEXPECTED_COMMAND");
  assertWire(() => server.decodeMessage(Buffer.alloc(0)), "ERR_ZMTP_UNEXPECTED_COMMAND");
  assertWire(() => server.decodeMessage(Buffer.concat([ascii("\x07MESSAGE"), Buffer.alloc(24)])), "ERR_ZMTP_MALFORMED_COMMAND_MESSAGE");
});

test("encodeFrame/decodeMessage before the handshake completes are refused", () => {
  const client = newClient();
  assert.throws(() => client.encodeFrame(0, ascii("x")), /before the handshake/);
  assertWire(() => client.decodeMessage(ascii("\x07MESSAGE")), "ERR_ZMTP_UNEXPECTED_COMMAND");
  const server = newServer();
  assert.throws(() => server.encodeFrame(0, ascii("x")), /before the handshake/);
});

test("HELLO of the wrong length or version is MALFORMED_COMMAND_HELLO", () => {
  const hello = splitFrame(newClient().nextCommand()!).body;
  for (const body of [hello.subarray(0, 199), Buffer.concat([hello, Buffer.alloc(1)]), hello.subarray(0, 6)]) {
    assertWire(() => newServer().processCommand(parseCommand(body)), "ERR_ZMTP_MALFORMED_COMMAND_HELLO");
  }
  for (const [major, minor] of [
    [1, 1],
    [2, 0],
    [0, 0],
  ]) {
    const bad = Buffer.from(hello);
    bad[6] = major!;
    bad[7] = minor!;
    assertWire(() => newServer().processCommand(parseCommand(bad)), "ERR_ZMTP_MALFORMED_COMMAND_HELLO");
  }
});

test("a client with the wrong server key is rejected at HELLO (CRYPTOGRAPHIC)", () => {
  const client = newClient(curveKeyPair().publicKey);
  const server = newServer();
  assertWire(() => pump(client, server), "ERR_ZMTP_CRYPTOGRAPHIC");
  assert.equal(server.status, "handshaking");
  // A tampered signature box too.
  const hello = Buffer.from(splitFrame(newClient().nextCommand()!).body);
  hello[150] ^= 1;
  assertWire(() => newServer().processCommand(parseCommand(hello)), "ERR_ZMTP_CRYPTOGRAPHIC");
});

test("a low-order server key cannot even make a HELLO (CRYPTOGRAPHIC)", () => {
  assertWire(() => newClient(Buffer.alloc(32)).nextCommand(), "ERR_ZMTP_CRYPTOGRAPHIC");
});

test("client: a WELCOME that is tampered, from another server, or of the wrong size is CRYPTOGRAPHIC", () => {
  const mk = () => {
    const client = newClient();
    const server = newServer();
    server.processCommand(commandOf(client.nextCommand()!));
    return { client, welcome: splitFrame(server.nextCommand()!).body };
  };
  const a = mk();
  const bad = Buffer.from(a.welcome);
  bad[100] ^= 1;
  assertWire(() => a.client.processCommand(parseCommand(bad)), "ERR_ZMTP_CRYPTOGRAPHIC");
  const b = mk();
  assertWire(() => b.client.processCommand(parseCommand(b.welcome.subarray(0, 167))), "ERR_ZMTP_CRYPTOGRAPHIC");
  // A WELCOME made for another client's C' does not open.
  const c = mk();
  const d = mk();
  assertWire(() => c.client.processCommand(parseCommand(d.welcome)), "ERR_ZMTP_CRYPTOGRAPHIC");
});

test("server: INITIATE too short is MALFORMED_COMMAND_INITIATE; tampered cookie, box or foreign cookie is CRYPTOGRAPHIC", () => {
  const a = upToInitiate();
  const body = splitFrame(a.initiate).body;
  assertWire(() => a.server.processCommand(parseCommand(body.subarray(0, 256))), "ERR_ZMTP_MALFORMED_COMMAND_INITIATE");
  for (const at of [9, 30, 104, 113, 150, body.length - 1]) {
    const b = upToInitiate();
    const bad = Buffer.from(splitFrame(b.initiate).body);
    bad[at] ^= 1;
    assertWire(() => b.server.processCommand(parseCommand(bad)), "ERR_ZMTP_CRYPTOGRAPHIC");
  }
  // An INITIATE (cookie) from another connection to the same server key.
  const c = upToInitiate();
  const d = upToInitiate();
  assertWire(() => c.server.processCommand(commandOf(d.initiate)), "ERR_ZMTP_CRYPTOGRAPHIC");
});

test("client: READY too short is MALFORMED_COMMAND_READY, tampered is CRYPTOGRAPHIC", () => {
  const mk = () => {
    const { client, server, initiate } = upToInitiate();
    server.processCommand(commandOf(initiate));
    return { client, ready: splitFrame(server.nextCommand()!).body };
  };
  const a = mk();
  assertWire(() => a.client.processCommand(parseCommand(a.ready.subarray(0, 29))), "ERR_ZMTP_MALFORMED_COMMAND_READY");
  const b = mk();
  const bad = Buffer.from(b.ready);
  bad[bad.length - 1] ^= 1;
  assertWire(() => b.client.processCommand(parseCommand(bad)), "ERR_ZMTP_CRYPTOGRAPHIC");
});

test("commands out of order are UNEXPECTED_COMMAND on either side", () => {
  assertWire(() => newServer().processCommand({ name: "INITIATE", data: Buffer.alloc(300) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  assertWire(() => newServer().processCommand({ name: "ERROR", data: Buffer.from([0]) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  const s = newServer();
  s.processCommand(commandOf(newClient().nextCommand()!));
  drain(s);
  assertWire(() => s.processCommand(commandOf(newClient().nextCommand()!)), "ERR_ZMTP_UNEXPECTED_COMMAND");
  const c = newClient();
  c.nextCommand();
  assertWire(() => c.processCommand({ name: "READY", data: Buffer.alloc(40) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  assertWire(() => c.processCommand({ name: "MESSAGE", data: Buffer.alloc(40) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  assertWire(() => newClient().processCommand({ name: "ERROR", data: Buffer.from([0]) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
});

test("incompatible socket types fail with INVALID_METADATA", () => {
  const client = newClient(serverKeys.publicKey, { ...dealer, socketType: "SUB" });
  const server = newServer(undefined, { ...router, socketType: "PUSH" });
  assertWire(() => pump(client, server), "ERR_ZMTP_INVALID_METADATA");
});

test("keys: Z85 strings or 32-byte buffers; a bad key is EINVAL; the server's public key is derived", () => {
  const raw = new CurveClientMechanism(dealer, {
    publicKey: z85Decode(clientKeys.publicKey),
    secretKey: z85Decode(clientKeys.secretKey),
    serverKey: z85Decode(serverKeys.publicKey),
  });
  const server = new CurveServerMechanism(router, { publicKey: "ignored-ignored-ignored-ignored-ignored!", secretKey: z85Decode(serverKeys.secretKey) });
  pump(raw, server);
  assert.equal(server.status, "ready");
  assert.throws(() => new CurveClientMechanism(dealer, { ...clientKeys, serverKey: "short" }), (e: unknown) => isZmqError(e, "EINVAL"));
  assert.throws(() => new CurveServerMechanism(router, { secretKey: Buffer.alloc(31) }), (e: unknown) => isZmqError(e, "EINVAL"));
});

test("a client whose public key does not match its secret key fails at the vouch (CRYPTOGRAPHIC)", () => {
  const client = new CurveClientMechanism(dealer, { publicKey: curveKeyPair().publicKey, secretKey: clientKeys.secretKey, serverKey: serverKeys.publicKey });
  assertWire(() => pump(client, newServer()), "ERR_ZMTP_CRYPTOGRAPHIC");
});

// ---------------------------------------------------------------------------
// A client written from RFC 26 with the raw box primitives, independent of CurveClientMechanism:
// checks our server against the documented layout, and makes INITIATEs our client never would.

const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};

function manualHandshake(vouchOverride?: (cn: Buffer, s: Buffer) => Buffer) {
  const S = z85Decode(serverKeys.publicKey);
  const C = z85Decode(clientKeys.publicKey);
  const c = z85Decode(clientKeys.secretKey);
  const eph = boxKeyPair();
  const server = newServer();
  const hello = Buffer.concat([
    ascii("\x05HELLO"),
    Buffer.from([1, 0]),
    Buffer.alloc(72),
    eph.publicKey,
    u64(1n),
    box(Buffer.alloc(64), Buffer.concat([ascii("CurveZMQHELLO---"), u64(1n)]), S, eph.secretKey)!,
  ]);
  assert.equal(hello.length, 200);
  server.processCommand(parseCommand(hello));
  const welcome = splitFrame(server.nextCommand()!).body;
  const w = boxOpen(welcome.subarray(24), Buffer.concat([ascii("WELCOME-"), welcome.subarray(8, 24)]), S, eph.secretKey)!;
  assert.equal(w.length, 128);
  const Sprime = w.subarray(0, 32);
  const cookie = w.subarray(32, 128);
  const key = boxBeforenm(Sprime, eph.secretKey)!;
  const vouchNonce = randomBytes(16);
  const vouchPlain = vouchOverride ? vouchOverride(eph.publicKey, S) : Buffer.concat([eph.publicKey, S]);
  const vouch = box(vouchPlain, Buffer.concat([ascii("VOUCH---"), vouchNonce]), Sprime, c)!;
  const metadata = encodeMetadata([["Socket-Type", ascii("DEALER")]]);
  const sealed = boxAfternm(Buffer.concat([C, vouchNonce, vouch, metadata]), Buffer.concat([ascii("CurveZMQINITIATE"), u64(2n)]), key);
  server.processCommand(parseCommand(Buffer.concat([ascii("\x08INITIATE"), cookie, u64(2n), sealed])));
  const ready = splitFrame(server.nextCommand()!).body;
  const props = parseMetadata(boxOpenAfternm(ready.subarray(14), Buffer.concat([ascii("CurveZMQREADY---"), ready.subarray(6, 14)]), key)!);
  assert.equal(props.get("Socket-Type")!.toString(), "ROUTER");
  let nonce = 2n;
  return { server, key, nextNonce: () => ++nonce };
}

test("a hand-built RFC 26 client completes the handshake with our server", () => {
  const m = manualHandshake();
  assert.equal(m.server.status, "ready");
  assert.equal(getProperty(m.server.peerMetadata, "Socket-Type")!.toString(), "DEALER");
});

test("a vouch naming another C' or another server key is KEY_EXCHANGE", () => {
  assertWire(() => manualHandshake((_cn, s) => Buffer.concat([randomBytes(32), s])), "ERR_ZMTP_KEY_EXCHANGE");
  assertWire(() => manualHandshake((cn) => Buffer.concat([cn, randomBytes(32)])), "ERR_ZMTP_KEY_EXCHANGE");
});

// ---------------------------------------------------------------------------
// ZAP

test("ZAP 200: asked with mechanism CURVE and the client's public key; READY waits; User-Id merged", async () => {
  const requests: ZapRequest[] = [];
  const answer = deferred<ZapReply | null>();
  const server = newServer((req) => {
    requests.push(req);
    return answer.promise;
  });
  let readyCalls = 0;
  server.onReady = () => readyCalls++;
  const client = newClient();
  pump(client, server);
  assert.deepEqual(requests, [{ mechanism: "CURVE", credentials: [z85Decode(clientKeys.publicKey)] }]);
  assert.equal(server.status, "handshaking");
  assert.equal(client.status, "handshaking");
  assert.equal(server.nextCommand(), null);
  answer.resolve({ status: "200", statusText: "OK", userId: "alice", metadata: new Map([["Role", ascii("admin")]]) });
  await tick();
  assert.equal(readyCalls, 1);
  pump(client, server);
  assert.equal(server.status, "ready");
  assert.equal(client.status, "ready");
  assert.equal(server.userId, "alice");
  assert.equal(server.peerMetadata.get("User-Id")!.toString(), "alice");
  assert.equal(server.peerMetadata.get("Role")!.toString(), "admin");
  assert.equal(getProperty(server.peerMetadata, "Socket-Type")!.toString(), "DEALER");
  const out = client.decodeMessage(splitFrame(server.encodeFrame(0, ascii("hi"))).body);
  assert.deepEqual(out.body, ascii("hi"));
});

test("ZAP 400: ERROR '400' (plain, not boxed), status error, zapStatus; the client reports 400", async () => {
  const server = newServer(async () => ({ status: "400", statusText: "Unknown key", userId: "", metadata: new Map() }));
  let readyCalls = 0;
  server.onReady = () => readyCalls++;
  const client = newClient();
  pump(client, server);
  await tick();
  assert.equal(readyCalls, 1);
  assert.equal(server.status, "error");
  assert.equal(server.zapStatus, 400);
  assert.equal(server.zapStatusText, "Unknown key");
  const frames = drain(server);
  assert.deepEqual(frames, [encodeError("400")]);
  client.processCommand(commandOf(frames[0]!));
  assert.equal(client.status, "error");
  assert.equal(client.peerError, "400");
  assert.equal(client.zapStatus, 400);
  assert.throws(() => server.encodeFrame(0, ascii("x")), /before the handshake/);
});

test("ZAP 300: silent refusal (no ERROR)", async () => {
  const server = newServer(async () => ({ status: "300", statusText: "Try later", userId: "", metadata: new Map() }));
  pump(newClient(), server);
  await tick();
  assert.equal(server.status, "error");
  assert.equal(server.zapStatus, 300);
  assert.deepEqual(drain(server), []);
});

test("no ZAP handler (or a null answer): the Stonehouse pattern, everyone with the server key gets in", async () => {
  const server = newServer(async () => null);
  const client = newClient();
  pump(client, server);
  await tick();
  pump(client, server);
  assert.equal(server.status, "ready");
  assert.equal(client.status, "ready");
  assert.equal(server.userId, null);
});

test("the ERROR command a client gets during the handshake is not mistaken for a MESSAGE", () => {
  const client = newClient();
  client.nextCommand();
  client.processCommand(commandOf(encodeCommandFrame("ERROR", Buffer.concat([Buffer.from([3]), ascii("500")]))));
  assert.equal(client.status, "error");
  assert.equal(client.zapStatus, 500);
});
