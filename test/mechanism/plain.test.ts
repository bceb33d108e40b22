import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PlainClientMechanism,
  PlainServerMechanism,
  encodeLibzmqPlainError,
  parseHandshakeCommand,
  type ZapReply,
  type ZapRequest,
} from "../../src/mechanism/plain.js";
import { encodeCommandFrame, encodeError, encodeMetadata, getProperty, parseCommand } from "../../src/wire/commands.js";
import { isZmqError } from "../../src/errors.js";
import { assertWire, commandOf, dealer, deferred, drain, pump, router, splitFrame, tick } from "./helpers.js";

const ascii = (s: string) => Buffer.from(s, "latin1");
const ok = (extra: Partial<ZapReply> = {}): ZapReply => ({ status: "200", statusText: "OK", userId: "admin", metadata: new Map(), ...extra });

test("PLAIN without ZAP: HELLO, WELCOME, INITIATE, READY; both sides ready with the peer's metadata", () => {
  const client = new PlainClientMechanism({ ...dealer, routingId: Buffer.from("me") }, "admin", "password");
  const server = new PlainServerMechanism(router);
  assert.equal(client.name, "PLAIN");
  assert.equal(server.name, "PLAIN");
  assert.equal(client.asServer, false);
  assert.equal(server.asServer, true);
  assert.equal(drain(server).length, 0, "the server speaks only after HELLO");
  const log = pump(client, server);
  assert.deepEqual(
    log.map((l) => `${l.from}:${commandOf(l.frame).name}`),
    ["client:HELLO", "server:WELCOME", "client:INITIATE", "server:READY"],
  );
  assert.equal(client.status, "ready");
  assert.equal(server.status, "ready");
  assert.equal(getProperty(client.peerMetadata, "Socket-Type")!.toString(), "ROUTER");
  assert.equal(getProperty(server.peerMetadata, "Socket-Type")!.toString(), "DEALER");
  assert.equal(getProperty(server.peerMetadata, "Identity")!.toString(), "me");
  assert.equal(getProperty(server.peerMetadata, "User-Id"), undefined, "no ZAP, no User-Id");
  assert.deepEqual(server.username, ascii("admin"));
  assert.deepEqual(server.password, ascii("password"));
  assert.equal(server.userId, null);
  assert.equal(drain(client).length + drain(server).length, 0);
});

test("golden bytes: HELLO and WELCOME as libzmq writes them", () => {
  const client = new PlainClientMechanism(dealer, "admin", "secret");
  const hello = client.nextCommand()!;
  assert.deepEqual(hello, Buffer.concat([Buffer.from([0x04, 6 + 1 + 5 + 1 + 6]), ascii("\x05HELLO\x05admin\x06secret")]));
  const server = new PlainServerMechanism(router);
  server.processCommand(commandOf(hello));
  assert.deepEqual(server.nextCommand(), Buffer.concat([Buffer.from([0x04, 8]), ascii("\x07WELCOME")]));
  // Empty credentials are legal.
  const anon = new PlainClientMechanism(dealer, "", "");
  assert.deepEqual(anon.nextCommand(), Buffer.concat([Buffer.from([0x04, 8]), ascii("\x05HELLO\x00\x00")]));
});

test("credentials may be bytes; longer than 255 bytes is EINVAL", () => {
  const client = new PlainClientMechanism(dealer, Buffer.from([0xff, 0x00]), new Uint8Array([1]));
  const { body } = splitFrame(client.nextCommand()!);
  assert.deepEqual(body.subarray(6), Buffer.from([2, 0xff, 0x00, 1, 1]));
  assert.throws(() => new PlainClientMechanism(dealer, "u".repeat(256), ""), (e: unknown) => isZmqError(e, "EINVAL"));
  assert.throws(() => new PlainClientMechanism(dealer, "", "p".repeat(256)), (e: unknown) => isZmqError(e, "EINVAL"));
});

test("ZAP 200: WELCOME waits for the answer, onReady fires, User-Id and ZAP metadata reach peerMetadata", async () => {
  const requests: ZapRequest[] = [];
  const answer = deferred<ZapReply | null>();
  const server = new PlainServerMechanism(router, (req) => {
    requests.push(req);
    return answer.promise;
  });
  let readyCalls = 0;
  server.onReady = () => readyCalls++;
  const client = new PlainClientMechanism(dealer, "admin", "password");
  server.processCommand(commandOf(client.nextCommand()!));
  assert.deepEqual(requests, [{ mechanism: "PLAIN", credentials: [ascii("admin"), ascii("password")] }]);
  assert.equal(server.status, "handshaking");
  assert.equal(server.waitingForZap, true);
  assert.equal(server.nextCommand(), null, "no WELCOME before ZAP answers");
  await tick();
  assert.equal(server.nextCommand(), null);
  answer.resolve(ok({ metadata: new Map([["Hello", ascii("World")], ["User-Id", ascii("ignored")]]) }));
  await tick();
  assert.equal(readyCalls, 1);
  assert.equal(server.waitingForZap, false);
  pump(client, server);
  assert.equal(client.status, "ready");
  assert.equal(server.status, "ready");
  assert.equal(server.userId, "admin");
  assert.equal(server.zapStatus, null);
  assert.equal(server.peerMetadata.get("User-Id")!.toString(), "admin", "the reply's user id wins over a User-Id property");
  assert.equal(server.peerMetadata.get("Hello")!.toString(), "World");
  assert.equal(getProperty(server.peerMetadata, "Socket-Type")!.toString(), "DEALER");
});

const LIBZMQ_ERROR_400 = Buffer.from("04095e52524f5203343030", "hex"); // captured from libzmq 4.3.5's PLAIN server

test("libzmq's PLAIN ERROR form: 5E 'RROR' len reason, built and parsed", () => {
  assert.deepEqual(encodeLibzmqPlainError("400"), LIBZMQ_ERROR_400);
  assert.deepEqual(parseHandshakeCommand(LIBZMQ_ERROR_400.subarray(2)), { name: "ERROR", data: Buffer.from("\x03400", "latin1") });
  assert.throws(() => parseCommand(LIBZMQ_ERROR_400.subarray(2)), "plain parseCommand cannot read it");
  // Well-formed commands go through parseCommand unchanged.
  assert.deepEqual(parseHandshakeCommand(Buffer.from("\x05ERROR\x03400", "latin1")), { name: "ERROR", data: Buffer.from("\x03400", "latin1") });
  assert.deepEqual(parseHandshakeCommand(Buffer.from("\x05READY", "latin1")), { name: "READY", data: Buffer.alloc(0) });
  // A real 94-character command name starting with "RROR" is not mistaken for it.
  const longName = Buffer.concat([Buffer.from([0x5e]), Buffer.from("RROR" + "x".repeat(90), "latin1"), Buffer.from("data")]);
  assert.equal(parseHandshakeCommand(longName).name, "RROR" + "x".repeat(90));
});

test("ZAP 400: ERROR '400' to the client, server status error with zapStatus; the client sees the status too", async () => {
  const server = new PlainServerMechanism(router, async () => ({ status: "400", statusText: "Invalid password", userId: "", metadata: new Map() }));
  let readyCalls = 0;
  server.onReady = () => readyCalls++;
  const client = new PlainClientMechanism(dealer, "admin", "wrong");
  server.processCommand(commandOf(client.nextCommand()!));
  await tick();
  assert.equal(readyCalls, 1);
  assert.equal(server.status, "error");
  assert.equal(server.zapStatus, 400);
  assert.equal(server.zapStatusText, "Invalid password");
  assert.equal(server.failure, null);
  const frames = drain(server);
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0], LIBZMQ_ERROR_400, "libzmq sends the 3-digit status code as the reason, in its own ERROR form");
  client.processCommand(commandOf(frames[0]!));
  assert.equal(client.status, "error");
  assert.equal(client.peerError, "400");
  assert.equal(client.zapStatus, 400);
  assertWire(() => server.processCommand(commandOf(encodeCommandFrame("INITIATE"))), "ERR_ZMTP_UNEXPECTED_COMMAND");
});

test("ZAP 300 and 500: 300 closes silently (no ERROR), 500 sends ERROR '500'", async () => {
  for (const [status, frames] of [
    ["300", 0],
    ["500", 1],
  ] as const) {
    const server = new PlainServerMechanism(router, async () => ({ status, statusText: "nope", userId: "", metadata: new Map() }));
    server.processCommand(commandOf(new PlainClientMechanism(dealer, "a", "b").nextCommand()!));
    await tick();
    assert.equal(server.status, "error");
    assert.equal(server.zapStatus, Number(status));
    const out = drain(server);
    assert.equal(out.length, frames, status);
    if (frames) assert.deepEqual(out[0], encodeLibzmqPlainError(status));
  }
});

test("libzmqErrorForm = false sends a well-formed ERROR, which our client reads the same", async () => {
  const server = new PlainServerMechanism(router, async () => ({ status: "400", statusText: "no", userId: "", metadata: new Map() }));
  server.libzmqErrorForm = false;
  const client = new PlainClientMechanism(dealer, "a", "b");
  server.processCommand(commandOf(client.nextCommand()!));
  await tick();
  const [frame] = drain(server);
  assert.deepEqual(frame, encodeError("400"));
  client.processCommand(commandOf(frame!));
  assert.equal(client.zapStatus, 400);
});

test("ZAP handler answering null (no handler) accepts, like libzmq without ZAP_ENFORCE_DOMAIN", async () => {
  const server = new PlainServerMechanism(router, async () => null);
  const client = new PlainClientMechanism(dealer, "a", "b");
  server.processCommand(commandOf(client.nextCommand()!));
  await tick();
  pump(client, server);
  assert.equal(server.status, "ready");
  assert.equal(server.userId, null);
  assert.equal(server.peerMetadata.has("User-Id"), false);
});

test("invalid ZAP status code or a failing handler: status error with an ERR_ZAP_* failure, nothing sent", async () => {
  const cases: [() => Promise<ZapReply | null>, string][] = [
    [async () => ok({ status: "201" }), "ERR_ZAP_INVALID_STATUS_CODE"],
    [async () => ok({ status: "600" }), "ERR_ZAP_INVALID_STATUS_CODE"],
    [async () => ok({ status: "20" }), "ERR_ZAP_INVALID_STATUS_CODE"],
    [async () => Promise.reject(new Error("boom")), "ERR_ZAP_UNSPECIFIED"],
    [
      () => {
        throw new Error("sync boom");
      },
      "ERR_ZAP_UNSPECIFIED",
    ],
  ];
  for (const [zap, reason] of cases) {
    const server = new PlainServerMechanism(router, zap);
    let notified = false;
    server.onReady = () => (notified = true);
    server.processCommand(commandOf(new PlainClientMechanism(dealer, "a", "b").nextCommand()!));
    await tick();
    assert.equal(notified, true);
    assert.equal(server.status, "error");
    assert.equal(server.failure?.reason, reason);
    assert.equal(server.zapStatus, null);
    assert.equal(drain(server).length, 0);
  }
});

test("close() makes a late ZAP answer a no-op", async () => {
  const answer = deferred<ZapReply | null>();
  const server = new PlainServerMechanism(router, () => answer.promise);
  let notified = false;
  server.onReady = () => (notified = true);
  server.processCommand(commandOf(new PlainClientMechanism(dealer, "a", "b").nextCommand()!));
  server.close();
  answer.resolve(ok());
  await tick();
  assert.equal(notified, false);
  assert.equal(server.nextCommand(), null);
  assert.equal(server.status, "handshaking");
});

test("a command while ZAP is pending is unexpected", async () => {
  const server = new PlainServerMechanism(router, () => new Promise(() => {}));
  server.processCommand(commandOf(new PlainClientMechanism(dealer, "a", "b").nextCommand()!));
  assertWire(() => server.processCommand(commandOf(encodeCommandFrame("INITIATE"))), "ERR_ZMTP_UNEXPECTED_COMMAND");
});

test("malformed HELLOs are MALFORMED_COMMAND_HELLO", () => {
  for (const data of [
    Buffer.alloc(0), // no username
    Buffer.from([5, 0x61]), // username truncated
    Buffer.from([1, 0x61]), // no password
    Buffer.from([1, 0x61, 3, 0x62]), // password truncated
    Buffer.from([1, 0x61, 1, 0x62, 0x00]), // trailing byte
  ]) {
    const server = new PlainServerMechanism(router);
    assertWire(() => server.processCommand({ name: "HELLO", data }), "ERR_ZMTP_MALFORMED_COMMAND_HELLO");
  }
});

test("server: anything but HELLO first, or anything but INITIATE second, is UNEXPECTED_COMMAND", () => {
  for (const name of ["READY", "INITIATE", "ERROR", "WELCOME"]) {
    assertWire(() => new PlainServerMechanism(router).processCommand({ name, data: Buffer.alloc(1) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  }
  const server = new PlainServerMechanism(router);
  server.processCommand(commandOf(new PlainClientMechanism(dealer, "a", "b").nextCommand()!));
  drain(server);
  assertWire(() => server.processCommand(commandOf(new PlainClientMechanism(dealer, "a", "b").nextCommand()!)), "ERR_ZMTP_UNEXPECTED_COMMAND");
});

test("client: WELCOME with data is MALFORMED_COMMAND_WELCOME; out-of-order commands are UNEXPECTED_COMMAND", () => {
  const c1 = new PlainClientMechanism(dealer, "a", "b");
  c1.nextCommand();
  assertWire(() => c1.processCommand({ name: "WELCOME", data: Buffer.from([0]) }), "ERR_ZMTP_MALFORMED_COMMAND_WELCOME");
  const c2 = new PlainClientMechanism(dealer, "a", "b");
  c2.nextCommand();
  assertWire(() => c2.processCommand({ name: "READY", data: encodeMetadata([["Socket-Type", ascii("ROUTER")]]) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  const c3 = new PlainClientMechanism(dealer, "a", "b");
  assertWire(() => c3.processCommand({ name: "ERROR", data: Buffer.from([0]) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  const c4 = new PlainClientMechanism(dealer, "a", "b");
  c4.nextCommand();
  assertWire(() => c4.processCommand({ name: "HELLO", data: Buffer.alloc(0) }), "ERR_ZMTP_UNEXPECTED_COMMAND");
  assertWire(() => c4.processCommand({ name: "ERROR", data: Buffer.from([5, 0x61]) }), "ERR_ZMTP_MALFORMED_COMMAND_ERROR");
});

test("an ERROR that is not a ZAP code leaves zapStatus null", () => {
  const client = new PlainClientMechanism(dealer, "a", "b");
  client.nextCommand();
  client.processCommand(commandOf(encodeError("Handshake failed")));
  assert.equal(client.status, "error");
  assert.equal(client.peerError, "Handshake failed");
  assert.equal(client.zapStatus, null);
});

test("incompatible socket types fail with INVALID_METADATA on either side", () => {
  const client = new PlainClientMechanism({ ...dealer, socketType: "PUB" }, "a", "b");
  const server = new PlainServerMechanism({ ...router, socketType: "PUSH" });
  assertWire(() => pump(client, server), "ERR_ZMTP_INVALID_METADATA");
  const c2 = new PlainClientMechanism({ ...dealer, socketType: "SUB" }, "a", "b");
  const s2 = new PlainServerMechanism({ ...router, socketType: "PUSH" });
  // PUSH accepts no SUB: the server rejects the INITIATE.
  assertWire(() => pump(c2, s2), "ERR_ZMTP_INVALID_METADATA");
});
