/**
 * The draft socket types, zmq-ts against zmq-ts, over tcp, ipc and inproc: what each
 * type routes where (libzmq's semantics), and what it refuses.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as draft from "../../src/draft/index.js";
import { within, link, transports } from "../helpers/util.js";

const T = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends on `group` every few ms until the dish has one (its JOIN reached the radio); returns it. */
async function sendUntilJoined(radio: draft.Radio, dish: draft.Dish, group: string, body: string): Promise<void> {
  const timer = setInterval(() => void radio.send(body, { group }), 5);
  try {
    // Earlier traffic of other groups may come first.
    for (;;) {
      const [msg, meta] = await within(dish.receive(), T, `first ${group} message`);
      if (msg.toString() === body && meta.group.toString() === group) break;
    }
  } finally {
    clearInterval(timer);
  }
  // Drain the extra probes still in flight.
  dish.receiveTimeout = 100;
  for (;;) {
    try {
      await dish.receive();
    } catch {
      break;
    }
  }
  dish.receiveTimeout = -1;
}

for (const transport of transports) {
  describe(`draft sockets over ${transport}`, () => {
    test("SERVER/CLIENT: the server answers each client by its routing id", async () => {
      const server = new draft.Server();
      const a = new draft.Client();
      const b = new draft.Client();
      try {
        const address = await link(server, a, transport);
        b.connect(address);
        await a.send("from a");
        await b.send("from b");
        const got = new Map<string, number>();
        for (let i = 0; i < 2; i++) {
          const [msg, { routingId }] = await within(server.receive(), T, "client message");
          assert.equal(typeof routingId, "number");
          assert.notEqual(routingId, 0);
          got.set(msg.toString(), routingId);
        }
        assert.notEqual(got.get("from a"), got.get("from b"));
        await server.send("to a", { routingId: got.get("from a")! });
        await server.send("to b", { routingId: got.get("from b")! });
        assert.deepEqual((await within(a.receive(), T, "reply a")).map(String), ["to a"]);
        assert.deepEqual((await within(b.receive(), T, "reply b")).map(String), ["to b"]);
      } finally {
        server.close(); a.close(); b.close();
      }
    });

    test("CLIENT load-balances over servers and fair-queues from them", async () => {
      const client = new draft.Client();
      const s1 = new draft.Server();
      const s2 = new draft.Server();
      try {
        const e1 = await link(s1, client, transport);
        await link(s2, client, transport);
        assert.ok(e1);
        // Both pipes attach at connect (connect-side pipes exist before the handshake).
        for (let i = 0; i < 4; i++) await client.send(`m${i}`);
        const [x1, r1] = await within(s1.receive(), T, "s1 first");
        const [x2, r2] = await within(s2.receive(), T, "s2 first");
        const [x3] = await within(s1.receive(), T, "s1 second");
        const [x4] = await within(s2.receive(), T, "s2 second");
        assert.deepEqual([x1, x3].map(String), ["m0", "m2"]);
        assert.deepEqual([x2, x4].map(String), ["m1", "m3"]);
        await s1.send("r1", r1);
        await s2.send("r2", r2);
        const replies = [await within(client.receive(), T, "reply"), await within(client.receive(), T, "reply")];
        assert.deepEqual(replies.map((m) => m[0]!.toString()).sort(), ["r1", "r2"]);
      } finally {
        client.close(); s1.close(); s2.close();
      }
    });

    test("RADIO/DISH: a dish gets only the groups it joined, exactly matched, until it leaves", async () => {
      const radio = new draft.Radio();
      const dish = new draft.Dish();
      try {
        await link(dish, radio, transport);
        dish.join("weather", "news");
        await sendUntilJoined(radio, dish, "weather", "probe");
        await radio.send("not joined", { group: "sport" });
        await radio.send("prefix is not a match", { group: "weathe" });
        await radio.send("longer is not a match", { group: "weathers" });
        await radio.send("rain", { group: "weather" });
        await radio.send("election", { group: Buffer.from("news") });
        const [m1, g1] = await within(dish.receive(), T, "weather");
        const [m2, g2] = await within(dish.receive(), T, "news");
        assert.deepEqual([m1.toString(), g1.group.toString()], ["rain", "weather"]);
        assert.deepEqual([m2.toString(), g2.group.toString()], ["election", "news"]);
        dish.leave("weather");
        await sleep(100); // the LEAVE travels to the radio
        await radio.send("after leave", { group: "weather" });
        await radio.send("still news", { group: "news" });
        const [m3, g3] = await within(dish.receive(), T, "news after leave");
        assert.deepEqual([m3.toString(), g3.group.toString()], ["still news", "news"]);
      } finally {
        radio.close(); dish.close();
      }
    });

    test("RADIO sends each group to every dish that joined it", async () => {
      const radio = new draft.Radio();
      const d1 = new draft.Dish();
      const d2 = new draft.Dish();
      try {
        const address = await link(radio, d1, transport);
        d2.connect(address);
        d1.join("g");
        d2.join("g", "only2");
        await sendUntilJoined(radio, d1, "g", "p");
        await sendUntilJoined(radio, d2, "only2", "p2");
        await radio.send("both", { group: "g" });
        assert.equal((await within(d1.receive(), T, "d1"))[0].toString(), "both");
        assert.equal((await within(d2.receive(), T, "d2"))[0].toString(), "both");
      } finally {
        radio.close(); d1.close(); d2.close();
      }
    });

    test("SCATTER load-balances, GATHER fair-queues", async () => {
      const scatter = new draft.Scatter();
      const g1 = new draft.Gather();
      const g2 = new draft.Gather();
      const gather = new draft.Gather();
      const s1 = new draft.Scatter();
      const s2 = new draft.Scatter();
      try {
        const e = await link(g1, scatter, transport);
        assert.ok(e);
        await link(g2, scatter, transport);
        for (let i = 0; i < 4; i++) await scatter.send(`m${i}`);
        assert.deepEqual([(await within(g1.receive(), T, "g1"))[0], (await within(g1.receive(), T, "g1"))[0]].map(String), ["m0", "m2"]);
        assert.deepEqual([(await within(g2.receive(), T, "g2"))[0], (await within(g2.receive(), T, "g2"))[0]].map(String), ["m1", "m3"]);
        const address = await link(gather, s1, transport);
        s2.connect(address);
        for (let i = 0; i < 3; i++) {
          await s1.send(`a${i}`);
          await s2.send(`b${i}`);
        }
        const got: string[] = [];
        for (let i = 0; i < 6; i++) got.push((await within(gather.receive(), T, "gathered"))[0]!.toString());
        assert.deepEqual(got.filter((x) => x.startsWith("a")), ["a0", "a1", "a2"]);
        assert.deepEqual(got.filter((x) => x.startsWith("b")), ["b0", "b1", "b2"]);
      } finally {
        for (const s of [scatter, g1, g2, gather, s1, s2]) s.close();
      }
    });

    test("PEER: connectPeer returns the routing id both ends route by", async () => {
      const a = new draft.Peer();
      const b = new draft.Peer();
      try {
        const ep = transport === "tcp" ? "tcp://127.0.0.1:*" : transport === "ipc" ? `ipc:///tmp/zmq-ts-peer-${process.pid}-${Date.now()}` : `inproc://peer-${Date.now()}`;
        await a.bind(ep);
        const id = b.connectPeer(transport === "tcp" ? a.lastEndpoint! : ep);
        assert.equal(typeof id, "number");
        assert.notEqual(id, 0);
        await b.send("hello peer", { routingId: id });
        const [msg, { routingId }] = await within(a.receive(), T, "peer message");
        assert.equal(msg.toString(), "hello peer");
        await a.send("hello back", { routingId });
        const [back, from] = await within(b.receive(), T, "peer reply");
        assert.equal(back.toString(), "hello back");
        assert.equal(from.routingId, id);
      } finally {
        a.close(); b.close();
      }
    });

    test("CHANNEL: a pair of single-frame messages", async () => {
      const a = new draft.Channel();
      const b = new draft.Channel();
      try {
        await link(a, b, transport);
        await b.send("ping");
        assert.deepEqual((await within(a.receive(), T, "ping")).map(String), ["ping"]);
        await a.send("pong");
        assert.deepEqual((await within(b.receive(), T, "pong")).map(String), ["pong"]);
      } finally {
        a.close(); b.close();
      }
    });
  });
}

describe("RADIO/DISH across a reconnect", () => {
  test("a dish that comes back on the same tcp address joins again and gets its groups", async () => {
    const radio = new draft.Radio({ reconnectInterval: 20 });
    const first = new draft.Dish();
    const second = new draft.Dish();
    try {
      await first.bind("tcp://127.0.0.1:*");
      const address = first.lastEndpoint!;
      first.join("a");
      radio.connect(address);
      await sendUntilJoined(radio, first, "a", "to first");
      first.close();
      await sleep(50);
      await second.bind(address);
      second.join("b");
      await sendUntilJoined(radio, second, "b", "to second");
      // The second dish gets its own group, never the first one's.
      await radio.send("stale", { group: "a" });
      await radio.send("fresh", { group: "b" });
      assert.equal((await within(second.receive(), T, "fresh"))[0].toString(), "fresh");
    } finally {
      radio.close(); first.close(); second.close();
    }
  });
});

describe("draft sockets refuse what libzmq refuses", () => {
  test("multipart sends are EINVAL on every single-frame type", async () => {
    const client = new draft.Client();
    const server = new draft.Server();
    const radio = new draft.Radio();
    const scatter = new draft.Scatter();
    const channel = new draft.Channel();
    const peer = new draft.Peer();
    try {
      await assert.rejects(client.send(["a", "b"]), { code: "EINVAL" });
      await assert.rejects(server.send(["a", "b"], { routingId: 1 }), { code: "EINVAL" });
      await assert.rejects(radio.send(["a", "b"], { group: "g" }), { code: "EINVAL" });
      await assert.rejects(scatter.send(["a", "b"]), { code: "EINVAL" });
      await assert.rejects(channel.send(["a", "b"]), { code: "EINVAL" });
      await assert.rejects(peer.send(["a", "b"], { routingId: 1 }), { code: "EINVAL" });
    } finally {
      for (const s of [client, server, radio, scatter, channel, peer]) s.close();
    }
  });

  test("SERVER: no routing id is EINVAL, an unknown one EHOSTUNREACH", async () => {
    const server = new draft.Server();
    try {
      await assert.rejects((server.send as (m: unknown, o?: unknown) => Promise<void>)("x"), { code: "EINVAL" });
      await assert.rejects(server.send("x", { routingId: 12345 }), { code: "EHOSTUNREACH" });
    } finally {
      server.close();
    }
  });

  test("RADIO: no group is EINVAL; a group of 256 bytes is EINVAL, 255 is fine", async () => {
    const radio = new draft.Radio();
    try {
      await assert.rejects((radio.send as (m: unknown, o?: unknown) => Promise<void>)("x"), { code: "EINVAL" });
      await assert.rejects(radio.send("x", { group: "g".repeat(256) }), { code: "EINVAL" });
      await radio.send("x", { group: "g".repeat(255) });
    } finally {
      radio.close();
    }
  });

  test("DISH: oversize join, second join of a group and leave of an unknown group are EINVAL", () => {
    const dish = new draft.Dish();
    try {
      assert.throws(() => dish.join("x".repeat(256)), { code: "EINVAL" });
      dish.join("x".repeat(255));
      dish.join("a");
      assert.throws(() => dish.join("a"), { code: "EINVAL" });
      assert.throws(() => dish.leave("never joined"), { code: "EINVAL" });
      dish.leave("a");
      assert.throws(() => dish.leave("a"), { code: "EINVAL" });
    } finally {
      dish.close();
    }
  });

  test("send/receive where the type has none: ENOTSUP", async () => {
    const dish = new draft.Dish();
    const radio = new draft.Radio();
    const gather = new draft.Gather();
    const scatter = new draft.Scatter();
    try {
      await assert.rejects((dish as unknown as { send(m: unknown): Promise<void> }).send("x"), { code: "ENOTSUP" });
      await assert.rejects((radio as unknown as { receive(): Promise<unknown> }).receive(), { code: "ENOTSUP" });
      await assert.rejects((gather as unknown as { send(m: unknown): Promise<void> }).send("x"), { code: "ENOTSUP" });
      await assert.rejects(scatter.receive(), { code: "ENOTSUP" });
    } finally {
      dish.close(); radio.close(); gather.close(); scatter.close();
    }
  });

  test("incompatible types do not talk (SERVER to DISH over tcp)", async () => {
    const server = new draft.Server();
    const dish = new draft.Dish();
    const client = new draft.Client();
    try {
      await server.bind("tcp://127.0.0.1:*");
      const refused = new Promise<void>((resolve) => {
        void (async () => {
          for await (const ev of server.events) if (ev.type === "handshake:error:protocol") return resolve();
        })();
      });
      dish.connect(server.lastEndpoint!);
      await within(refused, T, "the handshake refusal");
      client.connect(server.lastEndpoint!);
      await client.send("fine");
      assert.equal((await within(server.receive(), T, "client"))[0].toString(), "fine");
    } finally {
      server.close(); dish.close(); client.close();
    }
  });

  test("udp is for RADIO (connect), DISH and DGRAM (bind) only: ENOCOMPATPROTO", async () => {
    const server = new draft.Server();
    const radio = new draft.Radio();
    const dish = new draft.Dish();
    try {
      await assert.rejects(server.bind("udp://127.0.0.1:*"), { code: "ENOCOMPATPROTO" });
      await assert.rejects(radio.bind("udp://127.0.0.1:*"), { code: "ENOCOMPATPROTO" });
      assert.throws(() => dish.connect("udp://127.0.0.1:5555"), { code: "ENOCOMPATPROTO" });
    } finally {
      server.close(); radio.close(); dish.close();
    }
  });
});
