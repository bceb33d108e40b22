// The PGM receiver and sender state machines without I/O: gaps, NAKs, NCF, repair,
// and losses when repair is impossible (a silent source, or one whose window moved on).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PgmReceiver, type LossReport } from "../../src/transport/pgm/receiver.js";
import { PgmSender } from "../../src/transport/pgm/sender.js";
import { decodePacket, type PgmPacket } from "../../src/transport/pgm/packet.js";
import { TsduEncoder } from "../../src/transport/pgm/framing.js";
import type { Message } from "../../src/pipe/msg-queue.js";

const GROUP = "239.192.1.1";
const gsi = Buffer.from("0102030405060708", "hex").subarray(0, 6);

function rig(recoveryInterval = 1000) {
  const sent: Buffer[] = []; // downstream, from the sender
  const upstream: Buffer[] = []; // NAKs / SPMRs from the receiver
  const delivered: string[] = [];
  const losses: LossReport[] = [];
  const sender = new PgmSender(
    { gsi, sport: 4242, port: 7000, group: GROUP, nla: "10.0.0.1", windowSqns: 50, rateBytes: 1e9 },
    { multicast: (b) => sent.push(b) }, 0,
  );
  const receiver = new PgmReceiver(
    { port: 7000, group: GROUP, recoveryInterval, maxMessageSize: -1, random: () => 0.5 },
    {
      unicast: (b, to) => { assert.equal(to, "10.0.0.1"); upstream.push(b); },
      deliver: (m) => { delivered.push(m.map(String).join("|")); return true; },
      loss: (r) => losses.push(r),
    },
  );
  const enc = new TsduEncoder(1428);
  const send = (text: string, now: number) => {
    const q: Message[] = [[Buffer.from(text)] as Message];
    sender.sendData(enc.encode(() => q.shift())!, now);
  };
  const dec = (b: Buffer) => decodePacket(b) as PgmPacket;
  return { sender, receiver, sent, upstream, delivered, losses, send, dec };
}

test("a dropped ODATA is NAKed after the back-off, confirmed (NCF) and repaired (RDATA)", () => {
  const r = rig();
  for (const b of r.sent.splice(0)) r.receiver.onPacket(r.dec(b), "10.0.0.1", 0); // SPMs: NLA learnt
  for (let i = 0; i < 5; i++) r.send(`m${i}`, 1);
  const odata = r.sent.splice(0);
  odata.forEach((b, i) => { if (i !== 2) r.receiver.onPacket(r.dec(b), "10.0.0.1", 2); });
  assert.deepEqual(r.delivered, ["m0", "m1"]);
  assert.equal(r.upstream.length, 0);
  r.receiver.tick(2 + 24); // back-off is random() x 50 ms = 25 ms: not yet
  assert.equal(r.upstream.length, 0);
  r.receiver.tick(2 + 25);
  assert.equal(r.upstream.length, 1);
  const nak = r.dec(r.upstream[0]!);
  assert.equal(nak.type, "nak");
  assert.deepEqual((nak as PgmPacket & { type: "nak" }).sqns, [2]);
  r.sender.onPacket(nak, 30);
  const [ncf, rdata] = r.sent.splice(0).map(r.dec);
  assert.equal(ncf!.type, "ncf");
  assert.equal(rdata!.type, "rdata");
  r.receiver.onPacket(ncf!, "10.0.0.1", 31);
  r.receiver.onPacket(rdata!, "10.0.0.1", 31);
  assert.deepEqual(r.delivered, ["m0", "m1", "m2", "m3", "m4"]);
  assert.equal(r.receiver.stats.repaired, 1);
  assert.deepEqual(r.losses, []);
});

test("tail loss is found from the SPM heartbeat's lead", () => {
  const r = rig();
  for (const b of r.sent.splice(0)) r.receiver.onPacket(r.dec(b), "10.0.0.1", 0);
  r.send("a", 1);
  r.send("b", 1);
  const [a] = r.sent.splice(0);
  r.receiver.onPacket(r.dec(a!), "10.0.0.1", 1);
  r.sender.tick(101); // heartbeat SPM, lead 1
  for (const b of r.sent.splice(0)) r.receiver.onPacket(r.dec(b), "10.0.0.1", 101);
  r.receiver.tick(200);
  assert.equal(r.upstream.length, 1);
  assert.deepEqual((r.dec(r.upstream[0]!) as PgmPacket & { sqns: number[] }).sqns, [1]);
});

test("a silent source: the gap is given up after recoveryInterval, a pgm loss is reported, later data flows", () => {
  const r = rig(300);
  for (const b of r.sent.splice(0)) r.receiver.onPacket(r.dec(b), "10.0.0.1", 0);
  for (let i = 0; i < 4; i++) r.send(`m${i}`, 1);
  r.sent.splice(0).forEach((b, i) => { if (i !== 1) r.receiver.onPacket(r.dec(b), "10.0.0.1", 1); });
  // the sender never answers: NAKs repeat every 200 ms until the recovery interval ends
  for (let t = 1; t <= 400; t += 10) r.receiver.tick(t);
  assert.ok(r.upstream.length >= 2, "NAK repeated");
  assert.equal(r.losses.length, 1);
  assert.equal(r.losses[0]!.lost, 1);
  assert.match(r.losses[0]!.source, /^010203040506\.4242$/);
  // m2 and m3 waited behind the hole; each is a whole message in its own TSDU, so they follow
  assert.deepEqual(r.delivered, ["m0", "m2", "m3"]);
  assert.equal(r.receiver.tick(1000), null, "nothing left to wait for: no hang");
});

test("a receiver that fell behind the source's window gets a loss, not a hang", () => {
  const r = rig(10_000);
  for (const b of r.sent.splice(0)) r.receiver.onPacket(r.dec(b), "10.0.0.1", 0);
  r.send("first", 1);
  r.receiver.onPacket(r.dec(r.sent.splice(0)[0]!), "10.0.0.1", 1);
  for (let i = 0; i < 120; i++) r.send(`x${i}`, 2); // window is 50: the first 70 of these are gone
  const all = r.sent.splice(0);
  r.receiver.onPacket(r.dec(all.at(-1)!), "10.0.0.1", 3); // trail now 71
  assert.equal(r.losses.length, 1);
  assert.equal(r.losses[0]!.lost, 70);
  assert.ok(r.delivered.includes("first"));
  // the rest (sqn 71..119) are gaps that can still be repaired
  for (const b of all.slice(70)) r.receiver.onPacket(r.dec(b), "10.0.0.1", 4);
  assert.equal(r.delivered.at(-1), "x119");
  assert.equal(r.delivered.length, 1 + 50);
});

test("the sender paces ODATA to `rate`: over a simulated second, the rate plus one burst at most", () => {
  const sent: Buffer[] = [];
  const rateBytes = 100_000; // rate 800 kbit/s, as libzmq's option would give it
  const sender = new PgmSender(
    { gsi, sport: 4242, port: 7000, group: GROUP, nla: "10.0.0.1", windowSqns: 1000, rateBytes },
    { multicast: (b) => sent.push(b) }, 0,
  );
  const spms = sent.length;
  const tsdu = Buffer.alloc(1000, 7);
  let now = 0;
  let held = 0;
  while (now < 1000 && sent.length < 10_000) { // an unpaced sender stops at 10,000 packets and fails below
    if (sender.canSend(tsdu.length, now)) sender.sendData(tsdu, now);
    else {
      held++;
      now += Math.max(1, sender.waitFor(tsdu.length));
    }
  }
  const bytes = sent.slice(spms).reduce((n, b) => n + b.length + 28, 0);
  assert.ok(held > 0, "the sender had to wait");
  assert.ok(bytes <= rateBytes + Math.max(1528, rateBytes / 20) + 1100, `${bytes} bytes in 1 s at ${rateBytes} B/s`);
  assert.ok(bytes >= rateBytes * 0.9, `${bytes} bytes in 1 s at ${rateBytes} B/s: too slow`);
});
