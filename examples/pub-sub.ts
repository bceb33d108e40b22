/**
 * Publish-subscribe and the "slow joiner": a SUB that connects after the PUB started
 * misses what was published before its subscription arrived. Two ways out:
 *   1. wait for the subscription at the publisher (an XPUB receives it as a message);
 *   2. synchronise out of band (here: the subscriber tells a REP "I am ready").
 * Run: node --import tsx examples/pub-sub.ts
 */
import * as zmq from "../src/index.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The problem: publish right after connect, and the first messages are gone. */
async function lateJoiner(): Promise<void> {
  const pub = new zmq.Publisher();
  await pub.bind("tcp://127.0.0.1:*");
  const sub = new zmq.Subscriber({ receiveTimeout: 300 });
  sub.connect(pub.lastEndpoint!);
  sub.subscribe("tick");
  for (let i = 0; i < 5; i++) await pub.send(["tick", String(i)]);   // nobody is subscribed yet: dropped
  await sleep(100);                                                    // now the subscription has arrived
  for (let i = 5; i < 10; i++) await pub.send(["tick", String(i)]);
  const got: string[] = [];
  try {
    for (;;) got.push((await sub.receive())[1]!.toString());
  } catch (e) {
    if ((e as zmq.ZmqError).code !== "EAGAIN") throw e;               // receiveTimeout expired: done
  }
  console.log(`late joiner: published 0..9, received [${got.join(",")}] (the first ones were dropped at the publisher)`);
  sub.close();
  pub.close();
}

/** Fix 1: an XPUB sees each subscription as a message ("\x01" + topic); publish after it. */
async function waitForSubscription(): Promise<void> {
  const pub = new zmq.XPublisher();
  await pub.bind("tcp://127.0.0.1:*");
  const sub = new zmq.Subscriber();
  sub.connect(pub.lastEndpoint!);
  sub.subscribe("tick");
  const [frame] = await pub.receive();
  console.log(`xpub saw subscription ${JSON.stringify(frame!.toString("latin1"))}`);
  for (let i = 0; i < 10; i++) await pub.send(["tick", String(i)]);
  const got: string[] = [];
  for (let i = 0; i < 10; i++) got.push((await sub.receive())[1]!.toString());
  console.log(`xpub fix: received all 10 [${got.join(",")}]`);
  sub.close();
  pub.close();
}

/** Fix 2: the subscriber says it is ready over REQ/REP (the Guide's "node coordination"). */
async function outOfBandSync(): Promise<void> {
  const pub = new zmq.Publisher();
  const sync = new zmq.Reply();
  await pub.bind("tcp://127.0.0.1:*");
  await sync.bind("tcp://127.0.0.1:*");

  const sub = new zmq.Subscriber();
  sub.connect(pub.lastEndpoint!);
  sub.subscribe("");                                                   // everything
  const hello = new zmq.Request();
  hello.connect(sync.lastEndpoint!);

  // The subscription travels on another connection than the sync request, so a REQ
  // alone is no proof: probe with "hello" messages until one arrives, then sync.
  const probe = setInterval(() => void pub.send(["hello"]), 10);
  await sub.receive();
  clearInterval(probe);
  await hello.send("ready");
  await sync.receive();
  await sync.send("go");
  await hello.receive();

  for (let i = 0; i < 10; i++) await pub.send(["tick", String(i)]);
  await pub.send(["END"]);
  const got: string[] = [];
  for (;;) {
    const [topic, body] = await sub.receive();
    if (topic!.toString() === "END") break;
    if (topic!.toString() === "tick") got.push(body!.toString());
  }
  console.log(`sync fix: received all ${got.length} [${got.join(",")}]`);
  for (const s of [sub, hello, sync, pub]) s.close();
}

async function main(): Promise<void> {
  await lateJoiner();
  await waitForSubscription();
  await outOfBandSync();
  console.log("pub-sub: done");
}

main().catch((e) => { console.error(e); process.exit(1); });
