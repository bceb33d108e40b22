/**
 * Proxy: zeromq.js's API and errors (test/unit/proxy-*.ts), libzmq's zmq_proxy with a
 * capture socket and zmq_proxy_steerable's control commands and statistics, and
 * back-pressure through the proxy.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import * as zmq from "../../src/index.js";
import { Proxy, parseStatistics } from "../../src/devices/index.js";
import { within, transports } from "../helpers/util.js";
import { T, bindFresh, receiveN, assertSilent, strs, closeAll, until } from "./helpers.js";

function expectError(fn: () => unknown, code: string, message: string): void {
  try {
    fn();
  } catch (e) {
    const err = e as zmq.ZmqError;
    assert.equal(err.message, message);
    assert.equal(err.code, code);
    assert.equal(typeof err.errno, "number");
    return;
  }
  assert.fail(`expected ${code}: ${message}`);
}

describe("Proxy construction (zeromq.js proxy-construction-test)", () => {
  test("too few arguments -> TypeError 'Front-end must be a socket object'", () => {
    assert.throws(() => new (Proxy as any)(), (e: Error) => e instanceof TypeError && e.message === "Front-end must be a socket object");
    const d = new zmq.Dealer();
    try {
      assert.throws(() => new (Proxy as any)(d), (e: Error) => e instanceof TypeError && e.message === "Back-end must be a socket object");
      assert.throws(() => new (Proxy as any)(1, d), (e: Error) => e instanceof TypeError && e.message === "Front-end must be a socket object");
    } finally {
      d.close();
    }
  });

  test("too many arguments -> TypeError 'Expected 2 arguments'", () => {
    const [a, b, c] = [new zmq.Dealer(), new zmq.Dealer(), new zmq.Dealer()];
    try {
      assert.throws(() => new (Proxy as any)(a, b, c), (e: Error) => e instanceof TypeError && e.message.includes("Expected 2 arguments"));
      assert.throws(() => new (Proxy as any)(a, b, {}, 4), (e: Error) => e instanceof TypeError && e.message.includes("Expected 2 arguments"));
    } finally {
      closeAll(a, b, c);
    }
  });

  test("invalid socket -> Error 'Invalid argument' EINVAL", () => {
    expectError(() => new (Proxy as any)({}, {}), "EINVAL", "Invalid argument");
  });

  test("frontEnd / backEnd return the original sockets; options object with capture and control is accepted", () => {
    const [r, d, cap, ctl] = [new zmq.Router(), new zmq.Dealer(), new zmq.Push(), new zmq.Pair()];
    try {
      const p = new Proxy(r, d);
      assert.equal(p.frontEnd, r);
      assert.equal(p.backEnd, d);
      assert.equal(p.capture, null);
      const q = new Proxy(r, d, { capture: cap, control: ctl });
      assert.equal(q.capture, cap);
      assert.equal(q.control, ctl);
      assert.throws(() => new Proxy(r, d, { capture: 5 as any }), TypeError);
      expectError(() => new Proxy(r, d, { control: {} as any }), "EINVAL", "Invalid argument");
      assert.deepEqual(p.statistics(), {
        frontEnd: { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 },
        backEnd: { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 },
      });
    } finally {
      closeAll(r, d, cap, ctl);
    }
  });
});

for (const transport of transports) {
  describe(`Proxy run / terminate errors over ${transport} (zeromq.js proxy-run-test, proxy-terminate-test)`, () => {
    test("front end not bound or connected / closed; back end likewise -> EINVAL", async () => {
      const p1 = new Proxy(new zmq.Router(), new zmq.Dealer());
      const p2 = new Proxy(new zmq.Router(), new zmq.Dealer());
      const p3 = new Proxy(new zmq.Router(), new zmq.Dealer());
      const p4 = new Proxy(new zmq.Router(), new zmq.Dealer());
      try {
        await bindFresh(p1.backEnd, transport);
        expectError(() => p1.run(), "EINVAL", "Front-end socket must be bound or connected");

        await bindFresh(p2.frontEnd, transport);
        await bindFresh(p2.backEnd, transport);
        p2.frontEnd.close();
        expectError(() => p2.run(), "EINVAL", "Front-end socket must be bound or connected");

        await bindFresh(p3.frontEnd, transport);
        expectError(() => p3.run(), "EINVAL", "Back-end socket must be bound or connected");

        await bindFresh(p4.frontEnd, transport);
        await bindFresh(p4.backEnd, transport);
        p4.backEnd.close();
        // `await proxy.run()` in a try block, as zeromq.js's test does, sees the same error.
        await assert.rejects(async () => { await p4.run(); }, (e: zmq.ZmqError) =>
          e.message === "Back-end socket must be bound or connected" && e.code === "EINVAL");
      } finally {
        for (const p of [p1, p2, p3, p4]) closeAll(p.frontEnd, p.backEnd);
      }
    });

    test("terminate() before run() and after termination -> 'Socket is closed' EBADF; run() resolves and closes both ends", async () => {
      const proxy = new Proxy(new zmq.Router(), new zmq.Dealer());
      try {
        await bindFresh(proxy.frontEnd, transport);
        await bindFresh(proxy.backEnd, transport);
        expectError(() => proxy.terminate(), "EBADF", "Socket is closed");
        expectError(() => proxy.pause(), "EBADF", "Socket is closed");
        expectError(() => proxy.resume(), "EBADF", "Socket is closed");
        setTimeout(() => proxy.terminate(), 50);
        await within(proxy.run(), T, "run() to resolve after terminate()");
        assert.equal(proxy.frontEnd.closed, true);
        assert.equal(proxy.backEnd.closed, true);
        expectError(() => proxy.terminate(), "EBADF", "Socket is closed");
      } finally {
        closeAll(proxy.frontEnd, proxy.backEnd);
      }
    });

    test("ROUTER/DEALER queue: REQ clients and REP workers, every reply reaches its client; pause/resume in between (zeromq.js proxy-router-dealer)", async () => {
      const proxy = new Proxy(new zmq.Router(), new zmq.Dealer());
      const clients = [0, 1, 2].map(() => new zmq.Request());
      const workers = [0, 1].map(() => new zmq.Reply());
      try {
        const front = await bindFresh(proxy.frontEnd, transport);
        const back = await bindFresh(proxy.backEnd, transport);
        const done = proxy.run();
        for (const c of clients) c.connect(front);
        for (const w of workers) w.connect(back);
        const served = [0, 0];
        const echo = async (w: zmq.Reply, i: number) => {
          for await (const [msg] of w) {
            served[i]!++;
            await w.send([`${msg!.toString()} via worker ${i}`]);
          }
        };
        const echoing = workers.map((w, i) => echo(w, i));
        const ask = async (c: zmq.Request, ci: number) => {
          for (let k = 0; k < 6; k++) {
            if (ci === 0 && k === 3) {
              proxy.pause();
              proxy.resume();
            }
            await c.send(`client ${ci} request ${k}`);
            const [reply] = await c.receive();
            assert.match(reply!.toString(), new RegExp(`^client ${ci} request ${k} via worker [01]$`));
          }
        };
        await within(Promise.all(clients.map(ask)), T, "every client's six replies");
        assert.equal(served[0]! + served[1]!, 18);
        proxy.terminate();
        await within(done, T, "run() to resolve");
        closeAll(...workers);
        await within(Promise.all(echoing), T, "workers' loops to end");
      } finally {
        closeAll(proxy.frontEnd, proxy.backEnd, ...clients, ...workers);
      }
    });
  });
}

describe("Proxy steering", () => {
  test("pause() stops forwarding (a sentinel stays queued), resume() delivers it", async () => {
    const proxy = new Proxy(new zmq.Pull(), new zmq.Push());
    const producer = new zmq.Push();
    const consumer = new zmq.Pull();
    try {
      const front = await bindFresh(proxy.frontEnd, "tcp");
      const back = await bindFresh(proxy.backEnd, "tcp");
      const done = proxy.run();
      producer.connect(front);
      consumer.connect(back);
      await producer.send("first");
      assert.deepEqual(strs((await receiveN(consumer, 1))[0]!), ["first"]);
      proxy.pause();
      await producer.send("sentinel");
      await assertSilent(consumer, 200, "while paused");
      const paused = proxy.statistics();
      assert.equal(paused.frontEnd.messagesIn, 1, "the paused proxy did not read the sentinel");
      proxy.resume();
      assert.deepEqual(strs((await receiveN(consumer, 1))[0]!), ["sentinel"]);
      proxy.terminate();
      await within(done, T, "run()");
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, producer, consumer);
    }
  });

  test("statistics() counts frames and bytes per side as libzmq 4.3.5 (each part of a multipart message)", async () => {
    const proxy = new Proxy(new zmq.Router(), new zmq.Dealer());
    const client = new zmq.Request({ routingId: "C1" });
    const worker = new zmq.Reply();
    try {
      const front = await bindFresh(proxy.frontEnd, "inproc");
      const back = await bindFresh(proxy.backEnd, "inproc");
      const done = proxy.run();
      client.connect(front);
      worker.connect(back);
      await client.send("hello");
      const [req] = await within(worker.receive(), T, "request");
      assert.equal(req!.toString(), "hello");
      await worker.send("world!");
      assert.equal((await within(client.receive(), T, "reply"))[0]!.toString(), "world!");
      // ROUTER in: [C1, "", hello] = 3 frames, 2+0+5 bytes; back: [C1, "", world!] = 3 frames, 2+0+6.
      assert.deepEqual(proxy.statistics(), {
        frontEnd: { messagesIn: 3, bytesIn: 7, messagesOut: 3, bytesOut: 8 },
        backEnd: { messagesIn: 3, bytesIn: 8, messagesOut: 3, bytesOut: 7 },
      });
      proxy.terminate();
      await within(done, T, "run()");
      assert.equal(proxy.statistics().frontEnd.messagesIn, 3, "the last run's counters stay readable");
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, client, worker);
    }
  });

  test("capture socket gets a copy of every message in both directions", async () => {
    const capture = new zmq.Push();
    const captured = new zmq.Pull();
    const proxy = new Proxy(new zmq.Router(), new zmq.Dealer(), { capture });
    const client = new zmq.Request({ routingId: "client" });
    const worker = new zmq.Reply();
    try {
      const capAddr = await bindFresh(capture, "tcp");
      captured.connect(capAddr);
      const front = await bindFresh(proxy.frontEnd, "tcp");
      const back = await bindFresh(proxy.backEnd, "tcp");
      const done = proxy.run();
      client.connect(front);
      worker.connect(back);
      await client.send(["ping", "two"]);
      const req = await within(worker.receive(), T, "request");
      assert.deepEqual(strs(req), ["ping", "two"]);
      await worker.send("pong");
      assert.deepEqual(strs(await within(client.receive(), T, "reply")), ["pong"]);
      const copies = await receiveN(captured, 2, T, "two captured messages");
      assert.deepEqual(copies.map(strs), [["client", "", "ping", "two"], ["client", "", "pong"]]);
      proxy.terminate();
      await within(done, T, "run()");
      assert.equal(capture.closed, false, "the capture socket stays the caller's");
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, client, worker, capture, captured);
    }
  });

  test("control socket (REP): PAUSE / RESUME / STATISTICS / unknown / TERMINATE as zmq_proxy_steerable", async () => {
    const control = new zmq.Reply();
    const steer = new zmq.Request();
    const proxy = new Proxy(new zmq.Pull(), new zmq.Push(), { control });
    const producer = new zmq.Push();
    const consumer = new zmq.Pull();
    const ask = async (cmd: string) => {
      await steer.send(cmd);
      return within(steer.receive(), T, `reply to ${cmd}`);
    };
    try {
      steer.connect(await bindFresh(control, "inproc"));
      producer.connect(await bindFresh(proxy.frontEnd, "inproc"));
      consumer.connect(await bindFresh(proxy.backEnd, "inproc"));
      const done = proxy.run();
      await producer.send(["a", "bc"]);
      assert.deepEqual(strs((await receiveN(consumer, 1))[0]!), ["a", "bc"]);
      assert.deepEqual(strs(await ask("PAUSE")), [""]);
      await producer.send("sentinel");
      await assertSilent(consumer, 150, "paused by PAUSE");
      const stats = await ask("STATISTICS");
      assert.equal(stats.length, 8);
      assert.ok(stats.every((f) => f.length === 8));
      assert.deepEqual(parseStatistics(stats), {
        frontEnd: { messagesIn: 2, bytesIn: 3, messagesOut: 0, bytesOut: 0 },
        backEnd: { messagesIn: 0, bytesIn: 0, messagesOut: 2, bytesOut: 3 },
      });
      assert.equal(stats[0]!.readBigUInt64LE(), 2n);
      assert.deepEqual(strs(await ask("NONSENSE")), [""], "REP gets an empty reply to anything else");
      assert.deepEqual(strs(await ask("RESUME")), [""]);
      assert.deepEqual(strs((await receiveN(consumer, 1))[0]!), ["sentinel"]);
      assert.deepEqual(strs(await ask("TERMINATE")), [""]);
      await within(done, T, "run() after TERMINATE");
      assert.equal(proxy.frontEnd.closed, true);
      assert.equal(proxy.running, false);
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, producer, consumer, control, steer);
    }
  });

  test("control socket (PAIR): no reply to PAUSE/RESUME, 8 frames to STATISTICS", async () => {
    const control = new zmq.Pair();
    const steer = new zmq.Pair();
    const proxy = new Proxy(new zmq.Pull(), new zmq.Push(), { control });
    const producer = new zmq.Push();
    const consumer = new zmq.Pull();
    try {
      steer.connect(await bindFresh(control, "tcp"));
      producer.connect(await bindFresh(proxy.frontEnd, "tcp"));
      consumer.connect(await bindFresh(proxy.backEnd, "tcp"));
      const done = proxy.run();
      await steer.send("PAUSE");
      await steer.send("STATISTICS");
      const stats = await within(steer.receive(), T, "STATISTICS reply");
      assert.equal(stats.length, 8, "the first reply is STATISTICS': PAUSE got none");
      await producer.send("held");
      await assertSilent(consumer, 150, "paused");
      await steer.send("RESUME");
      assert.deepEqual(strs((await receiveN(consumer, 1))[0]!), ["held"]);
      await steer.send("TERMINATE");
      await within(done, T, "run() after TERMINATE");
      await assertSilent(steer, 50, "PAIR gets no reply to TERMINATE");
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, producer, consumer, control, steer);
    }
  });

  test("a failing send ends run() with its error, as zmq_proxy returns -1 (ROUTER mandatory, unknown peer -> EHOSTUNREACH)", async () => {
    const proxy = new Proxy(new zmq.Pull(), new zmq.Router({ mandatory: true }));
    const producer = new zmq.Push();
    try {
      producer.connect(await bindFresh(proxy.frontEnd, "inproc"));
      await bindFresh(proxy.backEnd, "inproc");
      const done = proxy.run();
      await producer.send(["nobody", "x"]);
      await assert.rejects(within(done, T, "run() to fail"), (e: zmq.ZmqError) => e.code === "EHOSTUNREACH");
      assert.equal(proxy.running, false);
      assert.equal(proxy.frontEnd.closed && proxy.backEnd.closed, true);
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, producer);
    }
  });

  test("closing an end while running ends run()", async () => {
    const proxy = new Proxy(new zmq.Pull(), new zmq.Push());
    try {
      await bindFresh(proxy.frontEnd, "inproc");
      await bindFresh(proxy.backEnd, "inproc");
      const done = proxy.run();
      assert.equal(proxy.running, true);
      proxy.backEnd.close();
      await within(done, T, "run() after a close");
      assert.equal(proxy.frontEnd.closed, true);
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd);
    }
  });
});

describe("Proxy back-pressure", () => {
  /**
   * PUSH producer -> PULL front | proxy | PUSH back -> PULL consumer that does not read.
   * Every queue has HWM 10. The proxy must stop reading once the back end is full and
   * hold at most one message itself; the producer then hits its own mark.
   */
  for (const transport of ["inproc", "tcp"] as const) {
    test(`a stalled consumer stops the proxy, which holds at most one message (${transport}, HWM 10)`, async () => {
      const proxy = new Proxy(new zmq.Pull({ receiveHighWaterMark: 10 }), new zmq.Push({ sendHighWaterMark: 10 }));
      const producer = new zmq.Push({ sendHighWaterMark: 10, sendTimeout: 0 });
      const consumer = new zmq.Pull({ receiveHighWaterMark: 10 });
      try {
        producer.connect(await bindFresh(proxy.frontEnd, transport));
        consumer.connect(await bindFresh(proxy.backEnd, transport));
        const done = proxy.run();
        const payload = Buffer.alloc(transport === "tcp" ? 32 * 1024 : 16, 7);
        let taken = 0;
        let stable = 0;
        // Push until the producer is refused and stays refused (tcp moves data a little later).
        await within((async () => {
          while (stable < 10) {
            try {
              await producer.send([Buffer.from(String(taken)), payload]);
              taken++;
              stable = 0;
            } catch (e) {
              assert.equal((e as zmq.ZmqError).code, "EAGAIN");
              stable++;
              await sleep(20);
            }
            assert.ok(taken < 100_000, "the producer was never refused: something queues without bound");
          }
        })(), T, "the producer to be refused");
        const s = proxy.statistics();
        const held = s.frontEnd.messagesIn / 2 - s.backEnd.messagesOut / 2;
        assert.ok(held <= 1, `the proxy holds ${held} messages`);
        if (transport === "inproc") {
          // Exact: 20 in producer->front (10 + 10), 20 in back->consumer, 1 held.
          assert.equal(taken, 41);
          assert.equal(held, 1);
        } else {
          // Queues of 10 on each side of the connection plus what the loopback socket buffers hold (a few MiB).
          assert.ok(s.backEnd.bytesOut <= 20 * payload.length + 16 * 1024 * 1024, `${s.backEnd.bytesOut} bytes left the proxy`);
        }
        // The consumer now reads everything, in order, and the proxy keeps up.
        const got = await receiveN(consumer, taken, T, "every message taken by the producer");
        got.forEach((m, i) => assert.equal(m[0]!.toString(), String(i)));
        await until(() => proxy.statistics().backEnd.messagesOut === 2 * taken, T, "the counters to settle");
        proxy.terminate();
        await within(done, T, "run()");
      } finally {
        closeAll(proxy.frontEnd, proxy.backEnd, producer, consumer);
      }
    });
  }

  test("a slow consumer behind a queue: 2000 requests flow while the proxy never holds more than one", async () => {
    const proxy = new Proxy(new zmq.Pull({ receiveHighWaterMark: 10 }), new zmq.Push({ sendHighWaterMark: 10 }));
    const producer = new zmq.Push({ sendHighWaterMark: 10 });
    const consumer = new zmq.Pull({ receiveHighWaterMark: 10 });
    try {
      producer.connect(await bindFresh(proxy.frontEnd, "tcp"));
      consumer.connect(await bindFresh(proxy.backEnd, "tcp"));
      const done = proxy.run();
      const N = 2000;
      let maxHeld = 0;
      const sending = (async () => {
        for (let i = 0; i < N; i++) await producer.send(String(i));
      })();
      let got = 0;
      await within((async () => {
        while (got < N) {
          const [m] = await consumer.receive();
          assert.equal(m!.toString(), String(got));
          got++;
          if (got % 100 === 0) await sleep(1); // slow
          const s = proxy.statistics();
          maxHeld = Math.max(maxHeld, s.frontEnd.messagesIn - s.backEnd.messagesOut);
        }
      })(), T, "all messages through a slow consumer");
      await within(sending, T, "the producer");
      assert.ok(maxHeld <= 1, `proxy held ${maxHeld}`);
      proxy.terminate();
      await within(done, T, "run()");
    } finally {
      closeAll(proxy.frontEnd, proxy.backEnd, producer, consumer);
    }
  });
});
