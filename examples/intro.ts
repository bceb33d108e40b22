/**
 * The walk through the ZeroMQ + pyzmq introduction, on zmq-ts: one Context, a PAIR on
 * a random port, "hi", a Float64Array without copying, then one short exchange per
 * pattern. `npm start` runs it.
 */
import * as zmq from "../src/index.js";

const say = (line: string) => console.log(line);
const ADDR = "tcp://127.0.0.1";

async function pair(ctx: zmq.Context): Promise<void> {
  const a = ctx.socket(zmq.PAIR);
  const b = ctx.socket(zmq.PAIR);
  const port = await a.bindToRandomPort(ADDR);
  b.connect(`${ADDR}:${port}`);
  say(`PAIR      bound to a random port (${port}) on 127.0.0.1 and connected`);
  await b.send("hi");
  const [hi] = await a.receive();
  say(`PAIR      received "${hi!.toString()}"`);
  const array = Float64Array.from({ length: 8 }, (_, i) => Math.PI * i);
  await b.send(array);
  const [bytes] = await a.receive();
  const view = bytes!.byteOffset % 8 === 0
    ? new Float64Array(bytes!.buffer, bytes!.byteOffset, bytes!.byteLength / 8)
    : new Float64Array(Uint8Array.from(bytes!).buffer);
  say(`PAIR      sent a Float64Array[8] as a view of its memory; received [${[...view].map((x) => x.toFixed(2)).join(", ")}]`);
  a.close();
  b.close();
}

async function reqRep(): Promise<void> {
  const rep = new zmq.Reply();
  const req = new zmq.Request();
  await rep.bind("tcp://127.0.0.1:*");
  req.connect(rep.lastEndpoint!);
  await req.send("what is 6 x 7?");
  const [question] = await rep.receive();
  await rep.send("42");
  const [answer] = await req.receive();
  say(`REQ/REP   asked "${question}" and got "${answer}"`);
  req.close();
  rep.close();
}

async function pubSub(): Promise<void> {
  const pub = new zmq.Publisher();
  const sub = new zmq.Subscriber();
  await pub.bind("tcp://127.0.0.1:*");
  sub.connect(pub.lastEndpoint!);
  sub.subscribe("weather");
  // A subscription takes a moment to reach the publisher: publish until one arrives.
  const got = sub.receive();
  const timer = setInterval(() => void pub.send(["news", "ignored"]).then(() => pub.send(["weather", "sunny"])), 10);
  const [topic, body] = await got;
  clearInterval(timer);
  say(`PUB/SUB   subscribed to "weather"; received [${topic}, ${body}], never "news"`);
  sub.close();
  pub.close();
}

async function pushPull(): Promise<void> {
  const push = new zmq.Push();
  const workers = [new zmq.Pull(), new zmq.Pull()];
  await push.bind("ipc://*");
  for (const w of workers) w.connect(push.lastEndpoint!);
  // Wait until both workers are connected so that the load is balanced over both.
  let connected = 0;
  await new Promise<void>((resolve) => push.events.on("handshake", () => ++connected === 2 && resolve()));
  for (let i = 0; i < 4; i++) await push.send(`task ${i}`);
  const counts = await Promise.all(workers.map(async (w) => [(await w.receive())[0]!.toString(), (await w.receive())[0]!.toString()]));
  say(`PUSH/PULL over ipc: worker 1 got ${counts[0]!.join(" and ")}, worker 2 got ${counts[1]!.join(" and ")}`);
  push.close();
  for (const w of workers) w.close();
}

async function dealerRouter(): Promise<void> {
  const router = new zmq.Router();
  const dealer = new zmq.Dealer({ routingId: "engine-1" });
  await router.bind("inproc://scheduler");
  dealer.connect("inproc://scheduler");
  await dealer.send("ready");
  const [id, msg] = await router.receive();
  await router.send([id, `welcome, ${id}`]);
  const [reply] = await dealer.receive();
  say(`DEALER/ROUTER over inproc: router saw "${msg}" from "${id}" and routed back "${reply}"`);
  dealer.close();
  router.close();
}

async function xpubXsub(): Promise<void> {
  const xpub = new zmq.XPublisher();
  const xsub = new zmq.XSubscriber();
  await xpub.bind("tcp://127.0.0.1:*");
  xsub.connect(xpub.lastEndpoint!);
  await xsub.send(Buffer.from("\x01prices"));
  const [sub] = await xpub.receive();
  say(`XPUB/XSUB the XPUB saw the subscription frame ${JSON.stringify(sub!.toString("latin1"))}`);
  xsub.close();
  xpub.close();
}

async function main(): Promise<void> {
  const ctx = zmq.Context.instance();
  say(`zmq-ts speaking ZMTP 3.1, matching libzmq ${zmq.version}; one Context per process: Context.instance()`);
  await pair(ctx);
  await reqRep();
  await pubSub();
  await pushPull();
  await dealerRouter();
  await xpubXsub();
  say("done: every socket closed");
}

const watchdog = setTimeout(() => {
  console.error("intro: timed out");
  process.exit(1);
}, 20_000);
watchdog.unref();
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
