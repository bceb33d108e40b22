/**
 * PLAIN, CURVE and ZAP through real sockets (RFC 24, 26, 27), zmq-ts on both ends,
 * mirroring zeromq.js's socket-zap and socket-curve tests.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../../src/index.js";
import { within, str } from "../helpers/util.js";

const T = 5000;

/** A ZAP handler: a Router at inproc://zeromq.zap.01 answering with `decide`. */
async function zapHandler(decide: (mechanism: string, credentials: Buffer[]) => { status: string; version?: string; frames?: number }) {
  const handler = new zmq.Router();
  await handler.bind("inproc://zeromq.zap.01");
  const requests: string[][] = [];
  void (async () => {
    try {
      for await (const [id, empty, version, reqId, domain, address, identity, mechanism, ...credentials] of handler) {
        requests.push([version!.toString(), domain!.toString(), mechanism!.toString(), ...credentials.map(String)]);
        const d = decide(mechanism!.toString(), credentials);
        const reply = [id, empty, d.version ?? "1.0", reqId, d.status, d.status === "200" ? "OK" : "NO", "user-1", ""];
        await handler.send(d.frames ? reply.slice(0, d.frames) : reply);
        void domain; void address; void identity;
      }
    } catch {
      /* closed */
    }
  })();
  return { handler, requests };
}

function firstEvent<T>(sock: zmq.Socket, type: string): Promise<T> {
  return new Promise((resolve) => sock.events.on(type as never, ((e: T) => resolve(e)) as never));
}

describe("CURVE", () => {
  test("a Pair with curveKeyPair() keys delivers both ways (zeromq.js socket-curve test)", async () => {
    const server = zmq.curveKeyPair();
    const client = zmq.curveKeyPair();
    const a = new zmq.Pair({ curveServer: true, curveSecretKey: server.secretKey, curvePublicKey: server.publicKey });
    const b = new zmq.Pair({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey });
    try {
      await a.bind("tcp://127.0.0.1:*");
      b.connect(a.lastEndpoint!);
      assert.equal(a.securityMechanism, "curve");
      await b.send(["hello", Buffer.alloc(100_000, 9), ""]);
      const got = await within(a.receive(), T, "boxed message");
      assert.equal(got[0]!.toString(), "hello");
      assert.deepEqual(got[1], Buffer.alloc(100_000, 9));
      assert.equal(got[2]!.length, 0);
      await a.send("back");
      assert.deepEqual(str(await within(b.receive(), T, "reply")), ["back"]);
    } finally {
      a.close();
      b.close();
    }
  });

  test("a client with the wrong server key never gets a message through", async () => {
    const server = zmq.curveKeyPair();
    const wrong = zmq.curveKeyPair();
    const client = zmq.curveKeyPair();
    const pull = new zmq.Pull({ curveServer: true, curveSecretKey: server.secretKey, receiveTimeout: 300 });
    const push = new zmq.Push({ curveServerKey: wrong.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey });
    try {
      await pull.bind("tcp://127.0.0.1:*");
      const failed = firstEvent<{ error: { code: string } }>(pull, "handshake:error:protocol");
      push.connect(pull.lastEndpoint!);
      void push.send("secret").catch(() => {});
      const ev = await within(failed, T, "protocol error on the server");
      assert.equal(ev.error.code, "ERR_ZMTP_CRYPTOGRAPHIC");
      await assert.rejects(pull.receive(), { code: "EAGAIN" });
    } finally {
      pull.close();
      push.close();
    }
  });

  test("keys of the wrong length are EINVAL when set", () => {
    const s = new zmq.Dealer();
    try {
      assert.throws(() => { s.curveSecretKey = "too short"; }, { code: "EINVAL" });
    } finally {
      s.close();
    }
  });

  test("ZAP sees the client's public key and can refuse it: both sides get handshake:error:auth 400", async () => {
    const server = zmq.curveKeyPair();
    const client = zmq.curveKeyPair();
    const { handler, requests } = await zapHandler(() => ({ status: "400" }));
    const pull = new zmq.Pull({ curveServer: true, curveSecretKey: server.secretKey });
    const push = new zmq.Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey });
    try {
      await pull.bind("tcp://127.0.0.1:*");
      const serverSide = firstEvent<{ error: { status: number; message: string } }>(pull, "handshake:error:auth");
      const clientSide = firstEvent<{ error: { status: number } }>(push, "handshake:error:auth");
      push.connect(pull.lastEndpoint!);
      const ev = await within(serverSide, T, "server auth event");
      assert.equal(ev.error.status, 400);
      assert.equal(ev.error.message, "Authentication failure");
      assert.equal((await within(clientSide, T, "client auth event")).error.status, 400);
      assert.equal(requests[0]![2], "CURVE");
    } finally {
      pull.close();
      push.close();
      handler.close();
    }
  });
});

describe("PLAIN and ZAP", () => {
  test("a good password is let in, the ZAP request carries the credentials, User-Id reaches the frames", async () => {
    const { handler, requests } = await zapHandler((_m, [user, pass]) => ({ status: user!.toString() === "admin" && pass!.toString() === "s3cret" ? "200" : "400" }));
    const rep = new zmq.Reply({ plainServer: true, zapDomain: "test" });
    const req = new zmq.Request({ plainUsername: "admin", plainPassword: "s3cret" });
    try {
      await rep.bind("tcp://127.0.0.1:*");
      req.connect(rep.lastEndpoint!);
      await req.send("hi");
      const frames = await within(rep.receiveFrames(), T, "request");
      assert.equal(frames[0]!.buffer.toString(), "hi");
      assert.equal(frames[0]!.get("User-Id"), "user-1");
      assert.deepEqual(requests[0], ["1.0", "test", "PLAIN", "admin", "s3cret"]);
    } finally {
      rep.close();
      req.close();
      handler.close();
    }
  });

  test("a bad password: handshake:error:auth with status 400 on both sides, nothing delivered", async () => {
    const { handler } = await zapHandler(() => ({ status: "400" }));
    const pull = new zmq.Pull({ plainServer: true, receiveTimeout: 200 });
    const push = new zmq.Push({ plainUsername: "admin", plainPassword: "wrong" });
    try {
      await pull.bind("tcp://127.0.0.1:*");
      const serverSide = firstEvent<{ error: { status: number } }>(pull, "handshake:error:auth");
      const clientSide = firstEvent<{ error: { status: number } }>(push, "handshake:error:auth");
      push.connect(pull.lastEndpoint!);
      void push.send("x").catch(() => {});
      assert.equal((await within(serverSide, T, "server auth")).error.status, 400);
      assert.equal((await within(clientSide, T, "client auth")).error.status, 400);
      await assert.rejects(pull.receive(), { code: "EAGAIN" });
    } finally {
      pull.close();
      push.close();
      handler.close();
    }
  });

  for (const [label, decide, code] of [
    ["a reply with version 9.9", () => ({ status: "200", version: "9.9" }), "ERR_ZAP_BAD_VERSION"],
    ["a malformed reply (too few frames)", () => ({ status: "200", frames: 5 }), "ERR_ZAP_MALFORMED_REPLY"],
  ] as const) {
    test(`${label}: handshake:error:protocol ${code}`, async () => {
      const { handler } = await zapHandler(decide);
      const pull = new zmq.Pull({ plainServer: true });
      const push = new zmq.Push({ plainUsername: "a", plainPassword: "b" });
      try {
        await pull.bind("tcp://127.0.0.1:*");
        const failed = firstEvent<{ error: { code: string; message: string } }>(pull, "handshake:error:protocol");
        push.connect(pull.lastEndpoint!);
        const ev = await within(failed, T, "protocol error");
        assert.equal(ev.error.code, code);
        assert.equal(ev.error.message, "ZAP protocol error");
      } finally {
        pull.close();
        push.close();
        handler.close();
      }
    });
  }

  test("PLAIN server against a CURVE server: ERR_ZMTP_MECHANISM_MISMATCH on both sides", async () => {
    const keys = zmq.curveKeyPair();
    const a = new zmq.Pair({ plainServer: true });
    const b = new zmq.Pair({ curveServer: true, curveSecretKey: keys.secretKey });
    try {
      await a.bind("tcp://127.0.0.1:*");
      const ea = firstEvent<{ error: { code: string } }>(a, "handshake:error:protocol");
      const eb = firstEvent<{ error: { code: string } }>(b, "handshake:error:protocol");
      b.connect(a.lastEndpoint!);
      assert.equal((await within(ea, T, "bind side")).error.code, "ERR_ZMTP_MECHANISM_MISMATCH");
      assert.equal((await within(eb, T, "connect side")).error.code, "ERR_ZMTP_MECHANISM_MISMATCH");
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("NULL and ZAP", () => {
  test("with zapDomain set, a NULL peer is put to ZAP (mechanism NULL) and refused with 400", async () => {
    const { handler, requests } = await zapHandler(() => ({ status: "400" }));
    const pull = new zmq.Pull({ zapDomain: "global", receiveTimeout: 200 });
    const push = new zmq.Push();
    try {
      await pull.bind("tcp://127.0.0.1:*");
      const refused = firstEvent<{ error: { status: number } }>(pull, "handshake:error:auth");
      push.connect(pull.lastEndpoint!);
      void push.send("x").catch(() => {});
      assert.equal((await within(refused, T, "auth event")).error.status, 400);
      assert.deepEqual(requests, [["1.0", "global", "NULL"]]);
      await assert.rejects(pull.receive(), { code: "EAGAIN" });
    } finally {
      pull.close();
      push.close();
      handler.close();
    }
  });

  test("without zapDomain, NULL never asks ZAP", async () => {
    const { handler, requests } = await zapHandler(() => ({ status: "400" }));
    const pull = new zmq.Pull();
    const push = new zmq.Push();
    try {
      await pull.bind("tcp://127.0.0.1:*");
      push.connect(pull.lastEndpoint!);
      await push.send("x");
      assert.deepEqual(str(await within(pull.receive(), T, "message")), ["x"]);
      assert.equal(requests.length, 0);
    } finally {
      pull.close();
      push.close();
      handler.close();
    }
  });
});
