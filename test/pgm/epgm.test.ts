// epgm:// end to end between zmq-ts sockets on the loopback interface (one process: the
// PUB and the SUB share the port's UDP socket), and the errors: pgm:// refused, PGM on
// a socket type other than PUB/XPUB/SUB/XSUB refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { Publisher, Subscriber, Push } from "../../src/index.js";

/** Multicast on loopback needs dgram multicast support; say what is missing instead of failing. */
async function multicastGap(): Promise<string | null> {
  const s = dgram.createSocket({ type: "udp4", reuseAddr: true });
  try {
    await new Promise<void>((res, rej) => { s.once("error", rej); s.bind(0, () => res()); });
    s.addMembership("239.192.77.1", "127.0.0.1");
    s.setMulticastInterface("127.0.0.1");
    return null;
  } catch (e) {
    return `this runtime's node:dgram cannot join a multicast group on 127.0.0.1: ${(e as Error).message}`;
  } finally {
    s.close();
  }
}
const gap = await multicastGap();
const port = () => 20000 + Math.floor(Math.random() * 20000);

test("our PUB -> our SUB over epgm:// on loopback: topics filtered locally, multipart and large messages whole", { skip: gap ?? false, timeout: 20000 }, async () => {
  const ep = `epgm://127.0.0.1;239.192.77.1:${port()}`;
  const sub = new Subscriber({ receiveTimeout: 5000 });
  const pub = new Publisher({ rate: 100000, linger: 1000 });
  try {
    sub.subscribe("a");
    sub.connect(ep);
    await pub.bind(ep);
    await new Promise((r) => setTimeout(r, 200));
    const big = Buffer.alloc(5000, 7);
    for (let i = 0; i < 50; i++) await pub.send(i % 2 ? ["b", `skip ${i}`] : ["a", `keep ${i}`, big]);
    for (let i = 0; i < 50; i += 2) {
      const [t, body, payload] = await sub.receive();
      assert.equal(String(t), "a");
      assert.equal(String(body), `keep ${i}`);
      assert.ok(payload!.equals(big));
    }
  } finally {
    sub.close();
    pub.close();
  }
});

test("pgm:// is refused with EPROTONOSUPPORT (raw IP sockets are not available in Node)", async () => {
  const pub = new Publisher();
  try {
    await assert.rejects(pub.bind("pgm://127.0.0.1;239.192.77.1:5555"), (e: Error & { code?: string }) => {
      assert.equal(e.code, "EPROTONOSUPPORT");
      assert.match(e.message, /raw IP sockets/);
      return true;
    });
    assert.throws(() => pub.connect("pgm://eth0;239.192.77.1:5555"), { code: "EPROTONOSUPPORT" });
  } finally {
    pub.close();
  }
});

test("epgm:// on a PUSH is ENOCOMPATPROTO; a bad endpoint is EINVAL", async () => {
  const push = new Push();
  const pub = new Publisher();
  try {
    assert.throws(() => push.connect("epgm://127.0.0.1;239.192.77.1:5555"), { code: "ENOCOMPATPROTO" });
    assert.throws(() => pub.connect("epgm://127.0.0.1;10.0.0.1:5555"), { code: "EINVAL" });
    assert.throws(() => pub.connect("epgm://127.0.0.1;239.192.77.1"), { code: "EINVAL" });
  } finally {
    push.close();
    pub.close();
  }
});
