/**
 * PLAIN and CURVE against libzmq 4.3.4 through Debian's pyzmq, with pyzmq's zmq.auth
 * authenticator on the pyzmq side when it serves, and our ZAP handler when we serve.
 * Keys come from our generator for libzmq and from libzmq's for us.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as zmq from "../../src/index.js";
import { within } from "../helpers/util.js";

const PEER = fileURLToPath(new URL("./peers/secpeer.py", import.meta.url));
const T = 8000;

/** Starts the python peer; resolves with its first JSON line and the process. */
async function python(spec: object): Promise<{ first: Record<string, string>; child: ChildProcess }> {
  const child = spawn("/usr/bin/python3", [PEER, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const first = await within(new Promise<Record<string, string>>((resolve, reject) => {
    lines.once("line", (l) => resolve(JSON.parse(l)));
    child.once("exit", (code) => reject(new Error(`python peer exited with ${code}`)));
  }), T, "python peer");
  return { first, child };
}

function stop(child: ChildProcess): void {
  child.stdin?.end();
  setTimeout(() => child.kill("SIGKILL"), 2000).unref();
}

async function zapAllow(check: (mechanism: string, credentials: Buffer[]) => boolean) {
  const handler = new zmq.Router();
  await handler.bind("inproc://zeromq.zap.01");
  void (async () => {
    try {
      for await (const [id, empty, , reqId, , , , mechanism, ...credentials] of handler) {
        const ok = check(mechanism!.toString(), credentials);
        await handler.send([id, empty, "1.0", reqId, ok ? "200" : "400", ok ? "OK" : "denied", ok ? "client" : "", ""]);
      }
    } catch {
      /* closed */
    }
  })();
  return handler;
}

describe("CURVE with libzmq (pyzmq 24)", () => {
  test("libzmq server with zmq.auth allowing our generated client key; our REQ gets the echo", async () => {
    const server = zmq.curveKeyPair();
    const client = zmq.curveKeyPair();
    const { first, child } = await python({ role: "server", mechanism: "curve", secret: server.secretKey, public: server.publicKey, allow_keys: [client.publicKey] });
    const req = new zmq.Request({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey, linger: 0 });
    try {
      req.connect(first.endpoint!);
      await req.send("ping");
      assert.equal((await within(req.receive(), T, "echo"))[0]!.toString(), "echo:ping");
    } finally {
      req.close();
      stop(child);
    }
  });

  test("libzmq server refuses a client key zmq.auth does not know: handshake:error:auth 400", async () => {
    const server = zmq.curveKeyPair();
    const allowed = zmq.curveKeyPair();
    const intruder = zmq.curveKeyPair();
    const { first, child } = await python({ role: "server", mechanism: "curve", secret: server.secretKey, public: server.publicKey, allow_keys: [allowed.publicKey] });
    const req = new zmq.Request({ curveServerKey: server.publicKey, curvePublicKey: intruder.publicKey, curveSecretKey: intruder.secretKey, linger: 0 });
    try {
      const refused = new Promise<{ error: { status: number } }>((r) => req.events.on("handshake:error:auth", r as never));
      req.connect(first.endpoint!);
      void req.send("ping").catch(() => {});
      assert.equal((await within(refused, T, "auth refusal")).error.status, 400);
    } finally {
      req.close();
      stop(child);
    }
  });

  test("our server with libzmq-generated keys; pyzmq clients: a known key is let in, an unknown one times out", async () => {
    const { first: serverKeys } = await python({ role: "keypair" });
    const { first: goodKeys } = await python({ role: "keypair" });
    const { first: badKeys } = await python({ role: "keypair" });
    const handler = await zapAllow((m, [key]) => m === "CURVE" && zmq.z85Encode(key!) === goodKeys.public);
    const rep = new zmq.Reply({ curveServer: true, curveSecretKey: serverKeys.secret!, linger: 0 });
    try {
      await rep.bind("tcp://127.0.0.1:*");
      void (async () => {
        try {
          for await (const [msg] of rep) await rep.send(`echo:${msg}`);
        } catch {
          /* closed */
        }
      })();
      const good = await python({ role: "client", mechanism: "curve", endpoint: rep.lastEndpoint, server_key: serverKeys.public, public: goodKeys.public, secret: goodKeys.secret });
      assert.deepEqual(good.first, { reply: "echo:ping" });
      const bad = await python({ role: "client", mechanism: "curve", endpoint: rep.lastEndpoint, server_key: serverKeys.public, public: badKeys.public, secret: badKeys.secret, timeout_ms: 700 });
      assert.deepEqual(bad.first, { error: "timeout" });
    } finally {
      rep.close();
      handler.close();
    }
  });
});

describe("PLAIN with libzmq (pyzmq 24)", () => {
  test("libzmq PLAIN server with zmq.auth passwords: right password echoed, wrong one refused (400)", async () => {
    const { first, child } = await python({ role: "server", mechanism: "plain", passwords: { admin: "secret" } });
    const good = new zmq.Request({ plainUsername: "admin", plainPassword: "secret", linger: 0 });
    const bad = new zmq.Request({ plainUsername: "admin", plainPassword: "guess", linger: 0 });
    try {
      good.connect(first.endpoint!);
      await good.send("ping");
      assert.equal((await within(good.receive(), T, "echo"))[0]!.toString(), "echo:ping");
      const refused = new Promise<{ error: { status: number } }>((r) => bad.events.on("handshake:error:auth", r as never));
      bad.connect(first.endpoint!);
      void bad.send("ping").catch(() => {});
      assert.equal((await within(refused, T, "auth refusal")).error.status, 400);
    } finally {
      good.close();
      bad.close();
      stop(child);
    }
  });

  test("our PLAIN server with our ZAP handler; pyzmq clients with a good and a bad password", async () => {
    const handler = await zapAllow((m, [user, pass]) => m === "PLAIN" && `${user}:${pass}` === "admin:secret");
    const rep = new zmq.Reply({ plainServer: true, linger: 0 });
    try {
      await rep.bind("tcp://127.0.0.1:*");
      void (async () => {
        try {
          for await (const [msg] of rep) await rep.send(`echo:${msg}`);
        } catch {
          /* closed */
        }
      })();
      const good = await python({ role: "client", mechanism: "plain", endpoint: rep.lastEndpoint, username: "admin", password: "secret" });
      assert.deepEqual(good.first, { reply: "echo:ping" });
      const bad = await python({ role: "client", mechanism: "plain", endpoint: rep.lastEndpoint, username: "admin", password: "nope", timeout_ms: 700 });
      assert.deepEqual(bad.first, { error: "timeout" });
    } finally {
      rep.close();
      handler.close();
    }
  });
});
