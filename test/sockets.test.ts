/**
 * Behaviour of every socket pattern, zmq-ts against zmq-ts, over tcp, ipc and inproc.
 * Each test names the RFC clause it checks.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../src/index.js";
import { within, link, transports, str } from "./helpers/util.js";

const T = 5000;

/**
 * Publishes `probe` every few ms until the subscriber receives one (its subscription has
 * reached the publisher), then drains the extra probes, so the next receive sees only
 * what is published afterwards.
 */
async function publishUntil(pub: zmq.Publisher, sub: zmq.Subscriber, probe: string[]): Promise<void> {
  const first = sub.receive();
  const timer = setInterval(() => void pub.send(probe), 5);
  try {
    const got = await within(first, T, `probe ${probe[0]}`);
    assert.equal(got[0]!.toString(), probe[0]);
  } finally {
    clearInterval(timer);
  }
  // Probes still in flight: an end marker on the probe's (subscribed) topic tells where they stop.
  await pub.send([probe[0]!, "end"]);
  for (;;) {
    const got = await within(sub.receive(), T, "end of probes");
    assert.equal(got[0]!.toString(), probe[0]);
    if (got[1]!.toString() === "end") break;
  }
}

for (const transport of transports) {
  describe(`patterns over ${transport}`, () => {
    test("PAIR: both directions, multipart with empty frames, in order (RFC 31)", async () => {
      const a = new zmq.Pair();
      const b = new zmq.Pair();
      try {
        await link(a, b, transport);
        await b.send(["one", "", Buffer.alloc(300, 7)]);
        await b.send("two");
        const first = await within(a.receive(), T, "first message");
        assert.equal(first.length, 3);
        assert.equal(first[0]!.toString(), "one");
        assert.equal(first[1]!.length, 0);
        assert.deepEqual(first[2], Buffer.alloc(300, 7));
        assert.deepEqual(str(await within(a.receive(), T, "second")), ["two"]);
        await a.send("back");
        assert.deepEqual(str(await within(b.receive(), T, "reply")), ["back"]);
      } finally {
        a.close();
        b.close();
      }
    });

    test("PUSH/PULL: round-robin over two pullers, fair-queued from two pushers (RFC 30)", async () => {
      const push = new zmq.Push();
      const pulls = [new zmq.Pull(), new zmq.Pull()];
      try {
        const address = await link(push, pulls[0]!, transport);
        pulls[1]!.connect(address);
        // Wait for both pipes so the round-robin has two peers.
        if (transport !== "inproc") {
          let n = 0;
          await within(new Promise<void>((r) => push.events.on("handshake", () => ++n === 2 && r())), T, "two handshakes");
        }
        for (let i = 0; i < 10; i++) await push.send(String(i));
        const got = await within(Promise.all(pulls.map(async (p) => {
          const out: string[] = [];
          for (let i = 0; i < 5; i++) out.push((await p.receive())[0]!.toString());
          return out;
        })), T, "ten messages");
        assert.deepEqual(got.flat().sort((x, y) => +x - +y), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        // Each puller got every other message, in order.
        for (const list of got) for (let i = 1; i < list.length; i++) assert.ok(+list[i]! > +list[i - 1]!);
      } finally {
        push.close();
        for (const p of pulls) p.close();
      }
    });

    test("REQ/REP: envelope hidden, strict alternation gives EFSM (RFC 28)", async () => {
      const rep = new zmq.Reply();
      const req = new zmq.Request();
      try {
        await link(rep, req, transport);
        await req.send(["hello", "world"]);
        await assert.rejects(req.send("again"), { code: "EFSM" });
        assert.deepEqual(str(await within(rep.receive(), T, "request")), ["hello", "world"]);
        await rep.send("hi");
        assert.deepEqual(str(await within(req.receive(), T, "reply")), ["hi"]);
        await assert.rejects(req.receive(), { code: "EFSM" });
      } finally {
        rep.close();
        req.close();
      }
    });

    test("DEALER/ROUTER: routing id announced, reply routed by it (RFC 28)", async () => {
      const router = new zmq.Router();
      const dealer = new zmq.Dealer({ routingId: "d-1" });
      try {
        await link(router, dealer, transport);
        await dealer.send(["", "job"]);
        const [id, empty, body] = await within(router.receive(), T, "request at router");
        assert.equal(id!.toString(), "d-1");
        assert.equal(empty!.length, 0);
        assert.equal(body!.toString(), "job");
        await router.send([id, "", "done"]);
        assert.deepEqual(str(await within(dealer.receive(), T, "reply at dealer")), ["", "done"]);
      } finally {
        router.close();
        dealer.close();
      }
    });

    test("ROUTER mandatory: an unknown id gives EHOSTUNREACH; without it the message is dropped", async () => {
      const router = new zmq.Router({ mandatory: true });
      try {
        await assert.rejects(router.send(["nobody", "x"]), { code: "EHOSTUNREACH" });
        (router as unknown as { mandatory: boolean }).mandatory = false;
        await router.send(["nobody", "x"]);
      } finally {
        router.close();
      }
    });

    test("PUB/SUB: prefix subscriptions filter, unsubscribe stops delivery (RFC 29)", async () => {
      const pub = new zmq.Publisher();
      const sub = new zmq.Subscriber();
      try {
        await link(pub, sub, transport);
        sub.subscribe("a");
        // Publish until the subscription has arrived (a sentinel, never a sleep).
        await publishUntil(pub, sub, ["a-ready", "x"]);
        await pub.send(["b", "not for us"]);
        await pub.send(["abc", "for us"]);
        assert.deepEqual(str(await within(sub.receive(), T, "abc")), ["abc", "for us"]);
        // Cancel "a", subscribe "z": once a "z" message arrives, the cancel (sent before it
        // on the same connection) is in force at the publisher too.
        sub.unsubscribe("a");
        sub.subscribe("z");
        await publishUntil(pub, sub, ["z-ready", "x"]);
        await pub.send(["abc", "must not arrive"]);
        await pub.send(["zz", "sentinel"]);
        assert.deepEqual(str(await within(sub.receive(), T, "sentinel")), ["zz", "sentinel"]);
      } finally {
        pub.close();
        sub.close();
      }
    });

    test("XPUB/XSUB: subscription frames visible both ways (RFC 29)", async () => {
      const xpub = new zmq.XPublisher();
      const xsub = new zmq.XSubscriber();
      try {
        await link(xpub, xsub, transport);
        await xsub.send(Buffer.from("\x01topic"));
        assert.deepEqual(await within(xpub.receive(), T, "subscribe frame"), [Buffer.from("\x01topic")]);
        await xpub.send(["topic", "payload"]);
        assert.deepEqual(str(await within(xsub.receive(), T, "message")), ["topic", "payload"]);
        await xsub.send(Buffer.from("\x00topic"));
        assert.deepEqual(await within(xpub.receive(), T, "cancel frame"), [Buffer.from("\x00topic")]);
      } finally {
        xpub.close();
        xsub.close();
      }
    });

    test("messages sent before the peer exists are delivered once it connects", async () => {
      const push = new zmq.Push();
      const pull = new zmq.Pull();
      try {
        const ep = transport === "tcp" ? "tcp://127.0.0.1:*" : undefined;
        if (ep) {
          await pull.bind(ep);
          const address = pull.lastEndpoint!;
          await pull.unbind(address);
          push.connect(address);
          await push.send("early");
          await pull.bind(address);
        } else {
          const address = (await import("./helpers/util.js")).endpointFor(transport);
          push.connect(address);
          await push.send("early");
          await pull.bind(address);
        }
        assert.deepEqual(str(await within(pull.receive(), T, "early message")), ["early"]);
      } finally {
        push.close();
        pull.close();
      }
    });
  });
}

describe("socket surface", () => {
  test("bad endpoints: EINVAL and EPROTONOSUPPORT with the address", async () => {
    const s = new zmq.Dealer();
    try {
      await assert.rejects(s.bind("foo-bar"), { code: "EINVAL", message: "Invalid argument" });
      await assert.rejects(s.bind("foo://bar"), { code: "EPROTONOSUPPORT", address: "foo://bar" });
      assert.throws(() => s.connect("tcp://127.0.0.1:*"), { code: "EINVAL" });
      await assert.rejects(s.unbind("tcp://127.0.0.1:1"), { code: "ENOENT" });
      assert.throws(() => s.disconnect("tcp://127.0.0.1:1"), { code: "ENOENT", address: "tcp://127.0.0.1:1" });
    } finally {
      s.close();
    }
  });

  test("a port in use gives EADDRINUSE and a bind:error event without the scheme", async () => {
    const a = new zmq.Pull();
    const b = new zmq.Pull();
    try {
      await a.bind("tcp://127.0.0.1:*");
      const address = a.lastEndpoint!;
      const event = new Promise((resolve) => b.events.on("bind:error", resolve));
      await assert.rejects(b.bind(address), { code: "EADDRINUSE" });
      const ev = (await within(event, T, "bind:error")) as { address: string; error: { code: string } };
      assert.equal(ev.address, address.slice("tcp://".length));
      assert.equal(ev.error.code, "EADDRINUSE");
    } finally {
      a.close();
      b.close();
    }
  });

  test("a closed socket gives EBADF; close() rejects pending receives with EAGAIN", async () => {
    const s = new zmq.Pull();
    const pending = s.receive();
    s.close();
    await assert.rejects(pending, { code: "EAGAIN" });
    await assert.rejects(s.receive(), { code: "EBADF" });
    await assert.rejects(s.bind("inproc://x"), { code: "EBADF" });
    assert.equal(s.closed, true);
  });

  test("sendTimeout: a send that cannot be queued fails with EAGAIN", async () => {
    const s = new zmq.Dealer({ sendTimeout: 50 });
    try {
      await assert.rejects(s.send("nobody there"), { code: "EAGAIN" });
    } finally {
      s.close();
    }
  });

  test("receiveTimeout: a receive with nothing to read fails with EAGAIN", async () => {
    const s = new zmq.Pull({ receiveTimeout: 30 });
    try {
      await assert.rejects(s.receive(), { code: "EAGAIN" });
    } finally {
      s.close();
    }
  });

  test("concurrent sends are queued in order instead of EBUSY", async () => {
    const push = new zmq.Push({ sendHighWaterMark: 1 });
    const pull = new zmq.Pull({ receiveHighWaterMark: 1 });
    try {
      await link(pull, push, "tcp");
      const sends = Array.from({ length: 50 }, (_, i) => push.send(String(i)));
      const got: string[] = [];
      for (let i = 0; i < 50; i++) got.push((await within(pull.receive(), T, `message ${i}`))[0]!.toString());
      await within(Promise.all(sends), T, "all sends");
      assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => String(i)));
    } finally {
      push.close();
      pull.close();
    }
  });

  test("a socket-type mismatch drops that connection with an event; the socket goes on", async () => {
    const pub = new zmq.Publisher();
    const push = new zmq.Push();
    const sub = new zmq.Subscriber();
    try {
      await pub.bind("tcp://127.0.0.1:*");
      const err = new Promise<{ error: { code: string } }>((r) => pub.events.on("handshake:error:protocol", r as never));
      push.connect(pub.lastEndpoint!);
      const ev = await within(err, T, "protocol error event");
      assert.match(ev.error.code, /^ERR_ZMTP_/);
      sub.connect(pub.lastEndpoint!);
      sub.subscribe();
      const got = sub.receive();
      const t = setInterval(() => void pub.send("still alive"), 5);
      assert.deepEqual(str(await within(got, T, "message after mismatch")), ["still alive"]);
      clearInterval(t);
    } finally {
      pub.close();
      push.close();
      sub.close();
    }
  });

  test("pyzmq conveniences: Context.instance(), context.socket(type), constants, bindToRandomPort", async () => {
    const ctx = zmq.Context.instance();
    assert.equal(ctx, zmq.Context.instance());
    assert.equal(zmq.XREQ, zmq.DEALER);
    assert.equal(zmq.XREP, zmq.ROUTER);
    const s = ctx.socket(zmq.PAIR);
    try {
      assert.ok(s instanceof zmq.Pair);
      const port = await s.bindToRandomPort("tcp://127.0.0.1", { minPort: 20000, maxPort: 60000 });
      assert.ok(port >= 20000 && port < 60000);
      assert.equal(s.lastEndpoint, `tcp://127.0.0.1:${port}`);
    } finally {
      s.close();
    }
  });

  test("a TypedArray is sent as a view of its memory, not a copy (inproc hands the same bytes over)", async () => {
    const a = new zmq.Pair();
    const b = new zmq.Pair();
    try {
      await link(a, b, "inproc");
      const arr = Float64Array.from({ length: 64 }, (_, i) => i + 0.5); // 512 bytes: above the 128-byte copy threshold
      await b.send(arr);
      const [frame] = await within(a.receive(), T, "array");
      assert.equal(frame!.buffer, arr.buffer);
      assert.deepEqual(new Float64Array(frame!.buffer, frame!.byteOffset, 64), arr);
    } finally {
      a.close();
      b.close();
    }
  });
});
