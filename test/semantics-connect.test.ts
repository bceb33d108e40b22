/**
 * Connection semantics: reconnect (and its events and back-off), immediate, STREAM
 * over raw tcp, ipc endpoints (abstract, stale socket file, regular file) and IPv6.
 * Each test names the libzmq test, RFC or zeromq.js test it mirrors.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server } from "node:net";
import { get as httpGet } from "node:http";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import * as zmq from "../src/index.js";
import { within, str } from "./helpers/util.js";

const T = 5000;

function waitEvent<E extends zmq.EventType>(sock: zmq.Socket, type: E, ms = T): Promise<zmq.EventOfType<E>> {
  return within(new Promise<zmq.EventOfType<E>>((resolve) => {
    const fn = (ev: zmq.EventOfType<E>) => {
      sock.events.off(type, fn);
      resolve(ev);
    };
    sock.events.on(type, fn);
  }), ms, `event ${type}`);
}

const ALL_EVENTS: zmq.EventType[] = [
  "accept", "accept:error", "bind", "bind:error", "connect", "connect:delay", "connect:retry", "close",
  "close:error", "disconnect", "end", "handshake", "handshake:error:protocol", "handshake:error:auth",
  "handshake:error:other", "unknown",
];

/** Records every event of the socket, in order. */
function recordEvents(sock: zmq.Socket): zmq.Event[] {
  const seen: zmq.Event[] = [];
  for (const type of ALL_EVENTS) sock.events.on(type, (ev) => seen.push(ev as zmq.Event));
  return seen;
}

/** Resolves once `pred` holds for the recorded events (checked on every event). */
function until(seen: zmq.Event[], pred: (evs: zmq.Event[]) => boolean, sock: zmq.Socket, what: string, ms = T): Promise<void> {
  return within(new Promise<void>((resolve) => {
    if (pred(seen)) return resolve();
    const check = () => {
      // listeners run in order: ours was added after recordEvents' ones, so `seen` is current
      if (pred(seen)) {
        for (const t of ALL_EVENTS) sock.events.off(t, check);
        resolve();
      }
    };
    for (const t of ALL_EVENTS) sock.events.on(t, check);
  }), ms, what);
}

async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function drain(sock: { receive(): Promise<Buffer[]>; receiveTimeout: number }): Promise<Buffer[][]> {
  const saved = sock.receiveTimeout;
  sock.receiveTimeout = 0;
  const out: Buffer[][] = [];
  try {
    for (;;) out.push(await sock.receive());
  } catch (e) {
    assert.equal((e as zmq.ZmqError).code, "EAGAIN");
    return out;
  } finally {
    sock.receiveTimeout = saved;
  }
}

const tmpPath = (tag: string) => join(tmpdir(), `zmq-ts-sem-${tag}-${randomBytes(5).toString("hex")}`);

// ---------------------------------------------------------------------------------------

describe("reconnect (libzmq test_reconnect_ivl.cpp, test_reconnect_options.cpp)", () => {
  test("test_reconnect_ivl.cpp: DEALER keeps talking after its ROUTER closes and a new ROUTER binds the same tcp address", async () => {
    const r1 = new zmq.Router();
    const dealer = new zmq.Dealer({ routingId: "d", reconnectInterval: 50 });
    let r2: zmq.Router | null = null;
    try {
      await r1.bind("tcp://127.0.0.1:*");
      const address = r1.lastEndpoint!;
      dealer.connect(address);
      await dealer.send("one");
      assert.deepEqual(str(await within(r1.receive(), T, "one")), ["d", "one"]);
      const gone = waitEvent(dealer, "disconnect");
      r1.close();
      await gone;
      await dealer.send("while down"); // waits in the connect-side pipe, as libzmq's session keeps it
      r2 = new zmq.Router();
      await r2.bind(address);
      await dealer.send("two");
      assert.deepEqual(str(await within(r2.receive(), T, "queued message at the new ROUTER")), ["d", "while down"]);
      assert.deepEqual(str(await within(r2.receive(), T, "two at the new ROUTER")), ["d", "two"]);
      await r2.send(["d", "back"]);
      assert.deepEqual(str(await within(dealer.receive(), T, "reply from the new ROUTER")), ["back"]);
    } finally {
      r1.close();
      r2?.close();
      dealer.close();
    }
  });

  test("test_reconnect_options.cpp reconnect_success: connect side events are connect:delay, connect, handshake | disconnect, connect:retry | connect:delay, connect, handshake", async (t) => {
    const pub = new zmq.Publisher({ linger: 0 });
    const subscriber = new zmq.Subscriber({ reconnectInterval: 300 });
    let pub2: zmq.Publisher | null = null;
    const seen = recordEvents(subscriber);
    const types = () => seen.map((e) => e.type);
    try {
      await pub.bind("tcp://127.0.0.1:*");
      const address = pub.lastEndpoint!;
      subscriber.subscribe("t");
      subscriber.connect(address);
      await until(seen, (e) => e.some((x) => x.type === "handshake"), subscriber, "first handshake");
      assert.deepEqual(types(), ["connect:delay", "connect", "handshake"]);
      pub.close();
      await until(seen, (e) => e.some((x) => x.type === "connect:retry"), subscriber, "connect:retry");
      assert.deepEqual(types().slice(0, 5), ["connect:delay", "connect", "handshake", "disconnect", "connect:retry"]);
      const retry = seen[4] as zmq.EventOfType<"connect:retry">;
      assert.deepEqual(retry, { type: "connect:retry", address, interval: 300 });
      for (const ev of seen) assert.equal((ev as { address?: string }).address, address, `${ev.type} carries the address`);
      pub2 = new zmq.Publisher();
      await pub2.bind(address);
      await until(seen, (e) => e.filter((x) => x.type === "handshake").length === 2, subscriber, "second handshake");
      t.diagnostic(`connect-side events: ${types().join(", ")}`);
      // The SUB subscribes again on the new connection (RFC 29): publications reach it.
      await within((async () => {
        subscriber.receiveTimeout = 20;
        try {
          for (;;) {
            await pub2!.send(["t", "after reconnect"]);
            try {
              assert.deepEqual(str(await subscriber.receive()), ["t", "after reconnect"]);
              return;
            } catch (e) {
              if ((e as zmq.ZmqError).code !== "EAGAIN") throw e;
            }
          }
        } finally {
          subscriber.receiveTimeout = -1;
        }
      })(), T, "publication after reconnect");
      // Redials that happened before the new PUB was up add (connect:delay, connect:retry) pairs.
      assert.match(types().join(","), /^connect:delay,connect,handshake,disconnect,connect:retry,(connect:delay,connect:retry,)*connect:delay,connect,handshake$/);
    } finally {
      pub.close();
      pub2?.close();
      subscriber.close();
    }
  });

  test("reconnectInterval 50 + reconnectMaxInterval 400: connect:retry intervals double up to the max (50, 100, 200, 400, 400)", async (t) => {
    const dealer = new zmq.Dealer({ reconnectInterval: 50, reconnectMaxInterval: 400 });
    const seen = recordEvents(dealer);
    try {
      const address = `tcp://127.0.0.1:${await freePort()}`;
      dealer.connect(address);
      await until(seen, (e) => e.filter((x) => x.type === "connect:retry").length >= 5, dealer, "5 connect:retry events", 3000);
      const retries = seen.filter((e) => e.type === "connect:retry") as zmq.EventOfType<"connect:retry">[];
      t.diagnostic(`events: ${seen.slice(0, 10).map((e) => e.type).join(", ")}`);
      assert.deepEqual(retries.slice(0, 5).map((e) => e.interval), [50, 100, 200, 400, 400]);
      for (const r of retries) assert.deepEqual(Object.keys(r).sort(), ["address", "interval", "type"]);
      // Each dial is announced: connect:delay, connect:retry, connect:delay, connect:retry ...
      assert.deepEqual(seen.slice(0, 4).map((e) => e.type), ["connect:delay", "connect:retry", "connect:delay", "connect:retry"]);
    } finally {
      dealer.close();
    }
  });

  test("libzmq session_base_t::engine_error(protocol_error): a connect whose handshake failed (PUSH -> PUB) is dropped; later messages all go to the live peer", async () => {
    const wrong = new zmq.Publisher(); // PUSH cannot talk to PUB: ERR_ZMTP_INVALID_METADATA
    const live = new zmq.Pull();
    const push = new zmq.Push({ linger: 0 });
    try {
      await wrong.bind("tcp://127.0.0.1:*");
      await live.bind("tcp://127.0.0.1:*");
      const failed = waitEvent(push, "handshake:error:protocol");
      push.connect(wrong.lastEndpoint!);
      const err = (await failed).error;
      assert.equal(err.code, "ERR_ZMTP_INVALID_METADATA");
      const hs = waitEvent(push, "handshake");
      push.connect(live.lastEndpoint!);
      await hs;
      for (let i = 0; i < 10; i++) await within(push.send(String(i)), T, `send ${i}`);
      const got: string[] = [];
      await within((async () => {
        while (got.length < 10) got.push((await live.receive())[0]!.toString());
      })(), 1000, "all 10 at the live peer (none queued on the failed endpoint)").catch((e: Error) => {
        throw new Error(`${e.message}; got ${JSON.stringify(got)}`);
      });
      assert.deepEqual(got, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    } finally {
      push.close();
      live.close();
      wrong.close();
    }
  });

  test("connect:retry interval stays at reconnectInterval without a max (60, 60, 60)", async () => {
    const dealer = new zmq.Dealer({ reconnectInterval: 60 });
    const seen = recordEvents(dealer);
    try {
      dealer.connect(`tcp://127.0.0.1:${await freePort()}`);
      await until(seen, (e) => e.filter((x) => x.type === "connect:retry").length >= 3, dealer, "3 connect:retry events", 3000);
      const retries = seen.filter((e) => e.type === "connect:retry") as zmq.EventOfType<"connect:retry">[];
      assert.deepEqual(retries.slice(0, 3).map((e) => e.interval), [60, 60, 60]);
    } finally {
      dealer.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("immediate (libzmq test_immediate.cpp; zeromq.js socket-pull/push test)", () => {
  test("test_immediate.cpp TEST 1: immediate false: PUSH to a live and a dead endpoint queues half the messages to the dead pipe", async () => {
    const live = new zmq.Pull();
    const push = new zmq.Push({ linger: 0 });
    try {
      await live.bind("tcp://127.0.0.1:*");
      push.connect(`tcp://127.0.0.1:${await freePort()}`); // nobody listens here
      const hs = waitEvent(push, "handshake");
      push.connect(live.lastEndpoint!);
      await hs;
      for (let i = 0; i < 10; i++) await push.send(String(i));
      const got: string[] = [];
      for (let i = 0; i < 5; i++) got.push((await within(live.receive(), T, `message ${i}`))[0]!.toString());
      assert.deepEqual(got, ["1", "3", "5", "7", "9"], "round-robin: every other message went to the live peer");
      await sleep(250); // rcvtimeo 250 in the libzmq test: nothing more comes
      assert.equal((await drain(live)).length, 0, "the other 5 wait on the not-yet-connected pipe");
    } finally {
      push.close();
      live.close();
    }
  });

  test("immediate false: the messages queued for the not-yet-existing peer are delivered once it binds", async () => {
    const live = new zmq.Pull();
    const late = new zmq.Pull();
    const push = new zmq.Push({ reconnectInterval: 50 });
    try {
      await live.bind("tcp://127.0.0.1:*");
      const lateAddress = `tcp://127.0.0.1:${await freePort()}`;
      push.connect(lateAddress);
      push.connect(live.lastEndpoint!);
      for (let i = 0; i < 10; i++) await push.send(String(i));
      const atLive: string[] = [];
      for (let i = 0; i < 5; i++) atLive.push((await within(live.receive(), T, "live message"))[0]!.toString());
      await late.bind(lateAddress);
      const atLate: string[] = [];
      for (let i = 0; i < 5; i++) atLate.push((await within(late.receive(), T, "queued message at the late peer"))[0]!.toString());
      assert.deepEqual([...atLive, ...atLate].sort((a, b) => +a - +b), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    } finally {
      push.close();
      live.close();
      late.close();
    }
  });

  test("test_immediate.cpp TEST 2: immediate true: everything goes to the live peer", async () => {
    const live = new zmq.Pull();
    const push = new zmq.Push({ immediate: true, linger: 0 });
    try {
      await live.bind("tcp://127.0.0.1:*");
      push.connect(`tcp://127.0.0.1:${await freePort()}`);
      push.connect(live.lastEndpoint!);
      for (let i = 0; i < 10; i++) await within(push.send(String(i)), T, `send ${i}`);
      const got: string[] = [];
      for (let i = 0; i < 10; i++) got.push((await within(live.receive(), T, `message ${i}`))[0]!.toString());
      assert.deepEqual(got, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    } finally {
      push.close();
      live.close();
    }
  });

  test("test_immediate.cpp TEST 3: immediate true: after the peer goes a send fails (EAGAIN), after it comes back sends go again", async () => {
    let backend = new zmq.Dealer({ linger: 0 });
    const frontend = new zmq.Dealer({ immediate: true, linger: 0, reconnectInterval: 50 });
    try {
      await backend.bind("tcp://127.0.0.1:*");
      const address = backend.lastEndpoint!;
      frontend.connect(address);
      await backend.send("Hello");
      assert.deepEqual(str(await within(frontend.receive(), T, "ping")), ["Hello"]);
      frontend.sendTimeout = 0;
      await frontend.send("Hello");
      const gone = waitEvent(frontend, "disconnect");
      backend.close();
      await gone;
      await assert.rejects(frontend.send("Hello"), { code: "EAGAIN" });
      backend = new zmq.Dealer({ linger: 0 });
      await backend.bind(address);
      await backend.send("Hello");
      assert.deepEqual(str(await within(frontend.receive(), T, "ping after reconnect")), ["Hello"]);
      await frontend.send("Hello");
    } finally {
      backend.close();
      frontend.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("STREAM over raw tcp (zeromq.js socket-stream test; libzmq test_stream.cpp, test_connect_rid.cpp)", () => {
  test("a bound Stream serves a Node http.get request: [id, ''] on connect, [id, request], reply, then [id, ''] closes", async () => {
    const stream = new zmq.Stream();
    try {
      await stream.bind("tcp://127.0.0.1:*");
      const port = Number(stream.lastEndpoint!.split(":").pop());
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpGet({ host: "127.0.0.1", port, path: "/hello", agent: false }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          res.on("error", reject);
        });
        req.on("error", reject);
      });
      const [id, hello] = await within(stream.receive(), T, "connect notification");
      assert.equal(hello!.length, 0, "an empty frame announces the connection");
      let request = "";
      while (!request.includes("\r\n\r\n")) {
        const [from, data] = await within(stream.receive(), T, "request bytes");
        assert.ok(from!.equals(id!), "request comes from the same peer id");
        request += data!.toString();
      }
      assert.match(request, /^GET \/hello HTTP\/1\.1\r\n/);
      await stream.send([id!, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, World!"]);
      await stream.send([id!, ""]);
      assert.deepEqual(await within(response, T, "http response"), { status: 200, body: "Hello, World!" });
    } finally {
      stream.close();
    }
  });

  test("a Stream connecting to a plain net echo server with connect(addr, {routingId: 's1'}) sends ['s1','ping'] and receives ['s1','ping']", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const server: Server = createServer((c) => {
      sockets.add(c);
      c.on("close", () => sockets.delete(c));
      c.pipe(c);
    });
    const stream = new zmq.Stream();
    try {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as AddressInfo).port;
      stream.connect(`tcp://127.0.0.1:${port}`, { routingId: "s1" });
      assert.deepEqual(str(await within(stream.receive(), T, "connect notification")), ["s1", ""]);
      await stream.send(["s1", "ping"]);
      let echoed = "";
      while (echoed.length < 4) {
        const [from, data] = await within(stream.receive(), T, "echo");
        assert.equal(from!.toString(), "s1");
        echoed += data!.toString();
      }
      assert.equal(echoed, "ping");
    } finally {
      stream.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("ipc endpoints and IPv6 (libzmq test_abstract_ipc.cpp, test_rebind_ipc.cpp, test_pair_tcp / tcp6)", () => {
  test("test_abstract_ipc.cpp: ipc://@name (Linux abstract namespace) binds, connects and reports lastEndpoint", async () => {
    const a = new zmq.Pair();
    const b = new zmq.Pair();
    const address = `ipc://@zmq-ts-sem-${randomBytes(5).toString("hex")}`;
    try {
      await a.bind(address);
      assert.equal(a.lastEndpoint, address);
      b.connect(address);
      await b.send("abstract");
      assert.deepEqual(str(await within(a.receive(), T, "message")), ["abstract"]);
      await a.send("back");
      assert.deepEqual(str(await within(b.receive(), T, "reply")), ["back"]);
    } finally {
      a.close();
      b.close();
    }
  });

  test("binding over a stale socket file left by a SIGKILLed process works", async () => {
    const path = tmpPath("stale");
    const child = spawn(process.execPath, [
      "-e", "require('net').createServer().listen(process.argv.at(-1), () => console.log('ready'))", path,
    ], { stdio: ["ignore", "pipe", "inherit"] });
    const a = new zmq.Pair();
    const b = new zmq.Pair();
    try {
      await within(new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
        child.on("exit", (code) => reject(new Error(`child exited early (${code})`)));
      }), T, "child listening on the unix socket");
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGKILL");
      await within(exited, T, "child exit");
      assert.ok(statSync(path).isSocket(), "the killed process left its socket file behind");
      await a.bind(`ipc://${path}`);
      b.connect(`ipc://${path}`);
      await b.send("over the stale path");
      assert.deepEqual(str(await within(a.receive(), T, "message")), ["over the stale path"]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      a.close();
      b.close();
      rmSync(path, { force: true });
    }
  });

  test("binding to a path that is a regular file fails with a coded error and leaves the file alone", async (t) => {
    const path = tmpPath("regular");
    writeFileSync(path, "precious data");
    const a = new zmq.Pair();
    try {
      const err = await a.bind(`ipc://${path}`).then(() => null, (e: unknown) => e as zmq.ZmqError);
      assert.ok(err instanceof Error, "bind must fail");
      t.diagnostic(`bind over a regular file: code=${err.code} errno=${err.errno} message=${JSON.stringify(err.message)} address=${err.address}`);
      assert.equal(typeof err.code, "string");
      assert.equal(typeof err.errno, "number");
      assert.equal(err.address, `ipc://${path}`);
      assert.equal(existsSync(path) && readFileSync(path, "utf8"), "precious data");
    } finally {
      a.close();
      rmSync(path, { force: true });
    }
  });

  test("IPv6: tcp://[::1]:* binds, lastEndpoint is tcp://[::1]:port, and a connect to it works", async (t) => {
    try {
      await freePort("::1");
    } catch {
      t.skip("::1 is not available here");
      return;
    }
    const a = new zmq.Pair({ ipv6: true });
    const b = new zmq.Pair({ ipv6: true });
    try {
      await a.bind("tcp://[::1]:*");
      assert.match(a.lastEndpoint!, /^tcp:\/\/\[::1\]:\d+$/);
      b.connect(a.lastEndpoint!);
      await b.send("v6");
      assert.deepEqual(str(await within(a.receive(), T, "message over ::1")), ["v6"]);
    } finally {
      a.close();
      b.close();
    }
  });
});

test("STREAM connect(addr, {routingId}): send([id, data]) right after connect is queued and written once the TCP peer is up (libzmq test_connect_rid)", async () => {
  const { createServer } = await import("node:net");
  const server = createServer((c) => c.on("data", (d) => c.write(d)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const stream = new zmq.Stream();
  try {
    stream.connect(`tcp://127.0.0.1:${port}`, { routingId: "peer-1" });
    await stream.send(["peer-1", "early"]);
    const first = await within(stream.receive(), 5000, "connect notification");
    assert.deepEqual(first.map(String), ["peer-1", ""]);
    const echo = await within(stream.receive(), 5000, "echo");
    assert.deepEqual(echo.map(String), ["peer-1", "early"]);
  } finally {
    stream.close();
    server.close();
  }
});
