/**
 * The classic devices (libzmq 2's zmq_device QUEUE / FORWARDER / STREAMER) as running
 * proxies: queue(Router, Dealer), forwarder(XSubscriber, XPublisher), streamer(Pull, Push).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../../src/index.js";
import { queue, forwarder, streamer } from "../../src/devices/index.js";
import { within } from "../helpers/util.js";
import { T, bindFresh, receiveN, strs, closeAll, until, assertSilent } from "./helpers.js";

describe("classic devices", () => {
  test("queue(Router, Dealer): REQ clients, REP workers over tcp; DEALER clients with several requests in flight", async () => {
    const front = new zmq.Router();
    const back = new zmq.Dealer();
    const req = new zmq.Request();
    const dealer = new zmq.Dealer();
    const workers = [new zmq.Reply(), new zmq.Reply()];
    try {
      const fa = await bindFresh(front, "tcp");
      const ba = await bindFresh(back, "tcp");
      const proxy = queue(front, back);
      assert.equal(proxy.running, true);
      req.connect(fa);
      dealer.connect(fa);
      for (const w of workers) w.connect(ba);
      const loops = workers.map(async (w) => {
        for await (const [m] of w) await w.send(`re:${m!.toString()}`);
      });
      await req.send("one");
      assert.deepEqual(strs(await within(req.receive(), T, "REQ reply")), ["re:one"]);
      // A DEALER speaks to REP workers with an empty delimiter frame of its own.
      for (let i = 0; i < 20; i++) await dealer.send(["", `d${i}`]);
      const replies = (await receiveN(dealer, 20)).map(strs);
      assert.deepEqual(replies.map((r) => r[0]), Array(20).fill(""));
      assert.deepEqual(replies.map((r) => r[1]).sort(), Array.from({ length: 20 }, (_, i) => `re:d${i}`).sort());
      proxy.terminate();
      await within(proxy.done, T, "done");
      assert.equal(front.closed && back.closed, true);
      closeAll(...workers);
      await within(Promise.all(loops), T, "worker loops");
    } finally {
      closeAll(front, back, req, dealer, ...workers);
    }
  });

  for (const transport of ["tcp", "inproc"] as const) {
    test(`forwarder(XSubscriber, XPublisher) over ${transport}: subscriptions flow upstream, a late subscriber gets its topic`, async () => {
      const front = new zmq.XSubscriber();
      const back = new zmq.XPublisher();
      const upstream = new zmq.XPublisher(); // an XPUB publisher, so the test sees the subscriptions arrive
      const early = new zmq.Subscriber();
      const late = new zmq.Subscriber();
      try {
        const ua = await bindFresh(upstream, transport);
        front.connect(ua);
        const ba = await bindFresh(back, transport);
        const proxy = forwarder(front, back);
        early.connect(ba);
        early.subscribe("A");
        // The subscription crosses the forwarder: XPUB back end -> proxy -> XSUB front end -> upstream.
        assert.deepEqual(strs(await within(upstream.receive(), T, "\\x01A upstream")), ["\x01A"]);
        await upstream.send(["A", "1"]);
        await upstream.send(["B", "dropped: nobody wants B yet"]);
        assert.deepEqual(strs(await within(early.receive(), T, "A1")), ["A", "1"]);

        late.connect(ba);
        late.subscribe("B");
        assert.deepEqual(strs(await within(upstream.receive(), T, "\\x01B upstream")), ["\x01B"]);
        await upstream.send(["B", "2"]);
        await upstream.send(["A", "3"]);
        assert.deepEqual(strs(await within(late.receive(), T, "B2")), ["B", "2"]);
        assert.deepEqual(strs(await within(early.receive(), T, "A3")), ["A", "3"]);
        await assertSilent(late, 50, "late subscriber only wants B");

        early.unsubscribe("A");
        assert.deepEqual(strs(await within(upstream.receive(), T, "\\x00A upstream")), ["\x00A"]);
        proxy.terminate();
        await within(proxy.done, T, "done");
      } finally {
        closeAll(front, back, upstream, early, late);
      }
    });
  }

  test("forwarder: a subscriber that disconnects has its subscription cancelled upstream", async () => {
    const front = new zmq.XSubscriber();
    const back = new zmq.XPublisher();
    const upstream = new zmq.XPublisher();
    const sub = new zmq.Subscriber();
    try {
      front.connect(await bindFresh(upstream, "tcp"));
      const ba = await bindFresh(back, "tcp");
      const proxy = forwarder(front, back);
      sub.connect(ba);
      sub.subscribe("gone");
      assert.deepEqual(strs(await within(upstream.receive(), T, "\\x01gone")), ["\x01gone"]);
      sub.close();
      // The XPUB queues the cancellation when the pipe ends (socket-base does not signal
      // `_activity` then; the relay's 100 ms backstop picks it up).
      assert.deepEqual(strs(await within(upstream.receive(), T, "\\x00gone")), ["\x00gone"]);
      proxy.terminate();
      await within(proxy.done, T, "done");
    } finally {
      closeAll(front, back, upstream, sub);
    }
  });

  test("forwarder with a PUB upstream and many late subscribers (tcp): each gets what it subscribed to", async () => {
    const front = new zmq.XSubscriber();
    const back = new zmq.XPublisher();
    const pub = new zmq.Publisher();
    const subs = [0, 1, 2].map(() => new zmq.Subscriber());
    try {
      front.connect(await bindFresh(pub, "tcp"));
      const ba = await bindFresh(back, "tcp");
      const proxy = forwarder(front, back);
      for (const [i, s] of subs.entries()) {
        s.connect(ba);
        s.subscribe(`t${i}`);
      }
      // Publish until every subscriber has heard its topic once (subscriptions take a moment to travel).
      const heard = new Set<number>();
      const listening = subs.map(async (s, i) => {
        const [topic] = await s.receive();
        assert.equal(topic!.toString(), `t${i}`);
        heard.add(i);
      });
      await until(async () => {
        for (let i = 0; i < 3; i++) await pub.send([`t${i}`, "x"]);
        return heard.size === 3;
      }, T, "every subscriber to hear its topic");
      await within(Promise.all(listening), T, "listeners");
      proxy.terminate();
      await within(proxy.done, T, "done");
    } finally {
      closeAll(front, back, pub, ...subs);
    }
  });

  test("streamer(Pull, Push): a pipeline through the device delivers everything, in order per worker", async () => {
    const front = new zmq.Pull();
    const back = new zmq.Push();
    const producer = new zmq.Push();
    const workers = [new zmq.Pull(), new zmq.Pull()];
    try {
      producer.connect(await bindFresh(front, "tcp"));
      const ba = await bindFresh(back, "tcp");
      for (const w of workers) w.connect(ba);
      // Both workers connected before anything flows, so the round-robin reaches both.
      await until(() => back.writable, T, "back end to have a peer");
      const proxy = streamer(front, back);
      const N = 200;
      const got: number[][] = [[], []];
      const reading = workers.map(async (w, i) => {
        for await (const [m] of w) {
          got[i]!.push(Number(m!.toString()));
          if (got[0]!.length + got[1]!.length === N) break;
        }
      });
      for (let i = 0; i < N; i++) await producer.send(String(i));
      await until(() => got[0]!.length + got[1]!.length === N, T, "all messages");
      for (const g of got) assert.deepEqual(g, [...g].sort((a, b) => a - b), "each worker sees them in order");
      assert.deepEqual([...got[0]!, ...got[1]!].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
      proxy.terminate();
      await within(proxy.done, T, "done");
      closeAll(...workers);
      await within(Promise.all(reading), T, "readers");
    } finally {
      closeAll(front, back, producer, ...workers);
    }
  });

  test("the constructors throw as run() does when an end is not bound or connected", () => {
    const front = new zmq.Pull();
    const back = new zmq.Push();
    try {
      assert.throws(() => streamer(front, back), (e: zmq.ZmqError) => e.code === "EINVAL" && e.message === "Front-end socket must be bound or connected");
    } finally {
      closeAll(front, back);
    }
  });
});
