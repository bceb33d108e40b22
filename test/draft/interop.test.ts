/**
 * The draft types against the npm `zeromq` package's draft build (libzmq 4.3.5 with
 * drafts), which runs in a child Node process (peers/draftpeer.mjs). Over tcp and ipc:
 * SERVER/CLIENT, RADIO/DISH (JOIN/LEAVE commands, the two-frame group message),
 * GATHER/SCATTER, CHANNEL, PEER; over udp: RADIO/DISH unicast and multicast, DGRAM.
 */
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import * as draft from "../../src/draft/index.js";
import { within } from "../helpers/util.js";
import { DraftPeer, type DraftPeerSpec } from "./peer.js";
import { freeUdpPort, multicastGap, testGroup } from "./udp-helpers.js";

const T = 5000;

async function withPeer(spec: DraftPeerSpec, body: (peer: DraftPeer) => Promise<void>): Promise<void> {
  const peer = await DraftPeer.start(spec);
  try {
    await body(peer);
  } finally {
    await peer.close();
  }
}

/** A fresh endpoint to bind: tcp with an ephemeral port, or an ipc path. */
function bindable(transport: "tcp" | "ipc"): string {
  return transport === "tcp" ? "tcp://127.0.0.1:*" : `ipc://${join(tmpdir(), `zmq-ts-draft-${randomBytes(6).toString("hex")}`)}`;
}

/** Has the zeromq.js radio send until our dish gets the group's message. */
async function peerSendsUntil(radio: DraftPeer, dish: draft.Dish, group: string, body: string): Promise<void> {
  dish.receiveTimeout = 50;
  const deadline = Date.now() + T;
  try {
    while (Date.now() < deadline) {
      await radio.send([body], { group });
      try {
        const [msg, meta] = await dish.receive();
        if (msg.toString() === body && meta.group.toString() === group) return;
      } catch { /* not yet */ }
    }
    throw new Error(`our dish never got ${group}`);
  } finally {
    dish.receiveTimeout = -1;
  }
}

/** Sends from our radio until the zeromq.js dish gets the group's message. */
async function weSendUntil(radio: draft.Radio, dish: DraftPeer, group: string, body: string): Promise<void> {
  const deadline = Date.now() + T;
  while (Date.now() < deadline) {
    await radio.send(body, { group });
    const got = await dish.receive(50);
    if (got && got.frames[0]!.toString() === body && got.group?.toString() === group) return;
  }
  throw new Error(`the zeromq.js dish never got ${group}`);
}

/** Drains what the peer still has queued. */
async function drainPeer(peer: DraftPeer): Promise<void> {
  while (await peer.receive(100)) { /* extra probes */ }
}

for (const transport of ["tcp", "ipc"] as const) {
  describe(`draft interop with zeromq.js over ${transport}`, () => {
    test("our SERVER answers a zeromq.js CLIENT by routing id", async () => {
      const server = new draft.Server();
      try {
        await server.bind(bindable(transport));
        await withPeer({ type: "CLIENT", mode: "connect", endpoint: server.lastEndpoint! }, async (client) => {
          await client.send(["hi server"]);
          const [msg, { routingId }] = await within(server.receive(), T, "client message");
          assert.equal(msg.toString(), "hi server");
          await server.send("hi client", { routingId });
          const got = await client.receive();
          assert.deepEqual(got?.frames.map(String), ["hi client"]);
        });
      } finally {
        server.close();
      }
    });

    test("a zeromq.js SERVER answers our CLIENT by routing id", async () => {
      const client = new draft.Client();
      try {
        await withPeer({ type: "SERVER", mode: "bind", endpoint: bindable(transport) }, async (server) => {
          client.connect(server.endpoint);
          await client.send("hi server");
          const got = await server.receive();
          assert.deepEqual(got?.frames.map(String), ["hi server"]);
          assert.equal(typeof got?.routingId, "number");
          await server.send(["hi client"], { routingId: got!.routingId! });
          assert.deepEqual((await within(client.receive(), T, "reply")).map(String), ["hi client"]);
        });
      } finally {
        client.close();
      }
    });

    test("our RADIO to a zeromq.js DISH: JOIN/LEAVE commands, exact groups", async () => {
      const radio = new draft.Radio();
      try {
        await radio.bind(bindable(transport));
        await withPeer({ type: "DISH", mode: "connect", endpoint: radio.lastEndpoint! }, async (dish) => {
          await dish.join("weather");
          await weSendUntil(radio, dish, "weather", "probe");
          await drainPeer(dish);
          await radio.send("not joined", { group: "sport" });
          await radio.send("prefix", { group: "weath" });
          await radio.send("sunny", { group: "weather" });
          const got = await dish.receive();
          assert.deepEqual([got?.frames[0]!.toString(), got?.group?.toString()], ["sunny", "weather"]);
          await dish.leave("weather");
          await dish.join("news");
          await weSendUntil(radio, dish, "news", "news probe");
          // The LEAVE went before the JOIN of news, on the same connection: weather is off now.
          await radio.send("after leave", { group: "weather" });
          await radio.send("last", { group: "news" });
          for (;;) {
            const next = await dish.receive();
            assert.notEqual(next?.frames[0]!.toString(), "after leave");
            if (next?.frames[0]!.toString() === "last") break;
          }
        });
      } finally {
        radio.close();
      }
    });

    test("a zeromq.js RADIO to our DISH", async () => {
      const dish = new draft.Dish();
      try {
        await withPeer({ type: "RADIO", mode: "bind", endpoint: bindable(transport) }, async (radio) => {
          dish.connect(radio.endpoint);
          dish.join("g1");
          await peerSendsUntil(radio, dish, "g1", "probe");
          await radio.send(["other"], { group: "g2" });
          await radio.send(["wanted"], { group: "g1" });
          // Probes may still be ahead of it; nothing of g2 may come.
          for (;;) {
            const [msg, { group }] = await within(dish.receive(), T, "g1");
            assert.equal(group.toString(), "g1");
            if (msg.toString() === "wanted") break;
            assert.equal(msg.toString(), "probe");
          }
        });
      } finally {
        dish.close();
      }
    });

    test("GATHER/SCATTER both ways", async () => {
      const gather = new draft.Gather();
      const scatter = new draft.Scatter();
      try {
        await gather.bind(bindable(transport));
        await withPeer({ type: "SCATTER", mode: "connect", endpoint: gather.lastEndpoint! }, async (peer) => {
          await peer.send(["scattered"]);
          assert.deepEqual((await within(gather.receive(), T, "gathered")).map(String), ["scattered"]);
        });
        await withPeer({ type: "GATHER", mode: "bind", endpoint: bindable(transport) }, async (peer) => {
          scatter.connect(peer.endpoint);
          await scatter.send("to gather");
          assert.deepEqual((await peer.receive())?.frames.map(String), ["to gather"]);
        });
      } finally {
        gather.close(); scatter.close();
      }
    });

    test("CHANNEL both ways", async () => {
      const channel = new draft.Channel();
      try {
        await channel.bind(bindable(transport));
        await withPeer({ type: "CHANNEL", mode: "connect", endpoint: channel.lastEndpoint! }, async (peer) => {
          await peer.send(["from libzmq"]);
          assert.deepEqual((await within(channel.receive(), T, "channel")).map(String), ["from libzmq"]);
          await channel.send("from zmq-ts");
          assert.deepEqual((await peer.receive())?.frames.map(String), ["from zmq-ts"]);
        });
      } finally {
        channel.close();
      }
    });

    test("our PEER connects to a libzmq PEER and sends by the id connectPeer returned", async () => {
      const ours = new draft.Peer();
      try {
        await withPeer({ type: "PEER", mode: "bind", endpoint: bindable(transport) }, async (theirs) => {
          const id = ours.connectPeer(theirs.endpoint);
          await ours.send("peer to peer", { routingId: id });
          // zeromq.js exposes no routing id for PEER receives; the message is what we check.
          assert.deepEqual((await theirs.receive())?.frames.map(String), ["peer to peer"]);
        });
      } finally {
        ours.close();
      }
    });
  });
}

describe("draft interop with zeromq.js over udp", () => {
  let gap: string | null = null;
  before(async () => { gap = await multicastGap(); });

  test("our RADIO to a zeromq.js DISH, unicast", async () => {
    const port = await freeUdpPort();
    const radio = new draft.Radio();
    try {
      await withPeer({ type: "DISH", mode: "bind", endpoint: `udp://127.0.0.1:${port}` }, async (dish) => {
        await dish.join("u");
        radio.connect(`udp://127.0.0.1:${port}`);
        await weSendUntil(radio, dish, "u", "over udp");
      });
    } finally {
      radio.close();
    }
  });

  test("a zeromq.js RADIO to our DISH, unicast", async () => {
    const dish = new draft.Dish();
    try {
      await dish.bind("udp://127.0.0.1:*");
      dish.join("u");
      await withPeer({ type: "RADIO", mode: "connect", endpoint: dish.lastEndpoint! }, async (radio) => {
        await peerSendsUntil(radio, dish, "u", "from libzmq");
      });
    } finally {
      dish.close();
    }
  });

  test("multicast both ways on the 127.0.0.1 interface", async (t) => {
    if (gap) return t.skip(gap);
    const group = testGroup();
    const port = await freeUdpPort();
    const endpoint = `udp://127.0.0.1;${group}:${port}`;
    const dish = new draft.Dish();
    const radio = new draft.Radio();
    try {
      await dish.bind(endpoint);
      dish.join("mc");
      await withPeer({ type: "DISH", mode: "bind", endpoint }, async (theirDish) => {
        await theirDish.join("mc");
        radio.connect(endpoint);
        await weSendUntil(radio, theirDish, "mc", "from zmq-ts");
        await withPeer({ type: "RADIO", mode: "connect", endpoint }, async (theirRadio) => {
          await peerSendsUntil(theirRadio, dish, "mc", "from libzmq");
        });
      });
    } finally {
      dish.close(); radio.close();
    }
  });

  test("DGRAM both ways: [address, body], libzmq's address frame", async () => {
    const port = await freeUdpPort();
    const ours = new draft.Datagram();
    try {
      await ours.bind("udp://127.0.0.1:*");
      const ourAddress = ours.lastEndpoint!.slice("udp://".length);
      await withPeer({ type: "DGRAM", mode: "bind", endpoint: `udp://127.0.0.1:${port}` }, async (theirs) => {
        await ours.send([`127.0.0.1:${port}`, "to libzmq"]);
        const got = await theirs.receive();
        assert.equal(got?.frames[0]!.toString("latin1"), `${ourAddress}\0`);
        assert.equal(got?.frames[1]!.toString(), "to libzmq");
        await theirs.send([got!.frames[0]!, "to zmq-ts"]);
        const [from, body] = await within(ours.receive(), T, "dgram from libzmq");
        assert.equal(from!.toString("latin1"), `127.0.0.1:${port}\0`);
        assert.equal(body!.toString(), "to zmq-ts");
      });
    } finally {
      ours.close();
    }
  });
});
