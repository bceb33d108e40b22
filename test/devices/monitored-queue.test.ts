/**
 * MonitoredQueue: pyzmq's monitored_queue(in, out, mon, in_prefix=b"in", out_prefix=b"out")
 * semantics (zmq/devices/monitoredqueue.pxd): relay both ways, copy each message to the
 * monitor behind its direction's prefix, swap the two routing ids when both ends are
 * ROUTERs (IPython's task scheduler shape).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../../src/index.js";
import { MonitoredQueue } from "../../src/devices/index.js";
import { within } from "../helpers/util.js";
import { T, bindFresh, receiveN, strs, closeAll, until, assertSilent } from "./helpers.js";

describe("MonitoredQueue", () => {
  test("construction errors and defaults", () => {
    const [a, b, m] = [new zmq.Router(), new zmq.Dealer(), new zmq.Publisher()];
    try {
      assert.throws(() => new (MonitoredQueue as any)(), (e: Error) => e instanceof TypeError && e.message === "In-socket must be a socket object");
      assert.throws(() => new (MonitoredQueue as any)(a, b), (e: Error) => e instanceof TypeError && e.message === "Monitor socket must be a socket object");
      assert.throws(() => new (MonitoredQueue as any)(a, {}, m), (e: zmq.ZmqError) => e.code === "EINVAL");
      assert.throws(() => new MonitoredQueue(a, b, m, { inPrefix: 5 as any }), TypeError);
      const q = new MonitoredQueue(a, b, m);
      assert.deepEqual([q.inPrefix.toString(), q.outPrefix.toString()], ["in", "out"]);
      const r = new MonitoredQueue(a, b, m, "", Buffer.from("o"));
      assert.deepEqual([r.inPrefix.length, r.outPrefix.toString()], [0, "o"]);
      const s = new MonitoredQueue(a, b, m, { outPrefix: "reply" });
      assert.deepEqual([s.inPrefix.toString(), s.outPrefix.toString()], ["in", "reply"]);
      assert.throws(() => q.run(), (e: zmq.ZmqError) => e.code === "EINVAL" && e.message === "In-socket must be bound or connected");
      assert.throws(() => q.terminate(), (e: zmq.ZmqError) => e.code === "EBADF");
    } finally {
      closeAll(a, b, m);
    }
  });

  for (const transport of ["tcp", "inproc"] as const) {
    test(`ROUTER-ROUTER (IPython scheduler shape) over ${transport}: ids swapped both ways, a SUB on the monitor PUB sees every message with its prefix`, async () => {
      const ins = new zmq.Router();
      const outs = new zmq.Router();
      const mon = new zmq.Publisher();
      const watcher = new zmq.Subscriber();
      const clients = ["client-1", "client-2"].map((routingId) => new zmq.Dealer({ routingId }));
      const engines = ["engine-1", "engine-2"].map((routingId) => new zmq.Dealer({ routingId }));
      try {
        const ia = await bindFresh(ins, transport);
        const oa = await bindFresh(outs, transport);
        watcher.connect(await bindFresh(mon, transport));
        watcher.subscribe();
        const mq = new MonitoredQueue(ins, outs, mon);
        const done = mq.run();
        for (const c of clients) c.connect(ia);
        for (const e of engines) e.connect(oa);

        // Warm up until every connection is routable and the monitor's subscription has arrived.
        for (const [ci, c] of clients.entries()) {
          for (const [ei, e] of engines.entries()) {
            await until(async () => {
              await c.send([`engine-${ei + 1}`, "warm-up"]);
              e.receiveTimeout = 30;
              try {
                const got = await e.receive();
                assert.deepEqual(strs(got), [`client-${ci + 1}`, "warm-up"]);
                return true;
              } catch {
                return false;
              } finally {
                e.receiveTimeout = -1;
              }
            }, T, `client-${ci + 1} -> engine-${ei + 1}`);
            for (;;) { // drop the extra warm-ups
              e.receiveTimeout = 30;
              try { await e.receive(); } catch { break; } finally { e.receiveTimeout = -1; }
            }
          }
        }
        await until(async () => {
          await engines[0]!.send(["client-1", "warm-up back"]);
          clients[0]!.receiveTimeout = 30;
          try { return strs(await clients[0]!.receive())[1] === "warm-up back"; } catch { return false; } finally { clients[0]!.receiveTimeout = -1; }
        }, T, "engine -> client");
        for (const c of clients) for (;;) {
          c.receiveTimeout = 30;
          try { await c.receive(); } catch { break; } finally { c.receiveTimeout = -1; }
        }
        for (;;) { // drop the monitor's copies of the warm-up
          watcher.receiveTimeout = 50;
          try { await watcher.receive(); } catch { break; } finally { watcher.receiveTimeout = -1; }
        }

        // The real traffic: a client addresses an engine by id; the engine sees who asked.
        await clients[1]!.send(["engine-2", "task", "42"]);
        const task = await within(engines[1]!.receive(), T, "task at engine-2");
        assert.deepEqual(strs(task), ["client-2", "task", "42"]);
        await engines[1]!.send(["client-2", "result", "84"]);
        const result = await within(clients[1]!.receive(), T, "result at client-2");
        assert.deepEqual(strs(result), ["engine-2", "result", "84"]);
        await assertSilent(clients[0]!, 50, "client-1 got nothing");

        const seen = (await receiveN(watcher, 2, T, "monitor copies")).map(strs);
        assert.deepEqual(seen, [
          ["in", "engine-2", "client-2", "task", "42"],
          ["out", "client-2", "engine-2", "result", "84"],
        ]);
        mq.terminate();
        await within(done, T, "run()");
        assert.equal(ins.closed && outs.closed, true);
        assert.equal(mon.closed, false, "the monitor socket is left to its owner");
      } finally {
        closeAll(ins, outs, mon, watcher, ...clients, ...engines);
      }
    });
  }

  test("ROUTER-DEALER with REQ clients and REP workers: no swap, empty prefixes allowed, statistics per side", async () => {
    const ins = new zmq.Router();
    const outs = new zmq.Dealer();
    const mon = new zmq.Push();
    const watcher = new zmq.Pull();
    const client = new zmq.Request({ routingId: "C" });
    const worker = new zmq.Reply();
    try {
      watcher.connect(await bindFresh(mon, "tcp"));
      client.connect(await bindFresh(ins, "tcp"));
      worker.connect(await bindFresh(outs, "tcp"));
      const mq = new MonitoredQueue(ins, outs, mon, { inPrefix: "", outPrefix: "" });
      const done = mq.run();
      await client.send("question");
      assert.deepEqual(strs(await within(worker.receive(), T, "question")), ["question"]);
      await worker.send("answer");
      assert.deepEqual(strs(await within(client.receive(), T, "answer")), ["answer"]);
      const seen = (await receiveN(watcher, 2)).map(strs);
      assert.deepEqual(seen, [["", "C", "", "question"], ["", "C", "", "answer"]]);
      assert.deepEqual(mq.statistics(), {
        frontEnd: { messagesIn: 3, bytesIn: 9, messagesOut: 3, bytesOut: 7 },
        backEnd: { messagesIn: 3, bytesIn: 7, messagesOut: 3, bytesOut: 9 },
      });
      mq.pause();
      await client.send("while paused");
      await assertSilent(worker, 150, "paused");
      mq.resume();
      assert.deepEqual(strs(await within(worker.receive(), T, "after resume")), ["while paused"]);
      mq.terminate();
      await within(done, T, "run()");
    } finally {
      closeAll(ins, outs, mon, watcher, client, worker);
    }
  });

  test("a monitor that cannot take the copy holds back the queue (pyzmq blocks on it), at most one message held", async () => {
    const ins = new zmq.Pull();
    const outs = new zmq.Push();
    const mon = new zmq.Push({ sendHighWaterMark: 2 }); // connected to a reader only later
    const producer = new zmq.Push();
    const consumer = new zmq.Pull();
    const watcher = new zmq.Pull({ receiveHighWaterMark: 2 });
    try {
      producer.connect(await bindFresh(ins, "inproc"));
      consumer.connect(await bindFresh(outs, "inproc"));
      const monAddr = await bindFresh(mon, "inproc");
      const mq = new MonitoredQueue(ins, outs, mon);
      const done = mq.run();
      for (let i = 0; i < 5; i++) await producer.send(String(i));
      // No monitor reader yet: mon takes nothing (no peer), so message 0 goes out and its copy is owed.
      assert.deepEqual(strs((await receiveN(consumer, 1))[0]!), ["0"]);
      await assertSilent(consumer, 100, "held back by the monitor");
      assert.equal(mq.statistics().frontEnd.messagesIn, 1);
      watcher.connect(monAddr);
      const copies = (await receiveN(watcher, 5)).map(strs);
      assert.deepEqual(copies, [0, 1, 2, 3, 4].map((i) => ["in", String(i)]));
      assert.deepEqual((await receiveN(consumer, 4)).map((m) => m[0]!.toString()), ["1", "2", "3", "4"]);
      mq.terminate();
      await within(done, T, "run()");
    } finally {
      closeAll(ins, outs, mon, watcher, producer, consumer);
    }
  });
});
