/**
 * Routing options: ROUTER handover / probe / connect routing ids, REQ relaxed and
 * correlate, XPUB verbosity / welcome message / manual mode / unsubscribe on
 * disconnect. Each test names the libzmq test or RFC it mirrors.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import * as zmq from "../src/index.js";
import { within, endpointFor, str } from "./helpers/util.js";

const T = 5000;

function waitEvents<E extends zmq.EventType>(sock: zmq.Socket, type: E, count: number, ms = T): Promise<zmq.EventOfType<E>[]> {
  const got: zmq.EventOfType<E>[] = [];
  return within(new Promise<zmq.EventOfType<E>[]>((resolve) => {
    const fn = (ev: zmq.EventOfType<E>) => {
      got.push(ev);
      if (got.length === count) {
        sock.events.off(type, fn);
        resolve(got);
      }
    };
    sock.events.on(type, fn);
  }), ms, `${count} x event ${type}`);
}

/** Receives everything queued now (receiveTimeout 0). */
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

/** Asserts that nothing arrives within `ms` (the only place a short wait is used: proving absence). */
async function assertNothing(sock: { receive(): Promise<Buffer[]>; receiveTimeout: number }, ms: number, what: string) {
  await sleep(ms);
  const got = await drain(sock);
  assert.deepEqual(got.map(str), [], `${what}: expected nothing`);
}

/** A tcp port with nobody listening (bound then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sub = (frame: Buffer) => `${frame[0] === 1 ? "+" : frame[0] === 0 ? "-" : "?"}${frame.subarray(1).toString()}`;

// ---------------------------------------------------------------------------------------

describe("ROUTER options (libzmq test_router_handover.cpp, test_probe_router.cpp, test_connect_rid.cpp)", () => {
  test("test_router_handover.cpp: without handover a second DEALER with the same routing id is ignored; the first keeps the id", async () => {
    const router = new zmq.Router();
    const one = new zmq.Dealer({ routingId: "X" });
    const two = new zmq.Dealer({ routingId: "X" });
    try {
      await router.bind("tcp://127.0.0.1:*");
      const first = waitEvents(router, "handshake", 1);
      one.connect(router.lastEndpoint!);
      await first;
      await one.send("Hello");
      assert.deepEqual(str(await within(router.receive(), T, "hello from one")), ["X", "Hello"]);
      const second = waitEvents(router, "handshake", 1);
      two.connect(router.lastEndpoint!);
      await second;
      await two.send("from two");
      await one.send("from one");
      assert.deepEqual(str(await within(router.receive(), T, "message from one")), ["X", "from one"]);
      await assertNothing(router, 100, "the second DEALER is not routed");
      await router.send(["X", "reply"]);
      assert.deepEqual(str(await within(one.receive(), T, "reply at one")), ["reply"]);
      await assertNothing(two, 50, "the ignored DEALER");
    } finally {
      router.close();
      one.close();
      two.close();
    }
  });

  test("test_router_handover.cpp: with handover the second DEALER with the same routing id takes over", async () => {
    const router = new zmq.Router({ handover: true });
    const one = new zmq.Dealer({ routingId: "X" });
    const two = new zmq.Dealer({ routingId: "X" });
    try {
      await router.bind("tcp://127.0.0.1:*");
      one.connect(router.lastEndpoint!);
      await one.send("Hello");
      assert.deepEqual(str(await within(router.receive(), T, "hello from one")), ["X", "Hello"]);
      two.connect(router.lastEndpoint!);
      // "Get message from dealer to know when connection is ready"
      await two.send("Hello");
      assert.deepEqual(str(await within(router.receive(), T, "hello from two")), ["X", "Hello"]);
      await router.send(["X", "Hello"]);
      assert.deepEqual(str(await within(two.receive(), T, "message at two")), ["Hello"]);
      await assertNothing(one, 50, "the replaced DEALER");
    } finally {
      router.close();
      one.close();
      two.close();
    }
  });

  test("test_probe_router.cpp test_probe_router_dealer: a DEALER with probeRouter makes the ROUTER receive [id, ''] first", async () => {
    const router = new zmq.Router();
    const dealer = new zmq.Dealer({ routingId: "X", probeRouter: true });
    try {
      await router.bind("tcp://127.0.0.1:*");
      dealer.connect(router.lastEndpoint!);
      const probe = await within(router.receive(), T, "probe");
      assert.deepEqual(str(probe), ["X", ""]);
      await router.send(["X", "Hello"]);
      assert.deepEqual(str(await within(dealer.receive(), T, "hello")), ["Hello"]);
    } finally {
      router.close();
      dealer.close();
    }
  });

  test("test_probe_router.cpp test_probe_router_router: a ROUTER client with probeRouter; the reply comes with the server's generated 5-byte id", async () => {
    const server = new zmq.Router();
    const client = new zmq.Router({ routingId: "X", probeRouter: true });
    try {
      await server.bind("tcp://127.0.0.1:*");
      client.connect(server.lastEndpoint!);
      assert.deepEqual(str(await within(server.receive(), T, "probe")), ["X", ""]);
      await server.send(["X", "Hello"]);
      const got = await within(client.receive(), T, "hello");
      assert.equal(got.length, 2);
      assert.equal(got[0]!.length, 5, "generated routing id is 5 bytes");
      assert.equal(got[0]![0], 0, "generated routing id starts with a zero byte");
      assert.equal(got[1]!.toString(), "Hello");
    } finally {
      server.close();
      client.close();
    }
  });

  for (const transport of ["tcp", "inproc"] as const) {
    test(`test_connect_rid.cpp / zeromq.js: ROUTER connect(addr, {routingId}) + mandatory: send before the peer exists is queued, delivered once it binds (${transport})`, async () => {
      const router = new zmq.Router({ mandatory: true, sendTimeout: 0 });
      const peer = new zmq.Dealer();
      try {
        const address = transport === "tcp" ? `tcp://127.0.0.1:${await freePort()}` : endpointFor("inproc");
        router.connect(address, { routingId: "x" });
        await router.send(["x", "early"]);
        await peer.bind(address);
        assert.deepEqual(str(await within(peer.receive(), T, "early message")), ["early"]);
        await peer.send("back");
        assert.deepEqual(str(await within(router.receive(), T, "reply")), ["x", "back"]);
      } finally {
        router.close();
        peer.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------

describe("REQ relaxed / correlate (libzmq test_req_relaxed.cpp, test_req_correlate.cpp)", () => {
  test("test_req_correlate.cpp: the request carries a 4-byte id; a reply with a wrong id is dropped, the right one delivered", async () => {
    const router = new zmq.Router();
    const req = new zmq.Request({ correlate: true });
    try {
      await router.bind("tcp://127.0.0.1:*");
      req.connect(router.lastEndpoint!);
      await req.send("X");
      const got = await within(router.receive(), T, "request");
      assert.equal(got.length, 4, "[peer id, request id, '', 'X']");
      const [peer, reqId, delim, body] = got as [Buffer, Buffer, Buffer, Buffer];
      assert.equal(reqId.length, 4);
      assert.equal(delim.length, 0);
      assert.equal(body.toString(), "X");
      const wrong = Buffer.alloc(4);
      wrong.writeUInt32BE((reqId.readUInt32BE(0) + 1) >>> 0);
      await router.send([peer, wrong, "", "WRONG"]);
      await router.send([peer, reqId, "", "RIGHT"]);
      assert.deepEqual(str(await within(req.receive(), T, "reply")), ["RIGHT"]);
    } finally {
      router.close();
      req.close();
    }
  });

  test("test_req_relaxed.cpp: relaxed alone allows a second send before the reply", async () => {
    const router = new zmq.Router();
    const req = new zmq.Request({ relaxed: true });
    try {
      await router.bind("tcp://127.0.0.1:*");
      req.connect(router.lastEndpoint!);
      await req.send("A");
      await req.send("B"); // strict REQ would throw EFSM
      const a = await within(router.receive(), T, "A");
      const b = await within(router.receive(), T, "B");
      assert.deepEqual(str(a).slice(1), ["", "A"]);
      assert.deepEqual(str(b).slice(1), ["", "B"]);
      await router.send([b[0]!, "", "reply-B"]);
      assert.deepEqual(str(await within(req.receive(), T, "reply")), ["reply-B"]);
    } finally {
      router.close();
      req.close();
    }
  });

  test("test_req_relaxed.cpp (ROUTER peer): correlate + relaxed: a late reply to the first request is dropped, the reply to the second delivered", async () => {
    const router = new zmq.Router();
    const req = new zmq.Request({ relaxed: true, correlate: true });
    try {
      await router.bind("tcp://127.0.0.1:*");
      req.connect(router.lastEndpoint!);
      await req.send("first");
      const r1 = await within(router.receive(), T, "first request");
      await req.send("second");
      const r2 = await within(router.receive(), T, "second request");
      assert.equal(r1[3]!.toString(), "first");
      assert.equal(r2[3]!.toString(), "second");
      assert.ok(!r1[1]!.equals(r2[1]!), "each request has its own id");
      // Late reply to the first, then the reply to the second.
      await router.send([r1[0]!, r1[1]!, "", "late"]);
      await router.send([r2[0]!, r2[1]!, "", "answer"]);
      assert.deepEqual(str(await within(req.receive(), T, "reply")), ["answer"]);
      // Another ordinary cycle.
      await req.send("third");
      const r3 = await within(router.receive(), T, "third request");
      await router.send([r3[0]!, r3[1]!, "", "three"]);
      assert.deepEqual(str(await within(req.receive(), T, "third reply")), ["three"]);
    } finally {
      router.close();
      req.close();
    }
  });

  test("test_req_relaxed.cpp cases 1-3: five REPs, replies only from the last asked peer, pipes not closed by a second send (issue #1690)", async () => {
    const req = new zmq.Request({ relaxed: true, correlate: true });
    const reps = Array.from({ length: 5 }, () => new zmq.Reply());
    try {
      await req.bind("tcp://127.0.0.1:*");
      // Connect one at a time so that the round-robin order is rep[0], rep[1], ...
      for (const rep of reps) {
        const hs = waitEvents(req, "handshake", 1);
        rep.connect(req.lastEndpoint!);
        await hs;
      }
      // Case 1: second send() before a reply arrives.
      await req.send(["A", "B"]);
      assert.deepEqual(str(await within(reps[0]!.receive(), T, "A B at rep0")), ["A", "B"]);
      await req.send(["C", "D"]);
      assert.deepEqual(str(await within(reps[1]!.receive(), T, "C D at rep1")), ["C", "D"]);
      await reps[0]!.send("WRONG");
      await reps[1]!.send("OK");
      assert.deepEqual(str(await within(req.receive(), T, "OK")), ["OK"]);
      // A standard cycle.
      await req.send("E");
      assert.deepEqual(str(await within(reps[2]!.receive(), T, "E at rep2")), ["E"]);
      await reps[2]!.send(["F", "G"]);
      assert.deepEqual(str(await within(req.receive(), T, "F G")), ["F", "G"]);
      // Case 2: second send() after a reply is already waiting at the REQ.
      await req.send("H");
      assert.deepEqual(str(await within(reps[3]!.receive(), T, "H at rep3")), ["H"]);
      await reps[3]!.send("BAD");
      await sleep(50); // let BAD arrive at the REQ before the next request
      await req.send("I");
      assert.deepEqual(str(await within(reps[4]!.receive(), T, "I at rep4")), ["I"]);
      await reps[4]!.send("GOOD");
      assert.deepEqual(str(await within(req.receive(), T, "GOOD")), ["GOOD"]);
      // Case 3 (#1690): the pipe to rep[0] is still open, so it is next in turn.
      await req.send("J");
      assert.deepEqual(str(await within(reps[0]!.receive(), T, "J at rep0")), ["J"]);
    } finally {
      req.close();
      for (const r of reps) r.close();
    }
  });

  test("test_req_relaxed.cpp case 4 (#1695): two requests queued before the ROUTER binds; bounced back, only the second is answered", async () => {
    const req = new zmq.Request({ relaxed: true, correlate: true });
    const router = new zmq.Router();
    try {
      const address = `tcp://127.0.0.1:${await freePort()}`;
      req.connect(address);
      await req.send("TO_BE_DISCARDED");
      await req.send("TO_BE_ANSWERED");
      await router.bind(address);
      for (let i = 0; i < 2; i++) await router.send(await within(router.receive(), T, `request ${i}`));
      assert.deepEqual(str(await within(req.receive(), T, "correlated reply")), ["TO_BE_ANSWERED"]);
    } finally {
      req.close();
      router.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("XPUB (libzmq test_xpub_verbose.cpp, test_xpub_welcome_msg.cpp, test_xpub_manual.cpp; RFC 29)", () => {
  async function verbosityRun(verbosity: null | "allSubs" | "allSubsUnsubs"): Promise<string[]> {
    const xpub = new zmq.XPublisher();
    if (verbosity !== null) xpub.verbosity = verbosity;
    const s1 = new zmq.Subscriber();
    const s2 = new zmq.Subscriber();
    const seen: string[] = [];
    const next = async (what: string) => {
      const m = await within(xpub.receive(), T, what);
      assert.equal(m.length, 1);
      seen.push(sub(m[0]!));
    };
    try {
      await xpub.bind("tcp://127.0.0.1:*");
      s1.connect(xpub.lastEndpoint!);
      s1.subscribe("A");
      await next("first subscription");
      s2.connect(xpub.lastEndpoint!);
      s2.subscribe("A");
      s2.subscribe("Z"); // sentinel: everything before it on this pipe has been processed
      await next("s2 message 1");
      if (seen.at(-1) !== "+Z") await next("s2 message 2");
      s1.unsubscribe("A");
      s1.subscribe("Y"); // sentinel
      await next("s1 message 1");
      if (seen.at(-1) !== "+Y") await next("s1 message 2");
      s2.unsubscribe("A");
      s2.subscribe("W"); // sentinel
      await next("s2 message 3");
      if (seen.at(-1) !== "+W") await next("s2 message 4");
      return seen;
    } finally {
      xpub.close();
      s1.close();
      s2.close();
    }
  }

  test("test_xpub_verbose.cpp: verbosity null reports only the first subscription and the last unsubscription of a topic", async () => {
    assert.deepEqual(await verbosityRun(null), ["+A", "+Z", "+Y", "-A", "+W"]);
  });

  test("test_xpub_verbose.cpp: verbosity 'allSubs' reports every subscription, unsubscriptions only the last", async () => {
    assert.deepEqual(await verbosityRun("allSubs"), ["+A", "+A", "+Z", "+Y", "-A", "+W"]);
  });

  test("test_xpub_verbose.cpp (XPUB_VERBOSER): verbosity 'allSubsUnsubs' reports every subscription and every unsubscription", async () => {
    assert.deepEqual(await verbosityRun("allSubsUnsubs"), ["+A", "+A", "+Z", "-A", "+Y", "-A", "+W"]);
  });

  test("test_xpub_welcome_msg.cpp: welcomeMessage arrives at a SUB subscribed to it", async () => {
    const xpub = new zmq.XPublisher({ welcomeMessage: "W" });
    const s = new zmq.Subscriber();
    try {
      await xpub.bind("tcp://127.0.0.1:*");
      s.subscribe("W");
      s.connect(xpub.lastEndpoint!);
      assert.deepEqual(str(await within(xpub.receive(), T, "subscription")), ["\x01W"]);
      assert.deepEqual(str(await within(s.receive(), T, "welcome message")), ["W"]);
    } finally {
      xpub.close();
      s.close();
    }
  });

  test("test_xpub_manual.cpp: manual XPUB sees the subscription and delivers only what it subscribed the peer to", async () => {
    const xpub = new zmq.XPublisher({ manual: true });
    const s = new zmq.Subscriber();
    try {
      await xpub.bind("tcp://127.0.0.1:*");
      s.connect(xpub.lastEndpoint!);
      s.subscribe(""); // the SUB itself accepts everything; the XPUB decides
      assert.deepEqual([...(await within(xpub.receive(), T, "subscription"))[0]!], [1]);
      await xpub.send("B-before"); // not yet subscribed in the XPUB: dropped
      xpub.subscribe("B");
      await xpub.send("A-not-subscribed");
      await xpub.send("B-after");
      assert.deepEqual(str(await within(s.receive(), T, "B-after")), ["B-after"]);
      await assertNothing(s, 50, "manual XPUB delivers only B");
    } finally {
      xpub.close();
      s.close();
    }
  });

  test("RFC 29 / xpub.cpp xpipe_terminated: a SUB that disconnects makes the XPUB receive \\x00topic for each topic it was last on", async () => {
    const xpub = new zmq.XPublisher();
    const s1 = new zmq.Subscriber();
    const s2 = new zmq.Subscriber();
    try {
      await xpub.bind("tcp://127.0.0.1:*");
      s1.connect(xpub.lastEndpoint!);
      s1.subscribe("A", "B");
      const subs = [sub((await within(xpub.receive(), T, "+A"))[0]!), sub((await within(xpub.receive(), T, "+B"))[0]!)];
      assert.deepEqual(subs.sort(), ["+A", "+B"]);
      s2.connect(xpub.lastEndpoint!);
      s2.subscribe("B", "C");
      assert.equal(sub((await within(xpub.receive(), T, "+C"))[0]!), "+C");
      s1.close();
      // A goes (s1 was its only subscriber); B stays (s2 still has it).
      assert.equal(sub((await within(xpub.receive(), T, "-A"))[0]!), "-A");
      await assertNothing(xpub, 100, "B still has a subscriber");
      s2.close();
      const last = [sub((await within(xpub.receive(), T, "-B or -C"))[0]!), sub((await within(xpub.receive(), T, "-B or -C"))[0]!)];
      assert.deepEqual(last.sort(), ["-B", "-C"]);
    } finally {
      xpub.close();
      s1.close();
      s2.close();
    }
  });
});
