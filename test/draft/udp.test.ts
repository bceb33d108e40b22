/**
 * udp:// for RADIO/DISH and DGRAM, zmq-ts against zmq-ts and against raw node:dgram
 * datagrams (libzmq 4.3's wire form: group length, group, body; DGRAM: [ip:port, body]).
 */
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket as DgramSocket } from "node:dgram";
import * as draft from "../../src/draft/index.js";
import { within } from "../helpers/util.js";
import { multicastGap, testGroup } from "./udp-helpers.js";

const T = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rawSocket(): Promise<DgramSocket> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
  return s;
}

const portOf = (endpoint: string) => Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));

/** Sends until the dish has the message (udp has no handshake: the dish may not be reading yet). */
async function sendUntil(radio: draft.Radio, dish: draft.Dish, group: string, body: string): Promise<void> {
  const timer = setInterval(() => void radio.send(body, { group }), 10);
  try {
    for (;;) {
      const [msg, meta] = await within(dish.receive(), T, `${group} over udp`);
      if (msg.toString() === body && meta.group.toString() === group) return;
    }
  } finally {
    clearInterval(timer);
  }
}

describe("RADIO/DISH over udp unicast", () => {
  test("the dish gets the groups it joined, with the group", async () => {
    const dish = new draft.Dish();
    const radio = new draft.Radio();
    try {
      await dish.bind("udp://127.0.0.1:*");
      assert.match(dish.lastEndpoint!, /^udp:\/\/127\.0\.0\.1:\d+$/);
      dish.join("tv");
      radio.connect(dish.lastEndpoint!);
      await radio.send("ignored", { group: "radio" });
      await radio.send("show", { group: "tv" });
      const [msg, { group }] = await within(dish.receive(), T, "tv over udp");
      assert.deepEqual([msg.toString(), group.toString()], ["show", "tv"]);
    } finally {
      dish.close(); radio.close();
    }
  });

  test("datagrams are libzmq's: length byte, group, body", async () => {
    const raw = await rawSocket();
    const radio = new draft.Radio();
    try {
      const got = new Promise<Buffer>((resolve) => raw.once("message", resolve));
      radio.connect(`udp://127.0.0.1:${raw.address().port}`);
      await radio.send("body", { group: "grp" });
      assert.equal((await within(got, T, "the datagram")).toString("latin1"), "\x03grpbody");
    } finally {
      radio.close(); raw.close();
    }
  });

  test("malformed datagrams are dropped and the dish carries on", async () => {
    const raw = await rawSocket();
    const dish = new draft.Dish();
    try {
      await dish.bind("udp://127.0.0.1:*");
      dish.join("g");
      const port = portOf(dish.lastEndpoint!);
      const send = (b: Buffer) => new Promise<void>((r) => raw.send(b, port, "127.0.0.1", () => r()));
      await send(Buffer.alloc(0)); // nothing at all
      await send(Buffer.from("\x05g", "latin1")); // announces 5 bytes of group, has 1
      await send(Buffer.from([0xff])); // 255 bytes of group announced, none there
      await send(Buffer.from("\x01hnot joined", "latin1"));
      await send(Buffer.from("\x01gvalid", "latin1"));
      const [msg, { group }] = await within(dish.receive(), T, "the valid datagram");
      assert.deepEqual([msg.toString(), group.toString()], ["valid", "g"]);
      await send(Buffer.from("\x01g", "latin1")); // empty body is a valid message
      assert.equal((await within(dish.receive(), T, "empty body"))[0].length, 0);
    } finally {
      dish.close(); raw.close();
    }
  });
});

describe("RADIO/DISH over udp multicast (loopback)", () => {
  let gap: string | null = null;
  before(async () => { gap = await multicastGap(); });

  test("interface by address: udp://127.0.0.1;239.x.y.z:port", async (t) => {
    if (gap) return t.skip(gap);
    const group = testGroup();
    const d1 = new draft.Dish();
    const d2 = new draft.Dish();
    const radio = new draft.Radio();
    try {
      await d1.bind(`udp://127.0.0.1;${group}:*`);
      const port = portOf(d1.lastEndpoint!);
      await d2.bind(`udp://127.0.0.1;${group}:${port}`); // both listen to the group's port
      d1.join("m");
      d2.join("m");
      radio.connect(`udp://127.0.0.1;${group}:${port}`);
      await sendUntil(radio, d1, "m", "to the group");
      await sendUntil(radio, d2, "m", "to the group");
    } finally {
      d1.close(); d2.close(); radio.close();
    }
  });

  test("interface by name (lo) and multicastHops", async (t) => {
    if (gap) return t.skip(gap);
    const group = testGroup();
    const dish = new draft.Dish();
    const radio = new draft.Radio({ multicastHops: 2 });
    try {
      await dish.bind(`udp://lo;${group}:*`);
      dish.join("n");
      assert.equal(radio.multicastHops, 2);
      radio.connect(`udp://lo;${group}:${portOf(dish.lastEndpoint!)}`);
      await sendUntil(radio, dish, "n", "named interface");
    } finally {
      dish.close(); radio.close();
    }
  });

  test("multicastLoop false: this host does not hear its own multicast", async (t) => {
    if (gap) return t.skip(gap);
    const group = testGroup();
    const dish = new draft.Dish();
    const quiet = new draft.Radio({ multicastLoop: false });
    const loud = new draft.Radio();
    try {
      assert.equal(quiet.multicastLoop, false);
      assert.equal(loud.multicastLoop, true);
      await dish.bind(`udp://127.0.0.1;${group}:*`);
      dish.join("x");
      const endpoint = `udp://127.0.0.1;${group}:${portOf(dish.lastEndpoint!)}`;
      quiet.connect(endpoint);
      loud.connect(endpoint);
      for (let i = 0; i < 5; i++) await quiet.send("quiet", { group: "x" });
      await sleep(300);
      await sendUntil(loud, dish, "x", "loud");
      dish.receiveTimeout = 200;
      // Whatever is left is loud's extra copies, never quiet's.
      for (;;) {
        let msg: Buffer;
        try { [msg] = await dish.receive(); } catch { break; }
        assert.equal(msg.toString(), "loud");
      }
    } finally {
      dish.close(); quiet.close(); loud.close();
    }
  });
});

describe("DGRAM over udp", () => {
  test("messages are [address, body]; replies go back to the address received", async () => {
    const a = new draft.Datagram();
    const b = new draft.Datagram();
    try {
      await a.bind("udp://127.0.0.1:*");
      await b.bind("udp://127.0.0.1:*");
      const aAddr = a.lastEndpoint!.slice("udp://".length);
      await b.send([aAddr, "hello"]);
      const [from, body] = await within(a.receive(), T, "dgram");
      assert.equal(body!.toString(), "hello");
      // libzmq's address frame: "ip:port" and a NUL.
      assert.equal(from!.toString("latin1"), `${b.lastEndpoint!.slice("udp://".length)}\0`);
      await a.send([from!, "back"]);
      const [from2, body2] = await within(b.receive(), T, "reply");
      assert.equal(body2!.toString(), "back");
      assert.equal(from2!.toString("latin1"), `${aAddr}\0`);
    } finally {
      a.close(); b.close();
    }
  });

  test("anything but two frames is EINVAL; a bad address drops the message", async () => {
    const raw = await rawSocket();
    const a = new draft.Datagram();
    try {
      await a.bind("udp://127.0.0.1:*");
      await assert.rejects(a.send(["only one"]), { code: "EINVAL" });
      await assert.rejects(a.send([`127.0.0.1:${raw.address().port}`, "b", "c"]), { code: "EINVAL" });
      const got = new Promise<Buffer>((resolve) => raw.once("message", resolve));
      await a.send(["not an address", "dropped"]);
      await a.send(["127.0.0.1:99999", "dropped"]);
      await a.send([`127.0.0.1:${raw.address().port}`, "delivered"]);
      assert.equal((await within(got, T, "datagram")).toString(), "delivered");
    } finally {
      a.close(); raw.close();
    }
  });

  test("DGRAM cannot connect (ENOCOMPATPROTO, as libzmq 4.3)", () => {
    const a = new draft.Datagram();
    try {
      assert.throws(() => a.connect("udp://127.0.0.1:5555"), { code: "ENOCOMPATPROTO" });
    } finally {
      a.close();
    }
  });
});

describe("udp endpoints as libzmq parses them", () => {
  test("an interface needs a multicast group; an unknown interface is ENODEV", async () => {
    const dish = new draft.Dish();
    try {
      await assert.rejects(dish.bind("udp://127.0.0.1;127.0.0.2:5555"), { code: "EINVAL" });
      await assert.rejects(dish.bind("udp://nosuch0;239.1.1.1:5555"), { code: "ENODEV" });
      await assert.rejects(dish.bind("udp://127.0.0.1"), { code: "EINVAL" });
    } finally {
      dish.close();
    }
  });
});
