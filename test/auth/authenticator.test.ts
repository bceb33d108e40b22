/**
 * The Authenticator (pyzmq's zmq.auth in TypeScript) guarding our own sockets over
 * tcp on loopback: PLAIN, CURVE by directory / keys / callback / ALLOW_ANY, address
 * allow and deny lists, NULL, domains, and malformed requests sent by hand.
 * Each test uses its own Context (one ZAP handler per Context).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "../../src/index.js";
import { Authenticator, CURVE_ALLOW_ANY, createCertificates, type AuthLogger } from "../../src/auth/index.js";
import { within, str } from "../helpers/util.js";

const T = 4000;

type Outcome =
  | { accepted: true; userId: string | undefined; frame: zmq.Frame }
  | { accepted: false; status: number; clientStatus: number | null };

type AuthEvent = { error: { status: number } };

function firstEvent<E>(sock: zmq.Socket, type: string): Promise<E> {
  return new Promise((resolve) => sock.events.on(type as never, ((e: E) => resolve(e)) as never));
}

/**
 * A PULL server with `server` options in `ctx` bound on loopback tcp, a PUSH client
 * with `client` options sending "hello": either the message arrives (with its
 * User-Id) or the server reports handshake:error:auth.
 */
async function attempt(ctx: zmq.Context, server: Record<string, unknown>, client: Record<string, unknown>, clientAuthEvent = true): Promise<Outcome> {
  const pull = new zmq.Pull({ ...server, context: ctx, linger: 0 });
  const push = new zmq.Push({ ...client, context: ctx, linger: 0 });
  try {
    await pull.bind("tcp://127.0.0.1:*");
    const refused = firstEvent<AuthEvent>(pull, "handshake:error:auth");
    const clientRefused = firstEvent<AuthEvent>(push, "handshake:error:auth");
    const received = pull.receiveFrames();
    received.catch(() => {}); // rejected with EAGAIN when we close after a refusal
    push.connect(pull.lastEndpoint!);
    void push.send("hello").catch(() => {});
    const first = await within(
      Promise.race([
        received.then((frames) => ({ frames })),
        refused.then((ev) => ({ ev })),
      ]),
      T,
      "the message or an auth refusal",
    );
    if ("frames" in first) {
      assert.equal(first.frames[0]!.buffer.toString(), "hello");
      return { accepted: true, userId: first.frames[0]!.get("User-Id"), frame: first.frames[0]! };
    }
    const clientStatus = clientAuthEvent ? (await within(clientRefused, T, "the client's auth event")).error.status : null;
    return { accepted: false, status: first.ev.error.status, clientStatus };
  } finally {
    pull.close();
    push.close();
  }
}

/** Runs `body` with a fresh Context and a started Authenticator on it, stopped afterwards. */
async function withAuth(configure: (auth: Authenticator) => void, body: (ctx: zmq.Context, auth: Authenticator) => Promise<void>, log?: AuthLogger): Promise<void> {
  const ctx = new zmq.Context();
  const auth = new Authenticator({ context: ctx, log });
  try {
    configure(auth);
    await within(auth.start(), T, "auth.start()");
    await body(ctx, auth);
  } finally {
    auth.stop();
  }
}

function curveServer(keys = zmq.curveKeyPair()) {
  return { keys, options: { curveServer: true, curveSecretKey: keys.secretKey } };
}

function curveClient(serverPublic: string, keys = zmq.curveKeyPair()) {
  return { keys, options: { curveServerKey: serverPublic, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey } };
}

describe("Authenticator lifecycle", () => {
  test("start binds inproc://zeromq.zap.01 of the default context; a second handler gets EADDRINUSE; stop frees it", async () => {
    const a = new Authenticator();
    const b = new Authenticator({ context: zmq.context });
    try {
      assert.equal(a.isAlive(), false);
      await within(a.start(), T, "start");
      assert.equal(a.isAlive(), true);
      assert.equal(a.context, zmq.context);
      await within(a.start(), T, "start again"); // no-op while running
      await assert.rejects(within(b.start(), T, "second start"), { code: "EADDRINUSE" });
      assert.equal(b.isAlive(), false);
      a.stop();
      a.stop();
      assert.equal(a.isAlive(), false);
      await within(b.start(), T, "start after stop");
      assert.equal(b.isAlive(), true);
    } finally {
      a.stop();
      b.stop();
    }
  });

  test("a Context of its own does not clash with the default context's handler", async () => {
    const ctx = new zmq.Context();
    const a = new Authenticator();
    const b = new Authenticator({ context: ctx });
    try {
      await within(a.start(), T, "default");
      await within(b.start(), T, "own context");
      assert.ok(a.isAlive() && b.isAlive());
    } finally {
      a.stop();
      b.stop();
    }
  });
});

describe("PLAIN", () => {
  test("the right password is let in with the username as User-Id; a wrong one is refused 400 on both sides", async () => {
    await withAuth((auth) => auth.configurePlain({ admin: "s3cret", guest: "guest" }), async (ctx) => {
      const good = await attempt(ctx, { plainServer: true }, { plainUsername: "admin", plainPassword: "s3cret" });
      assert.equal(good.accepted, true);
      assert.equal(good.accepted && good.userId, "admin");
      const bad = await attempt(ctx, { plainServer: true }, { plainUsername: "admin", plainPassword: "guess" });
      assert.deepEqual(bad, { accepted: false, status: 400, clientStatus: 400 });
      const unknown = await attempt(ctx, { plainServer: true }, { plainUsername: "nobody", plainPassword: "s3cret" });
      assert.deepEqual(unknown, { accepted: false, status: 400, clientStatus: 400 });
    });
  });

  test("domains: a domain's own passwords, '*' for the rest, the empty domain is '*'", async () => {
    await withAuth((auth) => {
      auth.configurePlain("admins", { root: "r00t" });
      auth.configurePlain("*", { user: "pw" });
    }, async (ctx) => {
      const root = await attempt(ctx, { plainServer: true, zapDomain: "admins" }, { plainUsername: "root", plainPassword: "r00t" });
      assert.equal(root.accepted && root.userId, "root");
      const userInAdmins = await attempt(ctx, { plainServer: true, zapDomain: "admins" }, { plainUsername: "user", plainPassword: "pw" });
      assert.equal(userInAdmins.accepted, false);
      const userElsewhere = await attempt(ctx, { plainServer: true, zapDomain: "web" }, { plainUsername: "user", plainPassword: "pw" });
      assert.equal(userElsewhere.accepted && userElsewhere.userId, "user");
      const userNoDomain = await attempt(ctx, { plainServer: true }, { plainUsername: "user", plainPassword: "pw" });
      assert.equal(userNoDomain.accepted, true);
    });
  });

  test("no passwords configured: every PLAIN client is refused", async () => {
    await withAuth(() => {}, async (ctx) => {
      const r = await attempt(ctx, { plainServer: true }, { plainUsername: "a", plainPassword: "b" });
      assert.deepEqual(r, { accepted: false, status: 400, clientStatus: 400 });
    });
  });
});

describe("CURVE", () => {
  test("allowed by a certificate directory: User-Id is the Z85 key, the certificate's metadata reaches the frames", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zmq-ts-auth-"));
    try {
      const alice = createCertificates(dir, "alice", { name: "Alice", role: "admin" });
      const server = curveServer();
      await withAuth((auth) => auth.configureCurve(dir), async (ctx) => {
        const ok = await attempt(ctx, server.options, curveClient(server.keys.publicKey, { publicKey: alice.publicKey, secretKey: alice.secretKey }).options);
        assert.equal(ok.accepted, true);
        if (ok.accepted) {
          assert.equal(ok.userId, alice.publicKey);
          assert.equal(ok.frame.get("name"), "Alice");
          assert.equal(ok.frame.get("role"), "admin");
        }
        const stranger = await attempt(ctx, server.options, curveClient(server.keys.publicKey).options);
        assert.deepEqual(stranger, { accepted: false, status: 400, clientStatus: 400 });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("configureCurve reads the directory when called: a certificate added later needs another call", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zmq-ts-auth-"));
    try {
      const server = curveServer();
      await withAuth((auth) => auth.configureCurve("*", dir), async (ctx, auth) => {
        const bob = createCertificates(dir, "bob");
        const client = curveClient(server.keys.publicKey, { publicKey: bob.publicKey, secretKey: bob.secretKey }).options;
        assert.equal((await attempt(ctx, server.options, client)).accepted, false);
        auth.configureCurve("*", dir);
        assert.equal((await attempt(ctx, server.options, client)).accepted, true);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("allowed by an explicit key list (Z85 or 32 bytes); other keys refused with 400", async () => {
    const server = curveServer();
    const known = zmq.curveKeyPair();
    const also = zmq.curveKeyPair();
    await withAuth((auth) => auth.configureCurveKeys([known.publicKey, zmq.z85Decode(also.publicKey)]), async (ctx) => {
      const a = await attempt(ctx, server.options, curveClient(server.keys.publicKey, known).options);
      assert.equal(a.accepted && a.userId, known.publicKey);
      const b = await attempt(ctx, server.options, curveClient(server.keys.publicKey, also).options);
      assert.equal(b.accepted, true);
      const c = await attempt(ctx, server.options, curveClient(server.keys.publicKey).options);
      assert.deepEqual(c, { accepted: false, status: 400, clientStatus: 400 });
    });
  });

  test("CURVE_ALLOW_ANY lets any key in", async () => {
    const server = curveServer();
    await withAuth((auth) => auth.configureCurve(CURVE_ALLOW_ANY), async (ctx) => {
      for (let i = 0; i < 2; i++) {
        const client = curveClient(server.keys.publicKey);
        const r = await attempt(ctx, server.options, client.options);
        assert.equal(r.accepted && r.userId, client.keys.publicKey);
      }
    });
  });

  test("a callback decides (asynchronously), told the key and the domain; a throwing callback refuses with 500", async () => {
    const server = curveServer();
    const good = zmq.curveKeyPair();
    const asked: string[][] = [];
    await withAuth((auth) => {
      auth.configureCurveCallback(async (key, domain) => {
        asked.push([key, domain]);
        await new Promise((r) => setTimeout(r, 20));
        return key === good.publicKey;
      });
      auth.configureCurveCallback("broken", () => {
        throw new Error("database down");
      });
    }, async (ctx) => {
      assert.equal((await attempt(ctx, server.options, curveClient(server.keys.publicKey, good).options)).accepted, true);
      const other = curveClient(server.keys.publicKey);
      assert.deepEqual(await attempt(ctx, { ...server.options, zapDomain: "d1" }, other.options), { accepted: false, status: 400, clientStatus: 400 });
      assert.deepEqual(asked, [[good.publicKey, "*"], [other.keys.publicKey, "d1"]]);
      const broken = await attempt(ctx, { ...server.options, zapDomain: "broken" }, curveClient(server.keys.publicKey, good).options);
      assert.equal(broken.accepted, false);
      assert.equal(!broken.accepted && broken.status, 500);
    });
  });

  test("curveUserId can be overridden to map keys to user names", async () => {
    const server = curveServer();
    const client = curveClient(server.keys.publicKey);
    class Named extends Authenticator {
      override curveUserId(key: Buffer): string {
        return zmq.z85Encode(key) === client.keys.publicKey ? "carol" : "?";
      }
    }
    const ctx = new zmq.Context();
    const auth = new Named({ context: ctx });
    try {
      auth.configureCurve(CURVE_ALLOW_ANY);
      await within(auth.start(), T, "start");
      const r = await attempt(ctx, server.options, client.options);
      assert.equal(r.accepted && r.userId, "carol");
    } finally {
      auth.stop();
    }
  });

  test("no CURVE policy (only PLAIN configured): refused", async () => {
    const server = curveServer();
    await withAuth((auth) => auth.configurePlain({ a: "b" }), async (ctx) => {
      assert.deepEqual(await attempt(ctx, server.options, curveClient(server.keys.publicKey).options), { accepted: false, status: 400, clientStatus: 400 });
    });
  });
});

describe("address lists", () => {
  test("deny 127.0.0.1: PLAIN with the right password is refused 400; NULL with a ZAP domain too", async () => {
    await withAuth((auth) => {
      auth.configurePlain({ admin: "pw" });
      auth.deny("127.0.0.1");
    }, async (ctx) => {
      const plain = await attempt(ctx, { plainServer: true }, { plainUsername: "admin", plainPassword: "pw" });
      assert.deepEqual(plain, { accepted: false, status: 400, clientStatus: 400 });
      const nul = await attempt(ctx, { zapDomain: "global" }, {}, false);
      assert.equal(nul.accepted, false);
      assert.equal(!nul.accepted && nul.status, 400);
    });
  });

  test("deny another address: 127.0.0.1 goes on to authenticate", async () => {
    await withAuth((auth) => {
      auth.configurePlain({ admin: "pw" });
      auth.deny("10.1.2.3");
    }, async (ctx) => {
      assert.equal((await attempt(ctx, { plainServer: true }, { plainUsername: "admin", plainPassword: "pw" })).accepted, true);
      assert.equal((await attempt(ctx, { plainServer: true }, { plainUsername: "admin", plainPassword: "no" })).accepted, false);
    });
  });

  test("allow 127.0.0.1: NULL is let in (User-Id anonymous), CURVE still needs a known key", async () => {
    const server = curveServer();
    const known = zmq.curveKeyPair();
    await withAuth((auth) => {
      auth.allow("127.0.0.1");
      auth.configureCurveKeys([known.publicKey]);
    }, async (ctx) => {
      const nul = await attempt(ctx, { zapDomain: "global" }, {});
      assert.equal(nul.accepted && nul.userId, "anonymous");
      assert.equal((await attempt(ctx, server.options, curveClient(server.keys.publicKey, known).options)).accepted, true);
      assert.deepEqual(await attempt(ctx, server.options, curveClient(server.keys.publicKey).options), { accepted: false, status: 400, clientStatus: 400 });
    });
  });

  test("an allow list without 127.0.0.1 refuses it, and wins over a deny list", async () => {
    const server = curveServer();
    await withAuth((auth) => {
      auth.deny("10.0.0.1");
      auth.allow("10.9.9.9");
      auth.configureCurve(CURVE_ALLOW_ANY);
    }, async (ctx) => {
      assert.deepEqual(await attempt(ctx, server.options, curveClient(server.keys.publicKey).options), { accepted: false, status: 400, clientStatus: 400 });
    });
  });
});

describe("malformed requests (sent by hand to the ZAP endpoint)", () => {
  test("answered 400 as pyzmq does, never crashing the handler; too short to answer: dropped", async () => {
    const errors: string[] = [];
    const ctx = new zmq.Context();
    const auth = new Authenticator({ context: ctx, log: { error: (m) => errors.push(m) } });
    const dealer = new zmq.Dealer({ context: ctx, linger: 0 });
    try {
      auth.configurePlain("d", { u: "p" });
      auth.configureCurveCallback(() => {
        throw new Error("boom");
      });
      await within(auth.start(), T, "start");
      dealer.connect("inproc://zeromq.zap.01");
      const ask = async (frames: (string | Buffer)[]) => {
        await dealer.send(["", ...frames]);
        return str(await within(dealer.receive(), T, `reply to ${frames.join("|")}`));
      };
      await dealer.send(["", "1.0"]); // not enough to reply to: dropped
      await dealer.send(["no delimiter", "1.0", "x"]); // dropped
      assert.deepEqual(await ask(["1.0", "1", "d"]), ["", "1.0", "1", "400", "Not enough frames", "", ""]);
      assert.deepEqual(await ask(["2.0", "2", "d", "127.0.0.1", "", "NULL"]), ["", "1.0", "2", "400", "Invalid version", "", ""]);
      assert.deepEqual(await ask(["1.0", "3", "d", "127.0.0.1", "", "PLAIN", "u"]), ["", "1.0", "3", "400", "Invalid credentials", "", ""]);
      assert.deepEqual(await ask(["1.0", "4", "d", "127.0.0.1", "", "CURVE", "short key"]), ["", "1.0", "4", "400", "Invalid credentials", "", ""]);
      assert.deepEqual(await ask(["1.0", "5", "d", "127.0.0.1", "", "FOO"]), ["", "1.0", "5", "400", "Unsupported mechanism", "", ""]);
      assert.deepEqual(await ask(["1.0", "6", "d", "127.0.0.1", "", "CURVE", Buffer.alloc(32, 1)]), ["", "1.0", "6", "500", "Internal error", "", ""]);
      assert.deepEqual(await ask(["1.0", "7", "x", "127.0.0.1", "", "PLAIN", "u", "p"]), ["", "1.0", "7", "400", "Invalid domain", "", ""]);
      assert.deepEqual(await ask(["1.0", "8", "d", "127.0.0.1", "", "PLAIN", "u", "p"]), ["", "1.0", "8", "200", "OK", "u", ""]);
      assert.deepEqual(await ask(["1.0", "9", "", "::ffff:127.0.0.1", "", "NULL"]), ["", "1.0", "9", "200", "OK", "anonymous", ""]);
      assert.ok(auth.isAlive());
      assert.ok(errors.some((e) => e.includes("not enough information to reply")));
      assert.ok(errors.some((e) => e.includes("boom")));
    } finally {
      dealer.close();
      auth.stop();
    }
  });

  test("IPv4-mapped addresses match their IPv4 entry in the lists", async () => {
    const ctx = new zmq.Context();
    const auth = new Authenticator({ context: ctx });
    const dealer = new zmq.Dealer({ context: ctx, linger: 0 });
    try {
      auth.deny("127.0.0.1");
      await within(auth.start(), T, "start");
      dealer.connect("inproc://zeromq.zap.01");
      await dealer.send(["", "1.0", "1", "", "::ffff:127.0.0.1", "", "NULL"]);
      assert.deepEqual(str(await within(dealer.receive(), T, "reply")), ["", "1.0", "1", "400", "Address denied", "", ""]);
      await dealer.send(["", "1.0", "2", "", "127.0.0.2", "", "NULL"]);
      assert.deepEqual(str(await within(dealer.receive(), T, "reply")), ["", "1.0", "2", "200", "OK", "anonymous", ""]);
    } finally {
      dealer.close();
      auth.stop();
    }
  });

  test("configuration errors are thrown at once", () => {
    const auth = new Authenticator({ context: new zmq.Context() });
    assert.throws(() => auth.configureCurveKeys(["too short"]), RangeError);
    assert.throws(() => auth.configureCurve("/nonexistent/zmq-ts/certs"), { code: "ENOENT" });
    assert.throws(() => auth.configureCurveCallback("d", undefined as never), TypeError);
    assert.throws(() => new Authenticator({ context: {} as never }), TypeError);
  });
});
