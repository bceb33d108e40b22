/**
 * Queue semantics: high-water marks as libzmq counts them, linger on close, conflate,
 * and not starving the event loop. Each test names the libzmq test, RFC or zeromq.js
 * test it mirrors.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import * as zmq from "../src/index.js";
import { within, endpointFor, str } from "./helpers/util.js";

const T = 5000;

type Sender = { send(msg: unknown): Promise<void> };
type Receiver = { receive(): Promise<Buffer[]>; receiveTimeout: number };

/** Sends until a send is refused (the socket must have sendTimeout 0); returns how many were taken. */
async function sendUntilEagain(sock: Sender, max: number, make: (i: number) => unknown = (i) => String(i)): Promise<number> {
  for (let n = 0; n < max; n++) {
    try {
      await sock.send(make(n));
    } catch (e) {
      assert.equal((e as zmq.ZmqError).code, "EAGAIN", `send #${n} failed with ${(e as Error).message}`);
      return n;
    }
  }
  return max;
}

/** Receives everything queued now (receiveTimeout 0): the messages, in order. */
async function drain(sock: Receiver): Promise<Buffer[][]> {
  const saved = sock.receiveTimeout;
  sock.receiveTimeout = 0;
  const out: Buffer[][] = [];
  try {
    for (;;) {
      try {
        out.push(await sock.receive());
      } catch (e) {
        assert.equal((e as zmq.ZmqError).code, "EAGAIN");
        return out;
      }
    }
  } finally {
    sock.receiveTimeout = saved;
  }
}

/** Receives exactly n messages, each within the overall timeout. */
async function receiveN(sock: { receive(): Promise<Buffer[]> }, n: number, ms = T, what = `${n} messages`): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  await within((async () => {
    while (out.length < n) out.push(await sock.receive());
  })(), ms, `${what} (got ${out.length})`);
  return out;
}

function waitEvent<E extends zmq.EventType>(sock: zmq.Socket, type: E, ms = T): Promise<zmq.EventOfType<E>> {
  return within(new Promise<zmq.EventOfType<E>>((resolve) => {
    const fn = (ev: zmq.EventOfType<E>) => {
      sock.events.off(type, fn);
      resolve(ev);
    };
    sock.events.on(type, fn);
  }), ms, `event ${type}`);
}

// ---------------------------------------------------------------------------------------

describe("high-water marks (libzmq tests/test_hwm.cpp)", () => {
  /** test_hwm.cpp count_msg(): PULL binds (or connects second), PUSH sends with DONTWAIT until EAGAIN. */
  async function countMsg(sndhwm: number | null, rcvhwm: number | null, order: "bind-first" | "connect-first", max = 10_000) {
    const address = endpointFor("inproc");
    const pull = new zmq.Pull();
    const push = new zmq.Push({ sendTimeout: 0 });
    if (rcvhwm !== null) pull.receiveHighWaterMark = rcvhwm;
    if (sndhwm !== null) push.sendHighWaterMark = sndhwm;
    try {
      if (order === "bind-first") {
        await pull.bind(address);
        push.connect(address);
      } else {
        push.connect(address);
        await pull.bind(address);
      }
      const sent = await sendUntilEagain(push, max);
      const got = await drain(pull);
      assert.equal(got.length, sent, "every message taken by send() is received");
      for (let i = 0; i < got.length; i++) assert.equal(got[i]![0]!.toString(), String(i));
      // "Now it should be possible to send one more."
      await push.send("one more");
      assert.deepEqual(str(await within(pull.receive(), T, "one more")), ["one more"]);
      return sent;
    } finally {
      push.close();
      pull.close();
    }
  }

  test("test_hwm.cpp test_defaults: inproc PUSH->PULL with default HWMs takes exactly 2000 (SNDHWM 1000 + RCVHWM 1000)", async () => {
    assert.equal(await countMsg(null, null, "bind-first"), 2000);
  });

  test("test_hwm.cpp: SNDHWM 1 + RCVHWM 1 -> exactly 2 (bind first)", async () => {
    assert.equal(await countMsg(1, 1, "bind-first"), 2);
  });

  test("test_hwm.cpp: SNDHWM 1 + RCVHWM 1 -> exactly 2 (connect first)", async () => {
    assert.equal(await countMsg(1, 1, "connect-first"), 2);
  });

  test("test_hwm.cpp: HWM 0 + 0 (no limit) -> all 10000 taken (bind first and connect first)", async () => {
    assert.equal(await countMsg(0, 0, "bind-first"), 10_000);
    assert.equal(await countMsg(0, 0, "connect-first"), 10_000);
  });

  test("test_hwm.cpp: one side unlimited (1/0 and 0/1) -> all 10000 taken", async () => {
    assert.equal(await countMsg(1, 0, "bind-first"), 10_000);
    assert.equal(await countMsg(0, 1, "bind-first"), 10_000);
  });

  test("test_sockopt_hwm.cpp test_change_before_connected: PULL (RCVHWM 2) connects, PUSH (SNDHWM 2) binds -> exactly 4", async () => {
    const address = endpointFor("inproc");
    const push = new zmq.Push({ sendHighWaterMark: 2, sendTimeout: 0 });
    const pull = new zmq.Pull({ receiveHighWaterMark: 2 });
    try {
      pull.connect(address);
      await push.bind(address);
      assert.equal(push.sendHighWaterMark, 2);
      assert.equal(await sendUntilEagain(push, 10_000), 4);
    } finally {
      push.close();
      pull.close();
    }
  });

  test("test_sockopt_hwm.cpp test_change_after_connected: SNDHWM raised from 1 to 5 after the peers are joined -> exactly 6", async () => {
    const address = endpointFor("inproc");
    const push = new zmq.Push({ sendHighWaterMark: 1, sendTimeout: 0 });
    const pull = new zmq.Pull({ receiveHighWaterMark: 1 });
    try {
      pull.connect(address);
      await push.bind(address);
      push.sendHighWaterMark = 5;
      assert.equal(push.sendHighWaterMark, 5);
      assert.equal(await sendUntilEagain(push, 10_000), 6, "the new SNDHWM applies to the existing pipe (5 + RCVHWM 1)");
    } finally {
      push.close();
      pull.close();
    }
  });

  test("test_sockopt_hwm.cpp (both sides): PUSH SNDHWM 1->5, then PULL RCVHWM 1->5 after joining -> exactly 10 (libzmq pipe_t::set_hwms with the peer's boost)", async () => {
    const address = endpointFor("inproc");
    const push = new zmq.Push({ sendHighWaterMark: 1, sendTimeout: 0 });
    const pull = new zmq.Pull({ receiveHighWaterMark: 1 });
    try {
      pull.connect(address);
      await push.bind(address);
      push.sendHighWaterMark = 5;
      pull.receiveHighWaterMark = 5;
      assert.equal(await sendUntilEagain(push, 10_000), 10, "5 (new SNDHWM) + 5 (new RCVHWM)");
      assert.equal((await drain(pull)).length, 10);
    } finally {
      push.close();
      pull.close();
    }
  });

  test("test_hwm.cpp test_inproc_connect_and_close_first: SNDHWM 1, connect, send, close, then bind -> the 1 queued message is received", async () => {
    const address = endpointFor("inproc");
    const push = new zmq.Push({ sendTimeout: 0, sendHighWaterMark: 1 });
    const pull = new zmq.Pull({ receiveHighWaterMark: 0 });
    try {
      push.connect(address);
      const sent = await sendUntilEagain(push, 10_000);
      assert.equal(sent, 1, "SNDHWM 1 with no binder yet: one message queued");
      push.close();
      await pull.bind(address);
      const got = await drain(pull);
      assert.equal(got.length, sent, "a closed (lingering) inproc connecter's queued message reaches the later binder");
    } finally {
      push.close();
      pull.close();
    }
  });
});

describe("PUB/XPUB and ROUTER at the mark (libzmq test_hwm_pubsub.cpp, test_xpub_nodrop.cpp, test_router_mandatory_hwm.cpp)", () => {
  test("test_hwm_pubsub.cpp / RFC 29: PUB at the mark drops silently: 5000 sends resolve at once, the SUB gets exactly the first 2000 (inproc)", async () => {
    const address = endpointFor("inproc");
    const pub = new zmq.Publisher();
    const sub = new zmq.Subscriber();
    try {
      await pub.bind(address);
      sub.connect(address);
      sub.subscribe();
      const start = Date.now();
      for (let i = 0; i < 5000; i++) {
        // Never blocks: every send resolves (bounded so a block fails the test instead of hanging it).
        await within(pub.send(String(i)), 1000, `PUB send #${i}`);
      }
      assert.ok(Date.now() - start < 3000, "PUB never waits at the mark");
      const got = await drain(sub);
      assert.equal(got.length, 2000, "inproc pipe holds SNDHWM + RCVHWM; the rest are dropped");
      assert.deepEqual(got.map((m) => m[0]!.toString()), Array.from({ length: 2000 }, (_, i) => String(i)));
      // After draining, PUB delivers again.
      await pub.send("again");
      assert.deepEqual(str(await within(sub.receive(), T, "message after drain")), ["again"]);
    } finally {
      pub.close();
      sub.close();
    }
  });

  test("test_hwm_pubsub.cpp over tcp: PUB with a SUB that does not read never blocks; the SUB later sees at most SNDHWM+RCVHWM-ish, in order", async () => {
    const pub = new zmq.Publisher({ sendHighWaterMark: 10 });
    const sub = new zmq.Subscriber({ receiveHighWaterMark: 10 });
    try {
      await pub.bind("tcp://127.0.0.1:*");
      sub.connect(pub.lastEndpoint!);
      sub.subscribe("t");
      // Wait for the subscription to reach the PUB: sentinels until one arrives.
      await within((async () => {
        for (;;) {
          await pub.send("t-probe");
          sub.receiveTimeout = 20;
          try {
            await sub.receive();
            return;
          } catch {
            /* not yet */
          } finally {
            sub.receiveTimeout = -1;
          }
        }
      })(), T, "subscription to reach the PUB");
      await drain(sub);
      const payload = Buffer.alloc(64 * 1024, 1);
      const start = Date.now();
      for (let i = 0; i < 2000; i++) await within(pub.send(["t", String(i), payload]), 1000, `PUB send #${i}`);
      assert.ok(Date.now() - start < 4000, "PUB never waits at the mark");
      await sleep(200);
      const got = await drain(sub);
      assert.ok(got.length > 0, "some messages arrive");
      assert.ok(got.length < 2000, `messages beyond the marks (+ socket buffers) are dropped, got ${got.length}`);
      const seq = got.map((m) => Number(m[1]!.toString()));
      for (let i = 1; i < seq.length; i++) assert.ok(seq[i]! > seq[i - 1]!, "in order, no duplicates");
    } finally {
      pub.close();
      sub.close();
    }
  });

  test("test_hwm_pubsub.cpp test_blocking / test_xpub_nodrop.cpp: XPUB noDrop + sendTimeout 0 gives EAGAIN at the mark (2000 inproc) and loses nothing", async () => {
    const address = endpointFor("inproc");
    const xpub = new zmq.XPublisher({ noDrop: true, sendTimeout: 0 });
    const sub = new zmq.Subscriber();
    try {
      await xpub.bind(address);
      sub.connect(address);
      sub.subscribe();
      assert.deepEqual([...(await within(xpub.receive(), T, "subscription"))[0]!], [1]);
      const sent = await sendUntilEagain(xpub, 6000);
      assert.equal(sent, 2000, "EAGAIN exactly at SNDHWM + RCVHWM");
      const got = await drain(sub);
      assert.equal(got.length, sent, "nothing dropped");
      // Room again: the send goes through.
      await xpub.send("end");
      assert.deepEqual(str(await within(sub.receive(), T, "end")), ["end"]);
    } finally {
      xpub.close();
      sub.close();
    }
  });

  test("test_router_mandatory_hwm.cpp: ROUTER at the mark drops (inproc: exactly 2000 of 3000 arrive)", async () => {
    const address = endpointFor("inproc");
    const router = new zmq.Router();
    const dealer = new zmq.Dealer({ routingId: "D" });
    try {
      await router.bind(address);
      dealer.connect(address);
      for (let i = 0; i < 3000; i++) await within(router.send(["D", String(i)]), 1000, `ROUTER send #${i}`);
      const got = await drain(dealer);
      assert.equal(got.length, 2000);
      assert.equal(got[1999]![0]!.toString(), "1999");
    } finally {
      router.close();
      dealer.close();
    }
  });

  test("test_router_mandatory_hwm.cpp: ROUTER mandatory at the mark: EAGAIN with sendTimeout 0, and a waiting send resumes when the peer reads", async () => {
    const address = endpointFor("inproc");
    const router = new zmq.Router({ mandatory: true, sendTimeout: 0 });
    const dealer = new zmq.Dealer({ routingId: "D", receiveHighWaterMark: 1 });
    router.sendHighWaterMark = 1;
    try {
      await router.bind(address);
      dealer.connect(address);
      const sent = await sendUntilEagain({ send: (m) => router.send(["D", m as string]) }, 100);
      assert.equal(sent, 2, "SNDHWM 1 + RCVHWM 1");
      // Without a timeout the send waits (it is not dropped) ...
      router.sendTimeout = -1;
      let resolved = false;
      const waiting = router.send(["D", "late"]).then(() => (resolved = true));
      await sleep(50);
      assert.equal(resolved, false, "mandatory send waits at the mark");
      // ... and goes once the peer reads.
      assert.deepEqual(str(await within(dealer.receive(), T, "first")), ["0"]);
      await within(waiting, T, "waiting mandatory send");
      const rest = await receiveN(dealer, 2);
      assert.deepEqual(rest.map((m) => m[0]!.toString()), ["1", "late"]);
      // Unknown peer under mandatory: EHOSTUNREACH.
      await assert.rejects(router.send(["nobody", "x"]), { code: "EHOSTUNREACH" });
    } finally {
      router.close();
      dealer.close();
    }
  });

  test("RFC 30 over tcp: PUSH with a peer that does not read eventually blocks (EAGAIN at sendTimeout); once read, every message arrives in order", async () => {
    const pull = new zmq.Pull({ receiveHighWaterMark: 10 });
    const push = new zmq.Push({ sendHighWaterMark: 10, sendTimeout: 250 });
    try {
      await pull.bind("tcp://127.0.0.1:*");
      const handshake = waitEvent(push, "handshake");
      push.connect(pull.lastEndpoint!);
      await handshake;
      const payload = Buffer.alloc(64 * 1024, 7);
      const sent = await sendUntilEagain(push, 5000, (i) => [String(i), payload]);
      assert.ok(sent < 5000, "the PUSH blocks once the marks and the socket buffers are full");
      assert.ok(sent >= 10, `at least SNDHWM go before blocking (got ${sent})`);
      const got = await receiveN(pull, sent, 10_000);
      assert.deepEqual(got.map((m) => Number(m[0]!.toString())), Array.from({ length: sent }, (_, i) => i));
      assert.ok(got.every((m) => m[1]!.equals(payload)));
      // Nothing extra.
      assert.equal((await drain(pull)).length, 0);
    } finally {
      push.close();
      pull.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("linger (libzmq doc/zmq_setsockopt ZMQ_LINGER; reliability plan D7)", () => {
  const COUNT = 100;
  const payload = Buffer.alloc(1024, 3);

  for (const linger of [-1, 1000] as const) {
    test(`linger ${linger}: PUSH connects, sends ${COUNT} and closes at once (connection not up yet) -> the PULL gets all ${COUNT}`, async () => {
      const pull = new zmq.Pull();
      const push = new zmq.Push();
      if (linger !== -1) push.linger = linger;
      try {
        await pull.bind("tcp://127.0.0.1:*");
        push.connect(pull.lastEndpoint!);
        for (let i = 0; i < COUNT; i++) await push.send([String(i), payload]);
        push.close();
        const got = await receiveN(pull, COUNT, 1000);
        assert.deepEqual(got.map((m) => Number(m[0]!.toString())), Array.from({ length: COUNT }, (_, i) => i));
      } finally {
        push.close();
        pull.close();
      }
    });

    test(`linger ${linger}: PUSH whose tcp connection is up but whose ZMTP handshake is not, sends ${COUNT} and closes -> the PULL gets all ${COUNT}`, async () => {
      const pull = new zmq.Pull();
      const push = new zmq.Push();
      if (linger !== -1) push.linger = linger;
      try {
        await pull.bind("tcp://127.0.0.1:*");
        const connected = waitEvent(push, "connect");
        push.connect(pull.lastEndpoint!);
        await connected; // "connect" is emitted before the greeting is exchanged
        for (let i = 0; i < COUNT; i++) await push.send([String(i), payload]);
        push.close();
        const got = await receiveN(pull, COUNT, 1000);
        assert.deepEqual(got.map((m) => Number(m[0]!.toString())), Array.from({ length: COUNT }, (_, i) => i));
      } finally {
        push.close();
        pull.close();
      }
    });

    test(`linger ${linger}: PUSH connected (handshake done), sends ${COUNT} and closes at once -> the PULL gets all ${COUNT}`, async () => {
      const pull = new zmq.Pull();
      const push = new zmq.Push();
      if (linger !== -1) push.linger = linger;
      try {
        await pull.bind("tcp://127.0.0.1:*");
        const handshake = waitEvent(push, "handshake");
        push.connect(pull.lastEndpoint!);
        await handshake;
        for (let i = 0; i < COUNT; i++) await push.send([String(i), payload]);
        push.close();
        const got = await receiveN(pull, COUNT, 1000);
        assert.deepEqual(got.map((m) => Number(m[0]!.toString())), Array.from({ length: COUNT }, (_, i) => i));
      } finally {
        push.close();
        pull.close();
      }
    });

    test(`linger ${linger}: bound PUSH with a connected PULL, sends ${COUNT} and closes at once -> the PULL gets all ${COUNT}`, async () => {
      const push = new zmq.Push();
      const pull = new zmq.Pull();
      if (linger !== -1) push.linger = linger;
      try {
        await push.bind("tcp://127.0.0.1:*");
        const handshake = waitEvent(pull, "handshake");
        pull.connect(push.lastEndpoint!);
        await handshake;
        for (let i = 0; i < COUNT; i++) await push.send([String(i), payload]);
        push.close();
        const got = await receiveN(pull, COUNT, 1000);
        assert.equal(got.length, COUNT);
      } finally {
        push.close();
        pull.close();
      }
    });
  }

  test("linger 0: close right after sending does not crash or hang; the socket ends at once", async () => {
    const pull = new zmq.Pull();
    const push = new zmq.Push({ linger: 0 });
    try {
      await pull.bind("tcp://127.0.0.1:*");
      const handshake = waitEvent(push, "handshake");
      push.connect(pull.lastEndpoint!);
      await handshake;
      const ended = waitEvent(push, "end", 1000);
      for (let i = 0; i < COUNT; i++) await push.send([String(i), payload]);
      push.close();
      await ended;
      assert.equal(push.closed, true);
      // Whatever made it is whole and in order; losing the rest is allowed.
      await sleep(100);
      const got = await drain(pull);
      assert.ok(got.length <= COUNT);
      got.forEach((m, i) => assert.equal(m[0]!.toString(), String(i)));
    } finally {
      push.close();
      pull.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("conflate (libzmq tests/test_conflate.cpp)", () => {
  for (const transport of ["tcp", "inproc"] as const) {
    test(`test_conflate.cpp over ${transport}: PULL with conflate receives only the last of 10`, async () => {
      const pull = new zmq.Pull({ conflate: true });
      const push = new zmq.Push();
      try {
        const ep = endpointFor(transport);
        await pull.bind(ep);
        push.connect(transport === "tcp" ? pull.lastEndpoint! : ep);
        for (let i = 0; i < 10; i++) await push.send(String(i));
        await sleep(300); // SETTLE_TIME, as the libzmq test does: let all 10 arrive
        assert.deepEqual(str(await within(pull.receive(), T, "conflated message")), ["9"]);
        assert.equal((await drain(pull)).length, 0, "nothing but the last");
      } finally {
        push.close();
        pull.close();
      }
    });
  }

  for (const transport of ["tcp", "inproc"] as const) {
    test(`conflate on SUB over ${transport}: after 10 publications only the last is received`, async () => {
      const pub = new zmq.Publisher();
      const sub = new zmq.Subscriber({ conflate: true });
      try {
        const ep = endpointFor(transport);
        await pub.bind(ep);
        sub.connect(transport === "tcp" ? pub.lastEndpoint! : ep);
        sub.subscribe("t");
        // Wait until subscribed: probes until one arrives.
        await within((async () => {
          sub.receiveTimeout = 20;
          try {
            for (;;) {
              await pub.send("t-probe");
              try {
                await sub.receive();
                return;
              } catch {
                /* not yet */
              }
            }
          } finally {
            sub.receiveTimeout = -1;
          }
        })(), T, "subscription");
        await sleep(50);
        await drain(sub);
        for (let i = 0; i < 10; i++) await pub.send(["t", String(i)]);
        await sleep(300); // SETTLE_TIME
        assert.deepEqual(str(await within(sub.receive(), T, "conflated message")), ["t", "9"]);
        assert.equal((await drain(sub)).length, 0, "nothing but the last");
      } finally {
        pub.close();
        sub.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------

/*
 * zeromq.js's test sends 2500 messages and wants a setInterval(0) to run 3 times; at
 * zeromq.js's ~50k msg/s that is 50 ms of work. We do 2500 in 2-3 ms, so the same count
 * proves nothing either way. The property we keep: however long a tight `await` loop
 * runs, timers keep firing through it (the loop budget yields every 0.5 ms; we ask for
 * at least one tick per 50 ms, a wide margin for a loaded CI machine — a starved loop
 * gives 0, as disabling the budget shows).
 * 20,000 messages make the loop long enough for that to be measured.
 */
describe("event loop is never starved (zeromq.js socket-send-receive test 'should not starve event loop')", () => {
  async function ticksDuring(fn: () => Promise<void>): Promise<{ ticks: number; ms: number }> {
    let ticks = 0;
    const iv = setInterval(() => ticks++, 0);
    const start = performance.now();
    try {
      await fn();
    } finally {
      clearInterval(iv);
    }
    return { ticks, ms: performance.now() - start };
  }

  const assertTimersRan = ({ ticks, ms }: { ticks: number; ms: number }, what: string) =>
    assert.ok(ticks >= Math.max(1, Math.floor(ms / 50)), `timers ran ${ticks} times in ${ms.toFixed(1)} ms of ${what}`);

  /** PUSH -> PULL linked over the transport, HWMs high enough that 2500 messages never block. */
  async function pair(transport: "inproc" | "tcp") {
    const pull = new zmq.Pull({ receiveHighWaterMark: 25_000 });
    const push = new zmq.Push({ sendHighWaterMark: 25_000 });
    const ep = endpointFor(transport);
    await pull.bind(ep);
    const handshake = transport === "tcp" ? waitEvent(push, "handshake") : Promise.resolve();
    push.connect(transport === "tcp" ? pull.lastEndpoint! : ep);
    await handshake;
    return { push, pull };
  }

  const n = 20_000;

  for (const transport of ["inproc", "tcp"] as const) {
    test(`${n} awaited sends over ${transport} PUSH->PULL let timers run throughout`, async () => {
      const { push, pull } = await pair(transport);
      try {
        const run = await within(ticksDuring(async () => {
          for (let i = 0; i < n; i++) await push.send(String(i));
        }), T, `${n} sends`);
        await receiveN(pull, n);
        assertTimersRan(run, `${n} sends`);
      } finally {
        push.close();
        pull.close();
      }
    });

    test(`${n} awaited receives (all already queued) over ${transport} PUSH->PULL let timers run throughout`, async () => {
      const { push, pull } = await pair(transport);
      try {
        for (let i = 0; i < n; i++) await push.send(String(i));
        // Wait until the last one is queued at the PULL (tcp): a second PULL-side probe is not
        // possible, so give the bytes time to arrive; inproc is queued at once.
        if (transport === "tcp") await sleep(300);
        const got: string[] = [];
        const run = await within(ticksDuring(async () => {
          for (let i = 0; i < n; i++) got.push((await pull.receive())[0]!.toString());
        }), T, `${n} receives`);
        assert.equal(got[n - 1], String(n - 1));
        assertTimersRan(run, `${n} receives`);
      } finally {
        push.close();
        pull.close();
      }
    });
  }
});
